// The shape every `vps-operator <subcommand>` implements, and the one error type that means
// "the user typed something wrong": the CLI prints its message and exits 2 before anything
// starts. Flags are parsed with node:util parseArgs (no extra dependency for a few flags).

/** A subcommand of `vps-operator`. */
export interface Command {
  /** The word after `vps-operator`, e.g. `simulator`. */
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** The full `--help` text (usage, every flag with its default, examples). */
  help: string;
  /**
   * Runs the command with the arguments after its name. Resolves to the process exit code once
   * the command has finished (for servers: after a graceful shutdown on SIGINT/SIGTERM).
   * Throws UsageError for bad flags or configuration.
   */
  run(argv: string[]): Promise<number>;
}

/** Bad flags, environment or configuration file: printed with the command's name, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
