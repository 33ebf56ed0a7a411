// The lease-freshness check every leader write asks first: fresh for leaseDuration (less the
// tolerated clock-rate skew and a margin) from when the last renewal was sent, by the process's
// monotonic clock; a clock that jumps forward (a process woken from SIGSTOP) or reads earlier
// than the renewal fails it, and a failed check ends leadership for good.
import type { V1Lease } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/runtime/clock.ts';
import { LeaderElector, type LeaseApi } from '../../src/runtime/leader-election.ts';
import { LeaseLostError, leaseIsFresh } from '../../src/runtime/lease-guard.ts';

const window = { leaseDurationMs: 4_000, maxClockRateSkew: 0.1, marginMs: 100 };

describe('leaseIsFresh', () => {
  it.each([
    ['is fresh right after the renewal was sent', 1_000, 1_000, true],
    ['is fresh just inside leaseDuration less skew and margin (3,500 ms)', 1_000, 4_499, true],
    ['is stale at the end of that window', 1_000, 4_500, false],
    ['is stale inside leaseDuration but within the skew margin', 1_000, 4_800, false],
    ['is stale after a jump forward past the lease duration (woken from SIGSTOP)', 1_000, 61_000, false],
    ['is stale when the clock reads earlier than the renewal (a jump backwards)', 1_000, 999, false],
    ['is stale when the clock reads NaN', 1_000, Number.NaN, false],
  ])('%s', (_what, renewedAt, now, fresh) => {
    expect(leaseIsFresh({ ...window, renewedAt, now })).toBe(fresh);
  });

  it('is false when the lease was never renewed', () => {
    expect(leaseIsFresh({ ...window, renewedAt: undefined, now: 0 })).toBe(false);
  });
});

/** A Lease API holding one Lease in memory, with resourceVersions like the API server's. */
function memoryLeases(): LeaseApi & { lease?: V1Lease } {
  let rv = 0;
  const store: { lease?: V1Lease } = {};
  const save = (lease: V1Lease) => {
    store.lease = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++rv) } };
    return store.lease;
  };
  return Object.assign(store, {
    read: async () => store.lease,
    create: async (lease: V1Lease) => save(lease),
    replace: async (lease: V1Lease) => save(lease),
  });
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function elector() {
  const clock = new ManualClock();
  let mono = 5_000;
  const e = new LeaderElector(memoryLeases(), {
    name: 'l',
    namespace: 'ns',
    identity: 'me',
    leaseDurationMs: 6_000,
    renewDeadlineMs: 4_000,
    retryPeriodMs: 800,
    logger: pino({ level: 'silent' }),
    clock,
    monotonicNow: () => mono,
  });
  /** Time passing normally: both clocks move and timers fire. */
  const pass = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      mono += 100;
      clock.advance(100);
      await settle();
    }
  };
  /** The monotonic clock jumps (the process was stopped): no timer has had a chance to fire. */
  const jump = (ms: number) => {
    mono += ms;
  };
  return { e, pass, jump };
}

describe('LeaderElector.guard', () => {
  it('lets a leader that renews on time write', async () => {
    const { e, pass } = elector();
    expect(await e.acquire()).toBe(true);
    void e.keepLeading();
    await pass(10_000);
    expect(() => e.guard()).not.toThrow();
    expect(e.holdsFreshLease()).toBe(true);
  });

  it('refuses a write by a replica that has never led', () => {
    const { e } = elector();
    expect(() => e.guard()).toThrow(LeaseLostError);
  });

  it('refuses the first write after the monotonic clock jumped past the lease duration, and ends leadership', async () => {
    const { e, jump } = elector();
    expect(await e.acquire()).toBe(true);
    const leading = e.keepLeading();
    jump(7_000);
    expect(() => e.guard()).toThrow(LeaseLostError);
    expect(await leading).toBe('lost');
    expect(e.isLeader).toBe(false);
  });

  it('refuses every later write too, even once renewals would succeed again', async () => {
    const { e, jump, pass } = elector();
    await e.acquire();
    void e.keepLeading();
    jump(7_000);
    expect(() => e.guard()).toThrow(LeaseLostError);
    await pass(2_000);
    expect(() => e.guard()).toThrow(LeaseLostError);
  });

  it('refuses a write when renewals stopped succeeding for longer than the fresh window', async () => {
    const { e, pass } = elector();
    await e.acquire();
    expect(() => e.guard()).not.toThrow();
    // keepLeading() is not running: nothing renews, and time passes normally.
    // Fresh for 6,000 × 0.9 − 800 (the retry period) = 4,600 ms.
    await pass(4_700);
    expect(() => e.guard()).toThrow(LeaseLostError);
  });

  it('accepts a jump shorter than the fresh window (a short GC pause), since no standby can have taken over', async () => {
    const { e, jump } = elector();
    await e.acquire();
    jump(3_000);
    expect(() => e.guard()).not.toThrow();
  });
});
