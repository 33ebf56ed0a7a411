// The one rate grammar (src/decode/rate.ts) that --api-rate, the vps.org/api-rate annotation and
// the simulator's --rate-limit share: one table of what reads as what, one of what is refused.
import { describe, expect, it } from 'vitest';
import { perSecond, RATE_FORM, readRate } from '../../src/decode/rate.ts';

describe('a rate', () => {
  it.each([
    ['10/s', { requests: 10, perMs: 1000 }],
    ['600/m', { requests: 600, perMs: 60_000 }],
    ['600/min', { requests: 600, perMs: 60_000 }],
    ['5/2s', { requests: 5, perMs: 2000 }],
    ['5/100ms', { requests: 5, perMs: 100 }],
    ['3/1.5s', { requests: 3, perMs: 1500 }],
    ['1/h', { requests: 1, perMs: 3_600_000 }],
    ['1/12sec', { requests: 1, perMs: 12_000 }],
    [' 20 / s ', { requests: 20, perMs: 1000 }],
  ])('%j reads as %j', (text, want) => expect(readRate(text)).toEqual(want));

  it.each(['nonsense', 'fast', '10', '0/s', '-1/s', '10/0s', '10/fortnight', '1.5/s', 'off', ''])(
    '%j is not a rate',
    (text) => expect(readRate(text)).toBeUndefined(),
  );

  it('is counted in calls per second', () => {
    expect(perSecond({ requests: 5, perMs: 2000 })).toBe(2.5);
  });

  it('is described by examples a reader can copy', () => {
    expect(RATE_FORM).toContain('10/s, 600/m or 5/2s');
  });
});
