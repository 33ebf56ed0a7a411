// Fair provider budgets: one budget per account (rate, pause and learned rate of its own), a
// total cap across accounts, round-robin between flows with priorities kept, and AIMD on
// throttles; with vitest's fake timers (p-queue and the pacer read the faked Date/setTimeout).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallBudget, callPriority } from '../../src/runtime/call-budget.ts';
import { CallBudgets } from '../../src/runtime/call-budgets.ts';
import { withCallFlow } from '../../src/runtime/call-flow.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { StartPacer } from '../../src/runtime/start-pacer.ts';

class Throttled extends Error {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super('429');
    this.retryAfterMs = retryAfterMs;
  }
}
const retryAfterMs = (err: unknown) => (err instanceof Throttled ? err.retryAfterMs : undefined);

function recorder() {
  const starts: { name: string; at: number }[] = [];
  const call =
    (name: string, ms = 0, fail?: Error) =>
    async () => {
      starts.push({ name, at: Date.now() });
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      if (fail) throw fail;
      return name;
    };
  const names = () => starts.map((s) => s.name);
  return { starts, call, names };
}

/** Most starts in any window of `ms`. */
function maxInWindow(times: number[], ms: number): number {
  return Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + ms).length));
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('fair line', () => {
  it('serves flows in turn, so one flow with a backlog cannot hold another flow behind it', async () => {
    const budget = new CallBudget({ concurrency: 1 });
    const { call, names } = recorder();
    const busy = budget.run(call('busy', 100));
    const a = Array.from({ length: 5 }, (_, i) =>
      budget.run(call(`a${i}`), { flow: 'a', priority: callPriority.write }),
    );
    const b = budget.run(call('b0'), { flow: 'b', priority: callPriority.write });
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([busy, ...a, b]);
    expect(names()).toEqual(['busy', 'a0', 'b0', 'a1', 'a2', 'a3', 'a4']);
  });

  it('keeps priorities inside a flow: its writes go before its observations', async () => {
    const budget = new CallBudget({ concurrency: 1 });
    const { call, names } = recorder();
    const busy = budget.run(call('busy', 100));
    const rest = [
      budget.run(call('observe'), { flow: 'a', priority: callPriority.observe }),
      budget.run(call('write'), { flow: 'a', priority: callPriority.write }),
    ];
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([busy, ...rest]);
    expect(names()).toEqual(['busy', 'write', 'observe']);
  });

  it('starts a waiting write of any flow before a waiting observation of another', async () => {
    const budget = new CallBudget({ concurrency: 1 });
    const { call, names } = recorder();
    const busy = budget.run(call('busy', 100));
    const rest = [
      budget.run(call('list'), { flow: 'observation', priority: callPriority.observe }),
      budget.run(call('a-write'), { flow: 'a', priority: callPriority.write }),
      budget.run(call('b-write'), { flow: 'b', priority: callPriority.write }),
    ];
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([busy, ...rest]);
    expect(names()).toEqual(['busy', 'a-write', 'b-write', 'list']);
  });

  it('takes the flow from the work running the call when none is given', async () => {
    const budget = new CallBudget({ concurrency: 1 });
    const { call } = recorder();
    const busy = budget.run(call('busy', 100));
    const a = withCallFlow('shop', () => [budget.run(call('a')), budget.run(call('b'))]);
    expect(Object.fromEntries(budget.waitingByFlow())).toEqual({ shop: 2 });
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([busy, ...a]);
    expect(budget.waitingByFlow().size).toBe(0);
  });

  it('keeps the turn order of the other flows when a waiting call is abandoned', async () => {
    const budget = new CallBudget({ concurrency: 1 });
    const { call, names } = recorder();
    const busy = budget.run(call('busy', 100));
    const abort = new AbortController();
    const dropped = budget.run(call('a0'), { flow: 'a', signal: abort.signal }).catch(() => 'dropped');
    const rest = [budget.run(call('b0'), { flow: 'b' }), budget.run(call('c0'), { flow: 'c' })];
    abort.abort();
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([busy, dropped, ...rest]);
    expect(names()).toEqual(['busy', 'b0', 'c0']);
  });
});

