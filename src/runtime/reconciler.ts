// The one contract between the engine and a domain controller, after controller-runtime's
// Reconcile(ctx, Request) (Result, error): the domain never sees a queue, a timer or a watch.

/** What a reconcile pass asks the engine to do next with its key. */
export type Result =
  | { kind: 'done' }
  | { kind: 'requeueAfter'; ms: number }
  /**
   * The pass gave its worker back before trying, because a call would have waited long (its
   * account's budget is paused or has a long line): run it again after `ms`. Neither a
   * success nor a failure, so the key's backoff is left as it was.
   */
  | { kind: 'deferred'; ms: number };

/**
 * Brings the world in line with the object named by `key` (namespace/name), one pass.
 * Resolve `done` when nothing is left to do until the object changes, `requeueAfter` to look
 * again later. Throw to mean "back off and try again": the engine logs the error with the key
 * and retries with per-key exponential backoff; it never crashes the process.
 * `signal` aborts when the process is shutting down and the grace period is over.
 */
export interface Reconciler {
  reconcile(key: string, signal: AbortSignal): Promise<Result>;
}

export const done = (): Result => ({ kind: 'done' });

export const requeueAfter = (ms: number): Result => ({ kind: 'requeueAfter', ms });

export const deferred = (ms: number): Result => ({ kind: 'deferred', ms });

/**
 * Thrown when a pass was based on a view that moved on (a write refused with 409 Conflict):
 * nothing is wrong, the engine retries the key with backoff as for any error but logs it at
 * debug level, as controller-runtime treats a conflict. Logged as an error with a stack, every
 * ordinary race between two watch events read as a failure in `make dev` and on call.
 */
export class StaleViewError extends Error {
  override name = 'StaleViewError';
}
