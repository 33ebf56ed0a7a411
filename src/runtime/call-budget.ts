// The budget for the calls to one external account (an API token), built on p-queue: a rate
// that may change while calls wait (learned from throttling answers, AIMD-style, or split
// between shards), a concurrency cap, an optional cap shared with other budgets (a total), a
// pause when the API says "retry after", and a fair line: the highest priority first (user
// writes before periodic observation), round-robin between flows (namespaces) at equal
// priority. Generic: the caller's classifier, not this file, knows what a throttle looks like.
//
// What p-queue 10 gives and what it does not: concurrency, priorities, abort signals and pause
// are its own, and its `queueClass` hook takes our fair line (fair-queue.ts). Its rate limit
// (`intervalCap`/`interval`) is fixed at construction and private to one queue, and its
// priority line is one FIFO per priority with no notion of whose call it is: so the rate lives
// in StartPacer (start-pacer.ts), which pauses and restarts the queue, and fairness in the
// queue class.

import PQueue from 'p-queue';
import { currentCallFlow } from './call-flow.ts';
import { type Clock, systemClock, type Timer } from './clock.ts';
import { FairQueue, type FairQueueOptions } from './fair-queue.ts';
import { type CallBudgetMetrics, type CallOutcome, noCallBudgetMetrics } from './metrics-hooks.ts';
import { StartPacer } from './start-pacer.ts';

/** Conventional priorities; higher starts first, equal priorities keep their order. */
export const callPriority = {
  /** A write a user asked for by changing a resource: first in line. */
  write: 10,
  /** A periodic look at the provider's state: waits behind writes. */
  observe: 0,
} as const;

/** How the rate follows throttling answers: additive increase, multiplicative decrease. */
export interface AdaptiveRate {
  /** The rate is multiplied by this on a throttle. @default 0.5 */
  decrease?: number;
  /** After this long without a throttle (and with calls going through), the rate grows. @default 10000 */
  recoverEveryMs?: number;
  /** How much it grows each time, as a fraction of the configured rate. @default 0.1 */
  recoverStep?: number;
  /** Never below this many calls per second. @default 0.2 */
  floorPerSecond?: number;
}

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
  /** Learn the API's real limit from throttles; the rate never goes above `perInterval`. @default off */
  adaptive?: AdaptiveRate | boolean;
  /** A pacer shared with other budgets: no call starts while it is full either. @default none */
  total?: StartPacer;
  /** Told of every throttle this budget sees (e.g. to pause the other shards). @default none */
  onThrottled?: (retryAfterMs: number) => void;
  /**
   * A wait longer than this is long: longWait() reports it, so a caller holding something
   * others need (a reconcile worker) can come back when the budget is ready instead of queueing.
   * @default 1000
   */
  longWaitMs?: number;
  /** Timer for pauses and rate windows. @default systemClock */
  clock?: Clock;
  /** @default no metrics */
  metrics?: CallBudgetMetrics;
}

export interface CallOptions {
  /** Higher starts first. @default callPriority.observe */
  priority?: number;
  /**
   * Whose call this is: calls of different flows at the same priority take turns.
   * @default the flow of the work running now (withCallFlow), else ''
   */
  flow?: string;
  /**
   * Abandons the call: removed from the line if it has not started (rejects with the reason);
   * if it has, `fn` should honour the same signal, because the slot is freed at once.
   */
  signal?: AbortSignal;
}

export class CallBudget {
  readonly #line: FairQueue;
  readonly #queue: PQueue<FairQueue, FairQueueOptions>;
  readonly #clock: Clock;
  readonly #metrics: CallBudgetMetrics;
  readonly #retryAfterMs: (error: unknown) => number | undefined;
  readonly #onThrottled: ((ms: number) => void) | undefined;
  readonly #pacer: StartPacer;
  readonly #total: StartPacer | undefined;
  readonly #unsubscribe: (() => void) | undefined;
  /** The configured rate (calls/s): a share or override may lower it, AIMD stays below it. */
  #limit: number;
  /** What AIMD has learned (calls/s); the pacer runs at min(limit, learned). */
  #learned: number;
  readonly #adaptive: Required<AdaptiveRate> | undefined;
  readonly #longWaitMs: number;
  #lastChangeAt: number;
  #pausedUntil: number | undefined;
  #timer: Timer | undefined;
  #timerAt = 0;

