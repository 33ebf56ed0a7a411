// Retry policies for the work queue, after client-go's workqueue rate limiters: each is a tiny
// object behind one interface (when / forget / numRequeues) so they compose (MaxOf) and each
// can be tested alone with an injected clock and random source.

import { type Clock, systemClock } from './clock.ts';

/** Decides how long a key waits before its next attempt. */
export interface RateLimiter {
  /** Records one more failure of `key` and returns how long it should wait, in ms. */
  when(key: string): number;
  /** Stops tracking `key` (it succeeded, or was given up on): its next failure starts over. */
  forget(key: string): void;
  /** How many failures `key` has had since it was last forgotten. */
  numRequeues(key: string): number;
}

export interface ExponentialBackoffOptions {
  /** Delay after the first failure, in ms. @default 1000 */
  baseMs?: number;
  /** Upper bound of any delay, jitter included, in ms. @default 300000 (5 min) */
  maxMs?: number;
  /**
   * Fraction of the delay taken off at random, so keys that failed together (a provider
   * outage) do not all retry in the same instant. 0 disables it. @default 0.2
   */
  jitter?: number;
  /** Source of randomness in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * Per-key exponential backoff: base·2^(failures) capped at max, minus up to `jitter` of it.
 * Jitter only shortens the delay, so `maxMs` is a hard cap.
 */
export class ExponentialFailureRateLimiter implements RateLimiter {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #failures = new Map<string, number>();

  constructor(options: ExponentialBackoffOptions = {}) {
    this.#baseMs = options.baseMs ?? 1000;
    this.#maxMs = options.maxMs ?? 300_000;
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? 0.2));
    this.#random = options.random ?? Math.random;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // 2^failures overflows to Infinity past ~1024; min() keeps that finite.
    const exponential = Math.min(this.#maxMs, this.#baseMs * 2 ** failures);
    return exponential * (1 - this.#jitter * this.#random());
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

export interface BucketOptions {
  /** Sustained retries per second across all keys. @default 10 */
  perSecond?: number;
  /** Retries allowed in a burst before the rate applies. @default 100 */
  burst?: number;
  clock?: Clock;
}

/**
 * An overall token bucket (not per key): bounds the total retry rate when many keys fail at
 * once, like client-go's BucketRateLimiter. Each call reserves a token, possibly in the future.
 */
export class BucketRateLimiter implements RateLimiter {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(options: BucketOptions = {}) {
    this.#perSecond = options.perSecond ?? 10;
    this.#burst = options.burst ?? 100;
    this.#clock = options.clock ?? systemClock;
    this.#tokens = this.#burst;
    this.#last = this.#clock.now();
  }

  when(_key: string): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#perSecond) * 1000;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The longest delay any of its limiters asks for; forget and count go to all of them. */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.#limiters = limiters;
  }

  when(key: string): number {
    return Math.max(0, ...this.#limiters.map((l) => l.when(key)));
  }

  forget(key: string): void {
    for (const l of this.#limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(0, ...this.#limiters.map((l) => l.numRequeues(key)));
  }
}

/**
 * The controller default: per-key exponential backoff (1 s → 5 min, jittered) bounded by an
 * overall 10/s, burst-100 bucket, the shape of client-go's DefaultControllerRateLimiter.
 */
export function defaultControllerRateLimiter(
  options: ExponentialBackoffOptions & { clock?: Clock } = {},
): RateLimiter {
  const bucket = options.clock === undefined ? {} : { clock: options.clock };
  return new MaxOfRateLimiter(new ExponentialFailureRateLimiter(options), new BucketRateLimiter(bucket));
}
