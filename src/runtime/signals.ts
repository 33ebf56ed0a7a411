// Runs a Manager until SIGTERM/SIGINT and turns the outcome into an exit code: a signal means a
// graceful stop and exit 0 (Kubernetes sends SIGTERM on every rollout, so it is not an error);
// caches that never sync, or a lost leader lease (the pod restarts as a standby), mean exit 1. A second signal while stopping exits at once, as
// controller-runtime does, for an operator who really means it.

import type { Logger } from 'pino';

/** The part of `process` this needs, so tests can send signals without killing the runner. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

/** The part of Manager this needs. */
export interface Stoppable {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves when the lease is lost: stop and exit 1, as controller-runtime does. */
  readonly leadershipLost?: Promise<void>;
}

export interface RunOptions {
  logger: Logger;
  /** @default ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[];
  /** @default process */
  source?: SignalSource;
  /** Called on a second signal while stopping. @default process.exit */
  exit?: (code: number) => void;
}

/**
 * Starts `manager`, waits for the first signal, stops it gracefully. Resolves the exit code:
 * 0 after a signal, 1 if start() failed or the lease was lost (the manager is stopped first in
 * every case).
 */
export async function runUntilSignalled(manager: Stoppable, options: RunOptions): Promise<number> {
  const source = options.source ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const log = options.logger;
  let stopping = false;
  let beginStop: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    beginStop = () => {
      stopping = true;
      resolve();
    };
  });
  const listeners = (options.signals ?? ['SIGTERM', 'SIGINT']).map((signal) => {
    const listener = (): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal while stopping; exiting now');
        exit(1);
        return;
      }
      log.info({ signal }, 'signal received; shutting down gracefully');
      beginStop();
    };
    source.on(signal, listener);
    return { signal, listener };
  });
  let failed = false;
  manager.start().catch((err: unknown) => {
    log.error({ err }, 'manager failed to start; shutting down');
    failed = true;
    beginStop();
  });
  void manager.leadershipLost?.then(() => {
    log.error('leader lease lost; shutting down');
    failed = true;
    beginStop();
  });
  try {
    await stopRequested;
    await manager.stop();
    return failed ? 1 : 0;
  } finally {
    for (const { signal, listener } of listeners) source.off(signal, listener);
  }
}
