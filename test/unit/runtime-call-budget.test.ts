// The provider call budget: rate, concurrency, priority and the global retry-after pause, with
// vitest's fake timers (p-queue keeps its own Date.now/setTimeout, which they also fake).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallBudget, callPriority } from '../../src/runtime/call-budget.ts';
import { withCallFlow } from '../../src/runtime/call-flow.ts';
import type { CallOutcome } from '../../src/runtime/metrics-hooks.ts';

class Throttled extends Error {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super('429');
    this.retryAfterMs = retryAfterMs;
  }
}
const retryAfterMs = (err: unknown) => (err instanceof Throttled ? err.retryAfterMs : undefined);

/** A call that records when it started and finishes after `ms` of (fake) time. */
function recorder() {
  const starts: { name: string; at: number }[] = [];
  let running = 0;
  let maxRunning = 0;
  const call =
    (name: string, ms = 0, fail?: Error) =>
    async () => {
      starts.push({ name, at: Date.now() });
      running++;
      maxRunning = Math.max(maxRunning, running);
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      running--;
      if (fail) throw fail;
      return name;
    };
  return { starts, call, maxRunning: () => maxRunning };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CallBudget', () => {
  it('starts no more calls in any interval window than its rate allows', async () => {
    const budget = new CallBudget({ perInterval: 3, intervalMs: 1000, concurrency: 100 });
    const { starts, call } = recorder();
    const all = Promise.all(Array.from({ length: 9 }, (_, i) => budget.run(call(`c${i}`, 10))));
    await vi.advanceTimersByTimeAsync(5000);
    await all;
    const times = starts.map((s) => s.at);
    for (const t of times) {
      expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(3);
    }
    expect(times.at(-1)! - times[0]!).toBeLessThan(3000);
  });

  it('never runs more calls at once than its concurrency', async () => {
    const budget = new CallBudget({ concurrency: 2 });
    const { call, maxRunning } = recorder();
    const all = Promise.all(Array.from({ length: 6 }, (_, i) => budget.run(call(`c${i}`, 100))));
    await vi.advanceTimersByTimeAsync(1000);
    await all;
    expect(maxRunning()).toBe(2);
  });

  it('starts waiting writes before waiting observations', async () => {
    const budget = new CallBudget({ concurrency: 1 });
    const { starts, call } = recorder();
    const first = budget.run(call('busy', 100));
    const rest = [
      budget.run(call('observe-1'), { priority: callPriority.observe }),
      budget.run(call('write-1'), { priority: callPriority.write }),
      budget.run(call('observe-2'), { priority: callPriority.observe }),
      budget.run(call('write-2'), { priority: callPriority.write }),
    ];
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([first, ...rest]);
    expect(starts.map((s) => s.name)).toEqual(['busy', 'write-1', 'write-2', 'observe-1', 'observe-2']);
  });

  it('starts no waiting call before the deadline a retry-after answer set', async () => {
    const budget = new CallBudget({ concurrency: 1, retryAfterMs });
    const { starts, call } = recorder();
    const throttled = budget.run(call('throttled', 0, new Throttled(5000))).catch(() => 'rejected');
    const waiting = [budget.run(call('a')), budget.run(call('b'))];
    await vi.advanceTimersByTimeAsync(0);
    const pausedAt = Date.now();
    await vi.advanceTimersByTimeAsync(4999);
    expect(starts.map((s) => s.name)).toEqual(['throttled']);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([throttled, ...waiting]);
    expect(starts.slice(1).map((s) => s.at - pausedAt)).toEqual([5000, 5000]);
  });

  it('holds calls added during a pause until the deadline', async () => {
    const budget = new CallBudget();
    const { starts, call } = recorder();
    budget.pauseFor(2000);
    await vi.advanceTimersByTimeAsync(1000);
    const late = budget.run(call('late'));
    await vi.advanceTimersByTimeAsync(999);
    expect(starts).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await late;
    expect(starts).toHaveLength(1);
  });

  it('lets calls already running finish when a pause starts', async () => {
    const budget = new CallBudget();
    const { call } = recorder();
    const running = budget.run(call('long', 100));
    await vi.advanceTimersByTimeAsync(10);
    budget.pauseFor(10_000);
    await vi.advanceTimersByTimeAsync(90);
    await expect(running).resolves.toBe('long');
  });

  it('keeps the later deadline when a shorter pause is asked for', async () => {
    const budget = new CallBudget();
    budget.pauseFor(5000);
    const longUntil = budget.pausedUntil;
    budget.pauseFor(1000);
    expect(budget.pausedUntil).toBe(longUntil);
  });

  it('clears pausedUntil when the pause is over', async () => {
    const budget = new CallBudget();
    budget.pauseFor(1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(budget.pausedUntil).toBeUndefined();
  });

  it('passes a call result and a call error through unchanged', async () => {
    const budget = new CallBudget();
    const failure = new Error('500');
    await expect(budget.run(async () => 42)).resolves.toBe(42);
    await expect(budget.run(async () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('drops a waiting call whose signal aborts, without running it', async () => {
    const budget = new CallBudget();
    const { starts, call } = recorder();
    budget.pauseFor(1000);
    const abort = new AbortController();
    const dropped = budget.run(call('dropped'), { signal: abort.signal });
    abort.abort(new Error('reconcile cancelled'));
    await expect(dropped).rejects.toThrow('reconcile cancelled');
    await vi.advanceTimersByTimeAsync(1000);
    expect(starts).toHaveLength(0);
  });

  it('reports each call outcome and how long it waited', async () => {
    const outcomes: CallOutcome[] = [];
    const waits: number[] = [];
    const budget = new CallBudget({
      retryAfterMs,
      metrics: { waiting() {}, waited: (s) => waits.push(s), called: (o) => outcomes.push(o) },
    });
    await budget.run(async () => 1);
    await budget.run(async () => Promise.reject(new Error('x'))).catch(() => {});
    await budget.run(async () => Promise.reject(new Throttled(1000))).catch(() => {});
    const abort = new AbortController();
    const aborted = budget.run(async () => 1, { signal: abort.signal }).catch(() => {});
    abort.abort();
    await aborted;
    await vi.advanceTimersByTimeAsync(1000);
    expect(outcomes).toEqual(['ok', 'error', 'throttled', 'aborted']);
    expect(waits).toEqual([0, 0, 0]);
  });
});

/** What a budget holds before it is asked how long a call would wait. */
interface Held {
  /** calls per second (default: no limit) */
  rate?: number;
  /** calls started just now */
  started?: number;
  /** ms of a Retry-After pause */
  paused?: number;
  /** calls waiting, as [priority, flow] */
  waiting?: [number, string][];
}

async function holding(held: Held): Promise<CallBudget> {
  const budget = new CallBudget({
    concurrency: 100,
    ...(held.rate !== undefined && { perInterval: held.rate, intervalMs: 1000 }),
  });
  for (let i = 0; i < (held.started ?? 0); i++) void budget.run(() => new Promise(() => {}));
  await vi.advanceTimersByTimeAsync(0);
  if (held.paused !== undefined) budget.pauseFor(held.paused);
  for (const [priority, flow] of held.waiting ?? [])
    void budget.run(() => new Promise(() => {}), { priority, flow }).catch(() => {});
  return budget;
}

const { write, observe } = callPriority;
const writes = (flow: string, n: number): [number, string][] =>
  Array.from({ length: n }, () => [write, flow]);

describe('CallBudget.expectedWait', () => {
  it.each<[string, Held, { priority: number; flow: string }, number]>([
    ['an idle budget without a rate starts a call at once', {}, { priority: write, flow: 'a' }, 0],
    [
      'a Retry-After pause holds it for what is left of the pause',
      { paused: 5000 },
      { priority: write, flow: 'a' },
      5000,
    ],
    [
      'a full rate window holds it until the window slides',
      { rate: 2, started: 2 },
      { priority: write, flow: 'a' },
      1000,
    ],
    [
      'a window with room for a burst starts it at once',
      { rate: 10, started: 3, waiting: writes('a', 6) },
      { priority: write, flow: 'a' },
      0,
    ],
    [
      'each window of calls ahead of it costs one window',
      { rate: 2, started: 2, waiting: writes('a', 5) },
      { priority: write, flow: 'a' },
      3000,
    ],
    [
      'calls ahead wait out the pause first',
      { rate: 1, paused: 3000, waiting: writes('a', 2) },
      { priority: write, flow: 'a' },
      5000,
    ],
    [
      'writes waiting anywhere go before an observation',
      { rate: 1, started: 1, waiting: writes('a', 3) },
      { priority: observe, flow: '(observation)' },
      4000,
    ],
    [
      'another flow waits for one turn of a busy flow, not its backlog',
      { rate: 1, started: 1, waiting: writes('a', 5) },
      { priority: write, flow: 'b' },
      2000,
    ],
    [
      'observations waiting do not go before a write',
      {
        rate: 1,
        started: 1,
        waiting: [
          [observe, 'a'],
          [observe, 'a'],
        ],
      },
      { priority: write, flow: 'a' },
      1000,
    ],
  ])('%s', async (_, held, options, want) => {
    const budget = await holding(held);
    expect(budget.expectedWait(options)).toBe(want);
    budget.close();
  });

  it('takes the flow of the work running now when none is given', async () => {
    const budget = await holding({ rate: 1, started: 1, waiting: writes('ns-a', 3) });
    const inFlow = withCallFlow('ns-a', () => budget.expectedWait({ priority: write }));
    const elsewhere = withCallFlow('ns-b', () => budget.expectedWait({ priority: write }));
    expect([inFlow, elsewhere]).toEqual([4000, 2000]);
  });
});

describe('CallBudget.longWait', () => {
  it.each<[string, number, number | undefined]>([
    ['a wait of up to 1 s is not long: the call is made and waits as before', 1000, undefined],
    ['a longer wait is reported so the caller can come back after it', 1001, 1001],
    ['a 30 s Retry-After is reported whole, not a fixed backoff', 30_000, 30_000],
  ])('%s', async (_, pausedMs, want) => {
    const budget = new CallBudget();
    budget.pauseFor(pausedMs);
    expect(budget.longWait({ priority: write })).toBe(want);
  });

  it('counts each long wait it reports as a deferral, and queues nothing', async () => {
    let deferred = 0;
    const budget = new CallBudget({
      longWaitMs: 500,
      metrics: { waiting() {}, waited() {}, called() {}, deferred: () => deferred++ },
    });
    budget.longWait();
    budget.pauseFor(600);
    budget.longWait();
    budget.longWait();
    expect([deferred, budget.waiting]).toEqual([2, 0]);
  });
});
