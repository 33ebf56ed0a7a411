#!/usr/bin/env node
// Entry point of the `vps-operator` command: dispatches to a subcommand and turns a
// UsageError into "exit 2 with a message naming the flag", before anything starts.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { REPO_ROOT } from '../repo-root.ts';
import { type Command, UsageError } from './command.ts';

const loaders: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run-command.ts')).runCommand,
  dev: async () => (await import('./dev-command.ts')).devCommand,
  simulator: async () => (await import('./simulator-command.ts')).simulatorCommand,
};

const { version: VERSION } = JSON.parse(readFileSync(new URL('package.json', REPO_ROOT), 'utf8')) as {
  version: string;
};

function topHelp(commands: string[]): string {
  return [
    'vps-operator — makes VPS.org servers declarative in Kubernetes',
    '',
    'Usage: vps-operator <command> [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c}`),
    '  version     print the version',
    '',
    'Run `vps-operator <command> --help` for the flags of a command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'version' || name === '--version') {
    process.stdout.write(`vps-operator ${VERSION}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const commands = await Promise.all(Object.values(loaders).map((load) => load()));
    process.stdout.write(`${topHelp(commands.map((c) => `${c.name.padEnd(11)} ${c.summary}`))}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = loaders[name];
  if (load === undefined) {
    process.stderr.write(`vps-operator: unknown command "${name}"; run \`vps-operator --help\`\n`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vps-operator ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
