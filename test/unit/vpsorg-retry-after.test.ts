// Retry-After in both RFC 9110 forms, relative to an injected now, and everything that is not one.
import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/vpsorg/retry-after.ts';

const NOW = Date.parse('2025-01-16T15:30:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['delta-seconds', '120', 120_000],
    ['zero seconds', '0', 0],
    ['delta-seconds with spaces around', ' 5 ', 5_000],
    ['fractional seconds some proxies send', '1.5', 1_500],
    ['an IMF-fixdate in the future', 'Thu, 16 Jan 2025 15:30:30 GMT', 30_000],
    ['an obsolete RFC 850 date', 'Thursday, 16-Jan-25 15:31:00 GMT', 60_000],
    ['an asctime date, which has no zone and means GMT', 'Thu Jan 16 15:30:10 2025', 10_000],
    ['a date in the past, as zero', 'Thu, 16 Jan 2025 15:00:00 GMT', 0],
  ])('reads %s', (_, header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });

  it.each([
    ['an absent header', null],
    ['an undefined header', undefined],
    ['an empty header', ''],
    ['a word', 'soon'],
    ['a negative number', '-5'],
    ['Infinity', 'Infinity'],
    ['a date-like word without a time', 'Thu, 16 Jan 2025'],
    ['a garbled date', 'Thu, 99 Foo 2025 25:61:00 GMT'],
  ])('ignores %s', (_, header) => {
    expect(parseRetryAfter(header, NOW)).toBeUndefined();
  });
});
