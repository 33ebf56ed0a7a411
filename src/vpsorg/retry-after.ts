// Parses the `Retry-After` header of a 429/503 into a wait in milliseconds. VPS.org does not
// document it, but a provider that rate-limits says "when" this way (RFC 9110 §10.2.3: either
// delta-seconds or an HTTP-date); the controller honours it for the whole client. The current
// time is passed in so tests need no fake clock.

/**
 * The wait a `Retry-After` value asks for, in ms, never negative (a date in the past means
 * "now"). Undefined when the header is absent or is neither delta-seconds nor an HTTP-date.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  // delta-seconds is an integer; a fraction is tolerated since some proxies send one.
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Anything else must look like a date (a month or day name and a time), not a number or word
  // that Date.parse would happily accept ("1", "-5", "Infinity").
  if (!/[a-z]/i.test(text) || !/\d{1,2}:\d{2}/.test(text)) return undefined;
  // HTTP-dates are GMT; asctime's form omits the zone and Date.parse would read it as local time.
  const at = Date.parse(/\b(GMT|UTC)\b|Z$|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
