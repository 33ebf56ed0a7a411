// A pass asks its account's provider port whether a call would wait long in the budget before
// it makes it (src/vpsserver/vpsorg-provider.ts longWait, accounts.ts deferredPass): over about
// 1 s it is told how long, so it can give its worker back; the call is never queued.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallBudget, callPriority, withCallFlow } from '../../src/runtime/index.ts';
import { VpsOrgClient } from '../../src/vpsorg/index.ts';
import { deferredPass } from '../../src/vpsserver/accounts.ts';
import { OBSERVATION_FLOW, vpsOrgProvider } from '../../src/vpsserver/vpsorg-provider.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

function port(budget: CallBudget) {
  const client = new VpsOrgClient({ token: 't', baseUrl: 'http://127.0.0.1:9' });
  return vpsOrgProvider(client, budget);
}

/** A budget of 1 call/s whose window is full, with `writes` writes of namespace `ns-a` waiting. */
async function busy(writes: number): Promise<CallBudget> {
  const budget = new CallBudget({ perInterval: 1, intervalMs: 1000 });
  void budget.run(() => new Promise(() => {}));
  await vi.advanceTimersByTimeAsync(0);
  for (let i = 0; i < writes; i++)
    void budget.run(() => new Promise(() => {}), { priority: callPriority.write, flow: 'ns-a' });
  return budget;
}

describe('the provider port asked for a long wait', () => {
  it.each<[string, number, 'read' | 'write', string, number | undefined]>([
    ['a write behind a 1 s window alone goes ahead and waits', 0, 'write', 'ns-a', undefined],
    ["a write behind its namespace's backlog is told the backlog's time", 3, 'write', 'ns-a', 4000],
    ['a write of another namespace waits one turn of that backlog, not all of it', 3, 'write', 'ns-b', 2000],
    ['a read waits behind every write', 3, 'read', 'ns-b', 4000],
  ])('%s', async (_, writes, call, ns, want) => {
    const provider = port(await busy(writes));
    expect(withCallFlow(ns, () => provider.longWait(call))).toBe(want);
  });

  it('reports a Retry-After pause for reads and writes alike, and queues nothing', () => {
    const budget = new CallBudget();
    budget.pauseFor(30_000);
    const provider = port(budget);
    expect([provider.longWait('read'), provider.longWait('write'), budget.waiting]).toEqual([
      30_000, 30_000, 0,
    ]);
    expect(budget.waitingByFlow().has(OBSERVATION_FLOW)).toBe(false);
  });
});

describe('deferredPass', () => {
  it('requeues the pass for when the budget is ready and says so at debug level', () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    expect(deferredPass(log, 'write', 12_345)).toEqual({ kind: 'deferred', ms: 12_345 });
    expect(lines).toMatchObject([{ level: 20, call: 'write', waitMs: 12_345 }]);
  });
});
