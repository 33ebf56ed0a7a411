// One shared budget for every call to an external API (built on p-queue): a sliding-window
// rate, a concurrency cap, priorities (user writes before periodic observation) and a global
// pause when the API says "retry after": no call starts before that deadline. Generic: the
// caller's classifier, not this file, knows what a throttling answer looks like.

import PQueue from 'p-queue';
import { type Clock, systemClock, type Timer } from './clock.ts';
import { type CallBudgetMetrics, type CallOutcome, noCallBudgetMetrics } from './metrics-hooks.ts';

/** Conventional priorities; higher starts first, equal priorities keep their order. */
export const callPriority = {
  /** A write a user asked for by changing a resource: first in line. */
  write: 10,
  /** A periodic look at the provider's state: waits behind writes. */
  observe: 0,
} as const;

export interface CallBudgetOptions {
  /** Calls that may start within any `intervalMs` window. @default Infinity (no rate limit) */
  perInterval?: number;
  /** Length of the rate window, in ms. @default 1000 */
  intervalMs?: number;
  /** Calls running at the same time. @default 8 */
  concurrency?: number;
  /**
   * Reads a failed call's error and returns the delay the API asked for (e.g. a 429's
   * Retry-After, in ms), or undefined when the error is not a throttle. A positive delay
   * pauses the whole budget. @default never pauses by itself (call pauseFor)
   */
  retryAfterMs?: (error: unknown) => number | undefined;
  /** Timer for the pause; p-queue's own rate window uses the global timers. @default systemClock */
  clock?: Clock;
  /** @default no metrics */
  metrics?: CallBudgetMetrics;
}

export interface CallOptions {
  /** Higher starts first. @default callPriority.observe */
  priority?: number;
  /**
   * Abandons the call: removed from the line if it has not started (rejects with the reason);
   * if it has, `fn` should honour the same signal, because the slot is freed at once.
   */
  signal?: AbortSignal;
}

export class CallBudget {
  readonly #queue: PQueue;
  readonly #clock: Clock;
  readonly #metrics: CallBudgetMetrics;
  readonly #retryAfterMs: (error: unknown) => number | undefined;
  #pausedUntil: number | undefined;
  #resumeTimer: Timer | undefined;

  constructor(options: CallBudgetOptions = {}) {
    const perInterval = options.perInterval ?? Number.POSITIVE_INFINITY;
    const rateLimited = Number.isFinite(perInterval);
    this.#queue = new PQueue({
      concurrency: options.concurrency ?? 8,
      ...(rateLimited
        ? { intervalCap: perInterval, interval: options.intervalMs ?? 1000, strict: true }
        : {}),
    });
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? noCallBudgetMetrics;
    this.#retryAfterMs = options.retryAfterMs ?? (() => undefined);
  }

  /** Calls waiting for their turn (including those held by a pause). */
  get waiting(): number {
    return this.#queue.size;
  }

  /** Calls running now. */
  get running(): number {
    return this.#queue.pending;
  }

  /** When a pause ends (epoch ms), or undefined when the budget is not paused. */
  get pausedUntil(): number | undefined {
    return this.#pausedUntil;
  }

  /** Runs `fn` when the budget allows; settles with its result or error. */
  async run<T>(fn: () => Promise<T>, options: CallOptions = {}): Promise<T> {
    const queuedAt = this.#clock.now();
    let startedAt: number | undefined;
    const call = async (): Promise<T> => {
      startedAt = this.#clock.now();
      this.#metrics.waited((startedAt - queuedAt) / 1000);
      this.#metrics.waiting(this.#queue.size);
      try {
        const value = await fn();
        this.#finished('ok', startedAt);
        return value;
      } catch (err) {
        this.#finished(this.#throttled(err) ? 'throttled' : 'error', startedAt);
        throw err;
      }
    };
    const result = this.#queue.add(call, {
      priority: options.priority ?? callPriority.observe,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.#metrics.waiting(this.#queue.size);
    try {
      return await result;
    } catch (err) {
      if (startedAt === undefined) this.#finished('aborted', queuedAt);
      throw err;
    }
  }

  /**
   * Holds every call that has not started until `ms` from now. Calls already running go on.
   * A shorter pause never cuts a longer one short.
   */
  pauseFor(ms: number): void {
    if (ms <= 0) return;
    const until = this.#clock.now() + ms;
    if (this.#pausedUntil !== undefined && until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#queue.pause();
    this.#resumeTimer?.cancel();
    this.#resumeTimer = this.#clock.setTimer(ms, () => {
      this.#pausedUntil = undefined;
      this.#resumeTimer = undefined;
      this.#queue.start();
    });
  }

  /** Resolves once nothing is waiting or running. */
  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }

  #throttled(err: unknown): boolean {
    const ms = this.#retryAfterMs(err);
    if (ms === undefined || !(ms > 0)) return false;
    this.pauseFor(ms);
    return true;
  }

  #finished(outcome: CallOutcome, since: number): void {
    this.#metrics.called(outcome, (this.#clock.now() - since) / 1000);
  }
}
