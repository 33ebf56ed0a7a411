// The per-token token bucket: bursts, refill, Retry-After and violations of it.
import { describe, expect, it } from 'vitest';
import { parseRateLimit, TokenBucketLimiter } from '../../src/simulator/rate-limit.ts';

function limiter(requests: number, perMs: number, graceMs = 0) {
  let now = 1_000_000;
  const bucket = new TokenBucketLimiter({ requests, perMs }, () => now, graceMs);
  return {
    bucket,
    sleep: (ms: number) => {
      now += ms;
    },
  };
}

describe('parseRateLimit', () => {
  // The grammar itself is src/decode/rate.ts's (test/unit/decode-rate.test.ts); the simulator adds "off".
  it.each([
    ['off', null],
    ['none', null],
    ['600/min', { requests: 600, perMs: 60_000 }],
  ])('reads %s', (text, want) => {
    expect(parseRateLimit(text)).toEqual(want);
  });

  it.each(['nonsense', '0/s', 'offf'])('rejects %j', (text) => {
    expect(parseRateLimit(text)).toBeUndefined();
  });
});

describe('TokenBucketLimiter', () => {
  it('throttles an account with a limit of its own while the others keep the shared one', () => {
    const { bucket } = limiter(3, 1000);
    bucket.setLimitFor('slow', { requests: 1, perMs: 1000 });
    const slow = Array.from({ length: 3 }, () => bucket.admit('slow').allowed);
    const other = Array.from({ length: 3 }, () => bucket.admit('other').allowed);
    expect(slow).toEqual([true, false, false]);
    expect(other).toEqual([true, true, true]);
  });

  it('gives an account the shared limit back when its own is cleared', () => {
    const { bucket } = limiter(2, 1000);
    bucket.setLimitFor('slow', { requests: 1, perMs: 1000 });
    bucket.setLimitFor('slow', undefined);
    expect([bucket.admit('slow').allowed, bucket.admit('slow').allowed]).toEqual([true, true]);
  });

  it('lets a burst of the bucket size through, then throttles', () => {
    const { bucket } = limiter(3, 1000);
    const answers = Array.from({ length: 4 }, () => bucket.admit('a').allowed);
    expect(answers).toEqual([true, true, true, false]);
  });

  it('announces a Retry-After of whole seconds, at least one', () => {
    const { bucket } = limiter(2, 10_000);
    bucket.admit('a');
    bucket.admit('a');
    expect(bucket.admit('a')).toEqual({ allowed: false, retryAfterSeconds: 5 });
    const fast = limiter(10, 1000).bucket;
    for (let i = 0; i < 10; i++) fast.admit('a');
    expect(fast.admit('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('refills continuously', () => {
    const { bucket, sleep } = limiter(2, 1000);
    bucket.admit('a');
    bucket.admit('a');
    sleep(500);
    expect(bucket.admit('a').allowed).toBe(true);
    expect(bucket.admit('a').allowed).toBe(false);
  });

  it('keeps one bucket per token', () => {
    const { bucket } = limiter(1, 1000);
    expect(bucket.admit('a').allowed).toBe(true);
    expect(bucket.admit('b').allowed).toBe(true);
  });

  it('counts an arrival inside the announced Retry-After window as a violation', () => {
    const { bucket, sleep } = limiter(1, 1000);
    bucket.admit('a');
    bucket.admit('a');
    sleep(999);
    expect(bucket.isInsideRetryAfter('a')).toBe(true);
    sleep(1);
    expect(bucket.isInsideRetryAfter('a')).toBe(false);
  });

  it('forgives arrivals within the grace period, which were already in flight', () => {
    const { bucket, sleep } = limiter(1, 1000, 250);
    bucket.admit('a');
    bucket.admit('a');
    sleep(100);
    expect(bucket.isInsideRetryAfter('a')).toBe(false);
    sleep(150);
    expect(bucket.isInsideRetryAfter('a')).toBe(true);
  });

  it('does not renew the grace period for a client that keeps drawing 429s', () => {
    const { bucket, sleep } = limiter(1, 10_000, 250);
    bucket.admit('a');
    bucket.admit('a');
    sleep(200);
    bucket.admit('a');
    sleep(100);
    expect(bucket.isInsideRetryAfter('a')).toBe(true);
  });

  it('does not count a window whose 429 never reached the client', () => {
    const { bucket, sleep } = limiter(1, 1000);
    bucket.admit('a');
    bucket.admit('a');
    bucket.withdrawLastDenial('a');
    sleep(10);
    expect(bucket.isInsideRetryAfter('a')).toBe(false);
  });

  it('keeps an earlier window when a later 429 is withdrawn', () => {
    const { bucket, sleep } = limiter(1, 10_000);
    bucket.admit('a');
    bucket.admit('a');
    sleep(5_000);
    bucket.admit('a');
    bucket.withdrawLastDenial('a');
    sleep(4_000);
    expect(bucket.violatedWindow('a')).toEqual({ msAfterWindowOpened: 9_000, msBeforeWindowEnd: 1_000 });
  });

  it('admits everything without a limit', () => {
    const bucket = new TokenBucketLimiter(null, () => 0);
    expect(Array.from({ length: 1000 }, () => bucket.admit('a').allowed).every(Boolean)).toBe(true);
  });
});
