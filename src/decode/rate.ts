// The one grammar for a request rate, "N/interval": the operator's --api-rate and
// --api-rate-total, a credentials Secret's vps.org/api-rate annotation and the simulator's
// --rate-limit / rateLimit all read rates with readRate(), so "600/min" means the same
// everywhere. Each caller names its own flag or field in the error; RATE_FORM is the fix.

/** `requests` per `perMs` milliseconds, e.g. 10 per 1000 for "10/s". */
export interface Rate {
  requests: number;
  perMs: number;
}

/** What a rate looks like, for "expected …" messages. */
export const RATE_FORM = 'a rate like 10/s, 600/m or 5/2s (N ≥ 1 calls per interval; units ms, s, m, h)';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, sec: 1_000, m: 60_000, min: 60_000, h: 3_600_000 };
const RATE = /^(\d+)\s*\/\s*(\d*(?:\.\d+)?)\s*(ms|s|sec|m|min|h)$/;

/**
 * Reads "10/s", "600/m" (or "600/min"), "5/2s", "5/100ms", "1/h"; spaces around the slash are
 * allowed, the interval may be fractional ("3/1.5s"). Undefined for anything else, including
 * zero requests or a zero interval.
 */
export function readRate(text: string): Rate | undefined {
  const m = RATE.exec(text.trim());
  if (m === null) return undefined;
  const requests = Number(m[1]);
  const perMs = Number(m[2] === '' ? 1 : m[2]) * (UNIT_MS[m[3] as string] as number);
  if (requests < 1 || !(perMs > 0)) return undefined;
  return { requests, perMs };
}

/** Calls per second of a rate. */
export const perSecond = (rate: Rate): number => (rate.requests * 1000) / rate.perMs;