  constructor(options: CallBudgetOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? noCallBudgetMetrics;
    this.#retryAfterMs = options.retryAfterMs ?? (() => undefined);
    this.#onThrottled = options.onThrottled;
    const intervalMs = options.intervalMs ?? 1000;
    this.#limit = ((options.perInterval ?? Number.POSITIVE_INFINITY) * 1000) / intervalMs;
    this.#learned = this.#limit;
    this.#pacer = new StartPacer(this.#limit, this.#clock, intervalMs);
    this.#adaptive =
      options.adaptive === undefined || options.adaptive === false
        ? undefined
        : {
            decrease: 0.5,
            recoverEveryMs: 10_000,
            recoverStep: 0.1,
            floorPerSecond: 0.2,
            ...(options.adaptive === true ? {} : options.adaptive),
          };
    this.#lastChangeAt = this.#clock.now();
    this.#longWaitMs = options.longWaitMs ?? 1000;
    this.#total = options.total;
    this.#unsubscribe = this.#total?.subscribe(() => this.#gate());
    // p-queue makes its line itself; the subclass hands it back so the budget can read its flows.
    let made: FairQueue | undefined;
    const Line = class extends FairQueue {
      constructor() {
        super();
        made = this;
      }
    };
    this.#queue = new PQueue<FairQueue, FairQueueOptions>({
      concurrency: options.concurrency ?? 8,
      queueClass: Line,
    });
    // (TypeScript cannot see the constructor's assignment, so `made` is widened back first.)
    const line = made as FairQueue | undefined;
    if (line === undefined) throw new Error('p-queue did not construct its queueClass');
    this.#line = line;
    // p-queue starts a call synchronously and says so before it looks at the next one, so a
    // pause decided here holds the very next start.
    this.#queue.addEventListener('active', () => {
      this.#pacer.took();
      this.#total?.took();
      this.#gate();
      this.#reportLine();
    });
    // A shared total may be full already.
    this.#gate();
  }

  /** Calls waiting for their turn (including those held by a pause). */
  get waiting(): number {
    return this.#queue.size;
  }

  /** Calls waiting, by flow. */
  waitingByFlow(): Map<string, number> {
    return this.#line.sizes();
  }

  /** Calls running now. */
  get running(): number {
    return this.#queue.pending;
  }

  /** When a pause ends (epoch ms), or undefined when the budget is not paused. */
  get pausedUntil(): number | undefined {
    return this.#pausedUntil;
  }

  /** Calls per second the budget lets start now (Infinity: no limit). */
  get rate(): number {
    return this.#pacer.perSecond;
  }

  /** The configured rate this budget never exceeds (calls per second). */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Sets the configured rate (an override for this account, or this shard's share of it).
   * What AIMD learned is kept as a fraction of the old limit.
   */
  setLimit(perSecond: number): void {
    if (perSecond === this.#limit) return;
    const fraction = Number.isFinite(this.#limit) ? this.#learned / this.#limit : 1;
    this.#limit = perSecond;
    this.#learned = Number.isFinite(perSecond) ? perSecond * fraction : perSecond;
    this.#applyRate();
  }

  /**
   * How long a call added now would wait before it starts (ms, an estimate; 0: at once): the
   * pause left (a Retry-After), the rate window (its own and a shared total's), and the turns
   * of the calls that go before it in the fair line. Calls running in every concurrency slot
   * are not counted: how long they take is not known.
   */
  expectedWait(options: Pick<CallOptions, 'priority' | 'flow'> = {}): number {
    const paused = this.#pausedUntil === undefined ? 0 : this.#pausedUntil - this.#clock.now();
    const ahead = this.#line.ahead(
      options.priority ?? callPriority.observe,
      options.flow ?? currentCallFlow() ?? '',
    );
    return Math.max(this.#pacer.delayAfter(ahead, paused), this.#total?.delayAfter(ahead, paused) ?? 0);
  }

  /**
   * The expected wait of such a call when it is over `longWaitMs`, counted as a deferral (the
   * caller does not queue the call and comes back after it); undefined: make the call now.
   */
  longWait(options: Pick<CallOptions, 'priority' | 'flow'> = {}): number | undefined {
    const ms = this.expectedWait(options);
    if (ms <= this.#longWaitMs) return undefined;
    this.#metrics.deferred?.(ms / 1000);
    return ms;
  }

  /** Runs `fn` when the budget allows; settles with its result or error. */
  async run<T>(fn: () => Promise<T>, options: CallOptions = {}): Promise<T> {
    const queuedAt = this.#clock.now();
    let startedAt: number | undefined;
    const call = async (): Promise<T> => {
      const started = this.#clock.now();
      startedAt = started;
      this.#metrics.waited((started - queuedAt) / 1000);
      try {
        const value = await fn();
        this.#finished('ok', started);
        this.#recover();
        return value;
      } catch (err) {
        this.#finished(this.#throttled(err, started) ? 'throttled' : 'error', started);
        throw err;
      }
    };
    const result = this.#queue.add(call, {
      priority: options.priority ?? callPriority.observe,
      flow: options.flow ?? currentCallFlow() ?? '',
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.#reportLine();
    try {
      return await result;
    } catch (err) {
      if (startedAt === undefined) {
        this.#finished('aborted', queuedAt);
        this.#reportLine();
      }
      throw err;
    }
  }

  /**
   * Holds every call that has not started until `ms` from now. Calls already running go on.
   * A shorter pause never cuts a longer one short.
   */
  pauseFor(ms: number): void {
    if (!(ms > 0)) return;
    const until = this.#clock.now() + ms;
    if (this.#pausedUntil !== undefined && until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#gate();
  }

  /** Resolves once nothing is waiting or running. */
  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }

  /** Stops listening to a shared total (the budget is dropped). */
  close(): void {
    this.#unsubscribe?.();
    this.#timer?.cancel();
  }

  /** Pauses the queue while anything forbids a start, and sets one timer for the earliest end. */
  #gate(): void {
    const now = this.#clock.now();
    if (this.#pausedUntil !== undefined && this.#pausedUntil <= now) this.#pausedUntil = undefined;
    const wait = Math.max(
      this.#pausedUntil === undefined ? 0 : this.#pausedUntil - now,
      this.#pacer.delay(),
      this.#total?.delay() ?? 0,
    );
    if (wait <= 0) {
      this.#cancelTimer();
      this.#queue.start();
      return;
    }
    this.#queue.pause();
    const at = now + wait;
    if (this.#timer !== undefined && this.#timerAt === at) return;
    this.#cancelTimer();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimer(wait, () => {
      this.#timer = undefined;
      this.#gate();
    });
  }

  #cancelTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #throttled(err: unknown, startedAt: number): boolean {
    const ms = this.#retryAfterMs(err);
    if (ms === undefined || !(ms > 0)) return false;
    this.pauseFor(ms);
    this.#onThrottled?.(ms);
    // A throttle of a call that started before the last slow-down says nothing of the new rate:
    // the calls of one burst all come back 429 together and must count as one.
    if (this.#adaptive !== undefined && startedAt >= this.#lastChangeAt) {
      const floor = Math.min(this.#adaptive.floorPerSecond, this.#limit);
      this.#learned = Math.max(
        floor,
        Math.min(this.#learned, this.#pacer.perSecond) * this.#adaptive.decrease,
      );
      this.#lastChangeAt = this.#clock.now();
      this.#applyRate();
    }
    return true;
  }

  #recover(): void {
    const a = this.#adaptive;
    if (a === undefined || this.#learned >= this.#limit) return;
    const now = this.#clock.now();
    if (now - this.#lastChangeAt < a.recoverEveryMs) return;
    this.#learned = Math.min(this.#limit, this.#learned + this.#limit * a.recoverStep);
    this.#lastChangeAt = now;
    this.#applyRate();
  }

  #applyRate(): void {
    this.#pacer.setRate(Math.min(this.#limit, this.#learned));
    this.#metrics.rate?.(this.#pacer.perSecond);
    this.#gate();
  }

  #reportLine(): void {
    this.#metrics.waiting(this.#queue.size);
    this.#metrics.flows?.(this.#line.sizes());
  }

  #finished(outcome: CallOutcome, since: number): void {
    this.#metrics.called(outcome, (this.#clock.now() - since) / 1000);
  }
}
