// The arithmetic of shards splitting an account's rate through Leases: each live shard takes an
// equal share, and a Lease counts as live for one lease duration after a renewal was seen, on
// this process's own clock (so the other shards' clocks never matter).
import { describe, expect, it } from 'vitest';
import { LeaseLiveness, shareOf } from '../../src/runtime/shard-split.ts';

describe('shareOf', () => {
  it.each([
    [1, 1],
    [2, 0.5],
    [3, 1 / 3],
    [4, 0.25],
    [0, 1],
  ])('gives each of %i live shards %d of the rate', (live, share) => {
    expect(shareOf(live)).toBeCloseTo(share);
  });

  it('keeps the account at its rate however many shards there are', () => {
    for (const live of [1, 2, 3, 7, 10]) expect(shareOf(live) * live).toBeCloseTo(1);
  });

  it.each([
    [10, 3, [4, 3, 3]],
    [10, 4, [3, 3, 2, 2]],
    [10, 1, [10]],
    [9, 3, [3, 3, 3]],
    [40, 3, [14, 13, 13]],
  ])('splits %i calls per window between %i shards in whole calls: %j', (calls, live, expected) => {
    const parts = Array.from({ length: live }, (_, rank) => shareOf(live, rank, calls) * calls);
    expect(parts.map((p) => Math.round(p * 1e9) / 1e9)).toEqual(expected);
    expect(parts.reduce((a, b) => a + b, 0)).toBeCloseTo(calls);
  });

  it('falls back to equal fractions when there are fewer whole calls than shards', () => {
    expect(shareOf(3, 0, 2)).toBeCloseTo(1 / 3);
    expect(shareOf(3, 2, Number.POSITIVE_INFINITY)).toBeCloseTo(1 / 3);
  });
});

describe('LeaseLiveness', () => {
  it('counts a Lease as live for one lease duration after its renewal was seen', () => {
    const l = new LeaseLiveness(15_000);
    l.observe('a', 't1', 1_000);
    expect(l.live('a', 15_999)).toBe(true);
    expect(l.live('a', 16_000)).toBe(false);
  });

  it('dates a renewal from when it was seen, not from the renewTime the other shard wrote', () => {
    const l = new LeaseLiveness(15_000);
    // A renewTime an hour in the past (a skewed clock) is still a renewal seen now.
    l.observe('a', '2026-01-01T00:00:00Z', 100_000);
    expect(l.live('a', 110_000)).toBe(true);
  });

  it('does not count the same renewTime seen again as a renewal', () => {
    const l = new LeaseLiveness(15_000);
    l.observe('a', 't1', 0);
    l.observe('a', 't1', 10_000);
    expect(l.live('a', 15_000)).toBe(false);
    l.observe('a', 't2', 15_000);
    expect(l.live('a', 29_999)).toBe(true);
  });

  it('knows nothing of a Lease it never saw or forgot', () => {
    const l = new LeaseLiveness(15_000);
    expect(l.live('x', 0)).toBe(false);
    l.observe('x', 't', 0);
    l.forget('x');
    expect(l.live('x', 1)).toBe(false);
  });

  it('calls a Lease abandoned after many lease durations without a renewal', () => {
    const l = new LeaseLiveness(1_000);
    l.observe('a', 't', 0);
    expect(l.abandoned('a', 19_999, 20)).toBe(false);
    expect(l.abandoned('a', 20_000, 20)).toBe(true);
  });
});
