// The provider's per-token request budget: a token bucket (burst = the rate's request count,
// refilled continuously) answering "throttled, retry after N s" when empty. It also remembers
// each Retry-After it announced, so a client that comes back early is caught: the reliability
// tests assert that the operator never does (retryAfterViolations == 0). Requests that were
// already in flight when a 429 went out are not the client's fault: the first `graceMs` of a
// window are forgiven.

import { RATE_FORM, type Rate, readRate } from '../decode/rate.ts';
import * as decode from './decode.ts';

/** `requests` per `perMs` milliseconds, or null: no limit. */
export type RateLimit = Rate;

export type Admission = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** What a --rate-limit or rateLimit may be, for "expected …" messages. */
export const RATE_LIMIT_FORM = `${RATE_FORM}, or off`;

/**
 * Parses a rate (src/decode/rate.ts: "10/s", "600/min", "5/100ms") or "off"/"none" (no limit).
 * Returns undefined for anything else so the caller can name the flag or field in its error.
 */
export function parseRateLimit(text: string): RateLimit | null | undefined {
  if (text === 'off' || text === 'none') return null;
  return readRate(text);
}

/** Checks untrusted configuration: "10/s", "off", null or `{requests, perMs}`. */
export function parseRateLimitValue(value: unknown, field: string): RateLimit | null {
  if (value === null) return null;
  if (typeof value === 'string') {
    const limit = parseRateLimit(value);
    if (limit === undefined) decode.fail(field, RATE_LIMIT_FORM);
    return limit;
  }
  const fields = decode.object(value, field);
  decode.onlyKeys(fields, field, ['requests', 'perMs']);
  return {
    requests: decode.integer(fields.requests, `${field}.requests`, 1),
    perMs: decode.number(fields.perMs, `${field}.perMs`, 1),
  };
}

interface Bucket {
  tokens: number;
  refilledAt: number;
  /** Until when (ms) the client was told to stay away. */
  retryAfterUntil: number;
  /** When (ms) the window in force was opened by a 429. */
  openedAt: number;
  /** Arrivals before this (ms) were in flight when the window opened: not violations. */
  graceUntil: number;
}

export class TokenBucketLimiter {
  #limit: RateLimit | null;
  readonly #now: () => number;
  readonly #graceMs: number;
  readonly #buckets = new Map<string, Bucket>();
  /** Keys (accounts) with a limit of their own, as a provider grants one token more or less. */
  readonly #limitsByKey = new Map<string, RateLimit | null>();
  /** The window as it was before the last 429, so a 429 whose reply was lost can be withdrawn. */
  #beforeLastDenial: {
    key: string;
    window: Pick<Bucket, 'retryAfterUntil' | 'openedAt' | 'graceUntil'>;
  } | null = null;

  constructor(limit: RateLimit | null, now: () => number, graceMs = 250) {
    this.#limit = limit;
    this.#now = now;
    this.#graceMs = graceMs;
  }

  get limit(): RateLimit | null {
    return this.#limit;
  }

  /** Changes the rate at run time; buckets start full again, announced windows still count. */
  setLimit(limit: RateLimit | null): void {
    this.#limit = limit;
    for (const [key, bucket] of this.#buckets) {
      if (this.#limitsByKey.has(key)) continue;
      bucket.tokens = limit?.requests ?? 0;
      bucket.refilledAt = this.#now();
    }
  }

  /** Gives `key` a limit of its own (null: none), or the shared one again (undefined). */
  setLimitFor(key: string, limit: RateLimit | null | undefined): void {
    if (limit === undefined) this.#limitsByKey.delete(key);
    else this.#limitsByKey.set(key, limit);
    const bucket = this.#buckets.get(key);
    if (bucket !== undefined) {
      bucket.tokens = (limit === undefined ? this.#limit : limit)?.requests ?? 0;
      bucket.refilledAt = this.#now();
    }
  }

  /**
   * Takes back the window of the last 429 given to `key`: its reply never reached the client
   * (an injected lost reply), so the client cannot be blamed for not waiting.
   */
  withdrawLastDenial(key: string): void {
    const last = this.#beforeLastDenial;
    if (last === null || last.key !== key) return;
    const bucket = this.#buckets.get(key);
    if (bucket !== undefined) Object.assign(bucket, last.window);
    this.#beforeLastDenial = null;
  }

  /** True when `key` is still inside a Retry-After window announced to it: a violation. */
  isInsideRetryAfter(key: string): boolean {
    return this.violatedWindow(key) !== undefined;
  }

  /** Where in the window a request from `key` arriving now falls, when that is a violation. */
  violatedWindow(key: string): { msAfterWindowOpened: number; msBeforeWindowEnd: number } | undefined {
    const bucket = this.#buckets.get(key);
    const now = this.#now();
    if (bucket === undefined || now < bucket.graceUntil || now >= bucket.retryAfterUntil) return undefined;
    return { msAfterWindowOpened: now - bucket.openedAt, msBeforeWindowEnd: bucket.retryAfterUntil - now };
  }

  /** Takes one request from `key`'s bucket, or says how long to wait (whole seconds, at least 1). */
  admit(key: string): Admission {
    const limit = this.#limitsByKey.has(key) ? (this.#limitsByKey.get(key) ?? null) : this.#limit;
    if (limit === null) return { allowed: true };
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? {
      tokens: limit.requests,
      refilledAt: now,
      retryAfterUntil: 0,
      openedAt: 0,
      graceUntil: 0,
    };
    this.#buckets.set(key, bucket);
    const perMs = limit.requests / limit.perMs;
    bucket.tokens = Math.min(limit.requests, bucket.tokens + Math.max(0, now - bucket.refilledAt) * perMs);
    bucket.refilledAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    const { retryAfterUntil, openedAt, graceUntil } = bucket;
    this.#beforeLastDenial = { key, window: { retryAfterUntil, openedAt, graceUntil } };
    // A window opened while another is still open keeps the first one's grace, so a client that
    // ignores Retry-After cannot stay forgiven by drawing a fresh 429 every few milliseconds.
    if (now >= bucket.retryAfterUntil) {
      bucket.graceUntil = now + this.#graceMs;
      bucket.openedAt = now;
    }
    bucket.retryAfterUntil = Math.max(bucket.retryAfterUntil, now + retryAfterSeconds * 1000);
    return { allowed: false, retryAfterSeconds };
  }
}