describe('budgets per account', () => {
  it('gives each account its own rate: a backlog on one does not delay the other', async () => {
    const budgets = new CallBudgets({ perSecond: 2, concurrency: 10 });
    const { starts, call } = recorder();
    const a = Array.from({ length: 10 }, (_, i) => budgets.for('a').run(call(`a${i}`)));
    const b = Array.from({ length: 2 }, (_, i) => budgets.for('b').run(call(`b${i}`)));
    await vi.advanceTimersByTimeAsync(0);
    expect(starts.filter((s) => s.name.startsWith('b')).map((s) => s.at - 1_700_000_000_000)).toEqual([0, 0]);
    await vi.advanceTimersByTimeAsync(5000);
    await Promise.all([...a, ...b]);
    const aTimes = starts.filter((s) => s.name.startsWith('a')).map((s) => s.at);
    expect(maxInWindow(aTimes, 1000)).toBe(2);
  });

  it("pauses only the throttled account for the Retry-After; the other's calls go on", async () => {
    const budgets = new CallBudgets({ perSecond: 100, concurrency: 1, retryAfterMs });
    const { starts, call } = recorder();
    const throttled = budgets
      .for('a')
      .run(call('a-429', 0, new Throttled(5000)))
      .catch(() => 'rejected');
    await vi.advanceTimersByTimeAsync(0);
    const a = budgets.for('a').run(call('a-next'));
    const b = budgets.for('b').run(call('b-next'));
    await vi.advanceTimersByTimeAsync(100);
    expect(starts.map((s) => s.name)).toEqual(['a-429', 'b-next']);
    expect(budgets.for('b').pausedUntil).toBeUndefined();
    await vi.advanceTimersByTimeAsync(4900);
    await Promise.all([throttled, a, b]);
    expect(starts.at(-1)).toEqual({ name: 'a-next', at: 1_700_000_005_000 });
  });

  it('caps all accounts together at the total rate', async () => {
    const budgets = new CallBudgets({ perSecond: 10, totalPerSecond: 4, concurrency: 10 });
    const { starts, call } = recorder();
    const all = ['a', 'b', 'c'].flatMap((acc) =>
      Array.from({ length: 6 }, (_, i) => budgets.for(acc).run(call(`${acc}${i}`))),
    );
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(all);
    const times = starts.map((s) => s.at);
    expect(starts).toHaveLength(18);
    expect(maxInWindow(times, 1000)).toBe(4);
  });

  it("raises one account's rate to its override, and back to the default when it is removed", async () => {
    const budgets = new CallBudgets({ perSecond: 10 });
    budgets.setOverride('a', 30);
    expect(budgets.for('a').rate).toBe(30);
    expect(budgets.for('b').rate).toBe(10);
    budgets.setOverride('a', undefined);
    expect(budgets.for('a').rate).toBe(10);
  });

  it("splits an account's rate by this process's share, on top of its override", async () => {
    const budgets = new CallBudgets({ perSecond: 10 });
    budgets.setOverride('a', 30);
    budgets.setShare('a', 1 / 3);
    expect(budgets.for('a').rate).toBeCloseTo(10);
    expect(budgets.accountRate('a')).toBe(30);
  });
});

describe('adaptive rate (AIMD)', () => {
  it('halves the rate on a throttle and pauses for the Retry-After', async () => {
    const budget = new CallBudget({ perInterval: 20, retryAfterMs, adaptive: true });
    await budget.run(async () => Promise.reject(new Throttled(1000))).catch(() => {});
    expect(budget.rate).toBe(10);
    expect(budget.pausedUntil).toBe(Date.now() + 1000);
  });

  it('counts the throttles of calls started before the slow-down as one', async () => {
    const budget = new CallBudget({ perInterval: 20, retryAfterMs, adaptive: true });
    const burst = Array.from({ length: 5 }, () =>
      budget
        .run(async () => {
          await new Promise((r) => setTimeout(r, 10));
          throw new Throttled(1000);
        })
        .catch(() => {}),
    );
    await vi.advanceTimersByTimeAsync(20);
    await Promise.all(burst);
    expect(budget.rate).toBe(10);
  });

  it('recovers by a tenth of the limit per quiet 10 s, and never above the limit', async () => {
    const budget = new CallBudget({ perInterval: 20, retryAfterMs, adaptive: true });
    await budget.run(async () => Promise.reject(new Throttled(100))).catch(() => {});
    expect(budget.rate).toBe(10);
    const rates: number[] = [];
    for (let i = 0; i < 8; i++) {
      await vi.advanceTimersByTimeAsync(10_000);
      await budget.run(async () => 1);
      rates.push(budget.rate);
    }
    expect(rates).toEqual([12, 14, 16, 18, 20, 20, 20, 20]);
  });

  it('does not go below its floor however many throttles come', async () => {
    const budget = new CallBudget({ perInterval: 1, retryAfterMs, adaptive: { floorPerSecond: 0.25 } });
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(5000);
      await budget.run(async () => Promise.reject(new Throttled(1))).catch(() => {});
    }
    expect(budget.rate).toBe(0.25);
  });

  it('keeps a fixed rate when not adaptive', async () => {
    const budget = new CallBudget({ perInterval: 20, retryAfterMs });
    await budget.run(async () => Promise.reject(new Throttled(100))).catch(() => {});
    expect(budget.rate).toBe(20);
  });

  it('paces calls at the learned rate', async () => {
    const budget = new CallBudget({ perInterval: 4, retryAfterMs, adaptive: true, concurrency: 10 });
    const { starts, call } = recorder();
    await budget.run(call('429', 0, new Throttled(1))).catch(() => {});
    const all = Array.from({ length: 8 }, (_, i) => budget.run(call(`c${i}`)));
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(all);
    expect(
      maxInWindow(
        starts.slice(1).map((s) => s.at),
        1000,
      ),
    ).toBe(2);
  });
});

describe('StartPacer', () => {
  it('lets one call start per 1/rate seconds when the rate is below one per window', () => {
    const pacer = new StartPacer(0.5, systemClock);
    expect(pacer.delay()).toBe(0);
    pacer.took();
    expect(pacer.delay()).toBe(2000);
  });

  it('tells its subscribers when it fills up', () => {
    const pacer = new StartPacer(2, systemClock);
    let told = 0;
    pacer.subscribe(() => told++);
    pacer.took();
    expect(told).toBe(0);
    pacer.took();
    expect(told).toBe(1);
  });
});
