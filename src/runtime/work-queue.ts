// The controller's work queue with client-go workqueue semantics: a key is never handed to two
// workers at once, adding a queued key does nothing, adding a key that is being processed
// marks it dirty so it runs once more after; plus delayed adds (earliest wins) and per-key
// rate-limited retries. Written by hand because no npm library has these semantics. With
// `flowOf`, keys due at once are handed out round-robin between flows (e.g. namespaces), so
// one namespace's 3,000 new keys cannot hold another's single change behind them.

import { type Clock, systemClock } from './clock.ts';
import { DelayedAdds } from './delayed-adds.ts';
import { noWorkQueueMetrics, type WorkQueueMetrics } from './metrics-hooks.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.ts';

export interface WorkQueueOptions {
  /** Delay policy for `addRateLimited`. @default defaultControllerRateLimiter() (1 s → 5 min, jittered) */
  rateLimiter?: RateLimiter;
  /** @default systemClock */
  clock?: Clock;
  /** @default no metrics */
  metrics?: WorkQueueMetrics;
  /**
   * The flow a key belongs to (e.g. its namespace): due keys of different flows take turns.
   * @default one flow: first in, first out
   */
  flowOf?: (key: string) => string;
}

/** First-in first-out keys with O(1) take; the consumed prefix is dropped once it is large. */
class KeyFifo {
  #keys: string[] = [];
  #head = 0;

  get length(): number {
    return this.#keys.length - this.#head;
  }

  push(key: string): void {
    this.#keys.push(key);
  }

  shift(): string | undefined {
    const key = this.#keys[this.#head];
    if (key === undefined) return undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#keys.length) {
      this.#keys = this.#keys.slice(this.#head);
      this.#head = 0;
    }
    return key;
  }
}

/** One KeyFifo per flow, served in turn; a flow with no keys leaves the rotation. */
class FairKeys {
  readonly #flowOf: (key: string) => string;
  readonly #fifos = new Map<string, KeyFifo>();
  /** Flows with keys, in turn order; the next to serve is the first. */
  readonly #turns = new KeyFifo();
  #length = 0;

  constructor(flowOf: (key: string) => string) {
    this.#flowOf = flowOf;
  }

  get length(): number {
    return this.#length;
  }

  push(key: string): void {
    const flow = this.#flowOf(key);
    let fifo = this.#fifos.get(flow);
    if (fifo === undefined) {
      fifo = new KeyFifo();
      this.#fifos.set(flow, fifo);
      this.#turns.push(flow);
    }
    fifo.push(key);
    this.#length++;
  }

  shift(): string | undefined {
    const flow = this.#turns.shift();
    if (flow === undefined) return undefined;
    const fifo = this.#fifos.get(flow) as KeyFifo;
    const key = fifo.shift() as string;
    this.#length--;
    if (fifo.length > 0) this.#turns.push(flow);
    else this.#fifos.delete(flow);
    return key;
  }
}

export class WorkQueue {
  readonly #clock: Clock;
  readonly #metrics: WorkQueueMetrics;
  readonly #rateLimiter: RateLimiter;
  readonly #delayed: DelayedAdds;
  /** Keys in the order they will be handed out; each is also in #dirty and not in #processing. */
  readonly #queue: KeyFifo | FairKeys;
  /** Keys that need a pass: queued, or being processed and added again meanwhile. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** When each dirty key became due, and when each processed key was taken (for metrics). */
  readonly #dueSince = new Map<string, number>();
  readonly #takenAt = new Map<string, number>();
  #waiters: ((key: string | undefined) => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? noWorkQueueMetrics;
    this.#queue = options.flowOf === undefined ? new KeyFifo() : new FairKeys(options.flowOf);
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter({ clock: this.#clock });
    this.#delayed = new DelayedAdds(this.#clock, (key) => this.add(key));
  }

  /** Keys due now and waiting for a worker. */
  get length(): number {
    return this.#queue.length;
  }

  /** Keys a worker holds right now. */
  get processing(): number {
    return this.#processing.size;
  }

  /** Keys scheduled for later by addAfter / addRateLimited. */
  get waitingForLater(): number {
    return this.#delayed.size;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Marks `key` as needing a pass. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#metrics.added();
    this.#dirty.add(key);
    this.#dueSince.set(key, this.#clock.now());
    // A worker holds it: done() puts it back, so two workers never share a key.
    if (this.#processing.has(key)) return;
    this.#enqueue(key);
  }

  /** Adds `key` after `ms`; if it is already scheduled sooner, the sooner time stands. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    this.#delayed.schedule(key, ms);
  }

  /** Adds `key` after the delay its rate limiter gives for one more failure. */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics.retried();
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Resets `key`'s failure count (it succeeded): its next failure backs off from the start. */
  forget(key: string): void {
    this.#rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /**
   * The next key to process, once one is due; `undefined` once the queue is shut down.
   * The caller owns the key until it calls done(key).
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#take(key);
      this.#metrics.depth(this.#queue.length);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Ends the pass on `key`; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    const takenAt = this.#takenAt.get(key);
    this.#takenAt.delete(key);
    if (takenAt !== undefined) this.#metrics.worked((this.#clock.now() - takenAt) / 1000);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#enqueue(key);
    if (this.#processing.size === 0) {
      for (const resolve of this.#drainWaiters.splice(0)) resolve();
    }
  }

  /**
   * Stops handing out keys: every pending and later get() resolves `undefined`, adds are
   * ignored, and scheduled adds are dropped. Unlike client-go, keys still queued are not
   * handed out: a stopping operator leaves them to the next one, which re-lists anyway.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#delayed.clear();
    for (const resolve of this.#waiters.splice(0)) resolve(undefined);
  }

  /** Resolves once no key is being processed (use after shutDown to wait for in-flight work). */
  drain(): Promise<void> {
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #enqueue(key: string): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#take(key);
      waiter(key);
      return;
    }
    this.#queue.push(key);
    this.#metrics.depth(this.#queue.length);
  }

  #take(key: string): void {
    const now = this.#clock.now();
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#takenAt.set(key, now);
    const dueSince = this.#dueSince.get(key);
    this.#dueSince.delete(key);
    if (dueSince !== undefined) this.#metrics.queued((now - dueSince) / 1000);
  }
}
