// Retry policies alone: exponential growth and cap, jitter bounds, the overall bucket, MaxOf.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/runtime/clock.ts';
import {
  BucketRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from '../../src/runtime/rate-limiters.ts';

const repeat = (n: number, f: () => number) => Array.from({ length: n }, f);

describe('ExponentialFailureRateLimiter', () => {
  it('starts at the base delay and doubles on every failure', () => {
    const limiter = new ExponentialFailureRateLimiter({ baseMs: 1000, maxMs: 300_000, jitter: 0 });
    expect(repeat(4, () => limiter.when('k'))).toEqual([1000, 2000, 4000, 8000]);
  });

  it('never waits longer than the cap', () => {
    const limiter = new ExponentialFailureRateLimiter({ baseMs: 1000, maxMs: 300_000, jitter: 0 });
    const delays = repeat(2000, () => limiter.when('k'));
    expect(delays.at(-1)).toBe(300_000);
    expect(Math.max(...delays)).toBe(300_000);
  });

  it('keeps a separate count for each key', () => {
    const limiter = new ExponentialFailureRateLimiter({ baseMs: 10, jitter: 0 });
    limiter.when('a');
    limiter.when('a');
    expect(limiter.when('b')).toBe(10);
  });

  it('starts over from the base delay after forget', () => {
    const limiter = new ExponentialFailureRateLimiter({ baseMs: 10, jitter: 0 });
    limiter.when('a');
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.when('a')).toBe(10);
  });

  it('takes at most the jitter fraction off the delay and never adds to it', () => {
    const lowest = new ExponentialFailureRateLimiter({ baseMs: 1000, jitter: 0.2, random: () => 0.999_999 });
    const highest = new ExponentialFailureRateLimiter({ baseMs: 1000, jitter: 0.2, random: () => 0 });
    expect(lowest.when('k')).toBeCloseTo(800, 0);
    expect(highest.when('k')).toBe(1000);
  });

  it('spreads the delays of keys that fail together within the jitter bounds', () => {
    const limiter = new ExponentialFailureRateLimiter({ baseMs: 1000, maxMs: 300_000, jitter: 0.2 });
    const delays = Array.from({ length: 500 }, (_, i) => limiter.when(`key-${i}`));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(800);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
    expect(new Set(delays).size).toBeGreaterThan(400);
  });

  it('keeps jittered delays at the cap within the cap', () => {
    const limiter = new ExponentialFailureRateLimiter({ baseMs: 1000, maxMs: 300_000, jitter: 0.2 });
    const delays = repeat(40, () => limiter.when('k')).slice(20);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(240_000);
      expect(d).toBeLessThanOrEqual(300_000);
    }
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through without delay and then spaces calls at the rate', () => {
    const limiter = new BucketRateLimiter({ perSecond: 10, burst: 2, clock: new ManualClock() });
    expect(repeat(4, () => limiter.when('any'))).toEqual([0, 0, 100, 200]);
  });

  it('refills tokens as time passes', () => {
    const clock = new ManualClock();
    const limiter = new BucketRateLimiter({ perSecond: 10, burst: 1, clock });
    limiter.when('a');
    clock.advance(100);
    expect(limiter.when('b')).toBe(0);
  });
});

describe('MaxOfRateLimiter', () => {
  it('waits as long as the slowest of its limiters', () => {
    const clock = new ManualClock();
    const limiter = new MaxOfRateLimiter(
      new ExponentialFailureRateLimiter({ baseMs: 5, jitter: 0 }),
      new BucketRateLimiter({ perSecond: 1, burst: 1, clock }),
    );
    expect([limiter.when('a'), limiter.when('b')]).toEqual([5, 1000]);
  });

  it('forgets a key in every limiter', () => {
    const limiter = new MaxOfRateLimiter(
      new ExponentialFailureRateLimiter({ baseMs: 5, jitter: 0 }),
      new ExponentialFailureRateLimiter({ baseMs: 7, jitter: 0 }),
    );
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
  });
});
