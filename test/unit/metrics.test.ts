// The metrics the operator exposes: the engine's hooks land in client-go / controller-runtime
// series, provider calls are counted by endpoint and code, and the exposition parses.
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.ts';

/** The value of one sample in Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = m[2] ?? '';
    if (want.every((w) => got.includes(w))) return Number(m[3]);
  }
  return undefined;
}

describe('metrics', () => {
  it('counts a deferred pass, and its wait in the budget wait histogram', async () => {
    const m = createMetrics();
    m.budget('acct1').deferred?.(12);
    const text = await m.registry.metrics();
    expect(sample(text, 'vps_provider_budget_deferred_total', { account: 'acct1' })).toBe(1);
    expect(sample(text, 'vps_provider_budget_wait_seconds_count', { account: 'acct1' })).toBe(1);
    expect(sample(text, 'vps_provider_budget_wait_seconds_bucket', { account: 'acct1', le: '10' })).toBe(0);
  });

  it('counts the leaked servers the cached VpsServers report, each id once per namespace', async () => {
    const m = createMetrics();
    m.setLeakedServersSource(() => [
      { metadata: { namespace: 'shop' }, status: { leakedServerIds: [9, 10] } },
      { metadata: { namespace: 'shop' }, status: { leakedServerIds: [10] } },
      { metadata: { namespace: 'team-b' }, status: { leakedServerIds: [11] } },
      { metadata: { namespace: 'quiet' }, status: {} },
      { metadata: { namespace: 'odd' }, status: { leakedServerIds: 'not a list' } },
    ]);
    const text = await m.registry.metrics();
    expect(sample(text, 'vps_leaked_servers', { namespace: 'shop' })).toBe(2);
    expect(sample(text, 'vps_leaked_servers', { namespace: 'team-b' })).toBe(1);
    expect(sample(text, 'vps_leaked_servers', { namespace: 'quiet' })).toBeUndefined();
    expect(sample(text, 'vps_leaked_servers', { namespace: 'odd' })).toBeUndefined();
  });

  it('counts work-queue adds, retries and depth under the queue name', async () => {
    const m = createMetrics();
    const q = m.workQueue('vpsserver');
    q.added();
    q.added();
    q.retried();
    q.depth(7);
    const text = await m.registry.metrics();
    expect(sample(text, 'workqueue_adds_total', { name: 'vpsserver' })).toBe(2);
    expect(sample(text, 'workqueue_retries_total', { name: 'vpsserver' })).toBe(1);
    expect(sample(text, 'workqueue_depth', { name: 'vpsserver' })).toBe(7);
  });

  it('counts reconciles by result with controller-runtime names', async () => {
    const m = createMetrics();
    m.reconcile('vpsserver').reconciled('error', 0.2);
    const text = await m.registry.metrics();
    expect(
      sample(text, 'controller_runtime_reconcile_total', { controller: 'vpsserver', result: 'error' }),
    ).toBe(1);
    expect(sample(text, 'controller_runtime_reconcile_time_seconds_count', { controller: 'vpsserver' })).toBe(
      1,
    );
  });

  it('counts provider calls by endpoint and code, and 429s apart', async () => {
    const m = createMetrics();
    m.providerCall({ endpoint: 'create', method: 'POST', status: 201, outcome: 'ok', durationMs: 30 }, 'a1');
    m.providerCall(
      { endpoint: 'list', method: 'GET', status: 429, outcome: 'transient', durationMs: 5 },
      'a1',
    );
    m.providerCall({ endpoint: 'list', method: 'GET', outcome: 'transient', durationMs: 10_000 }, 'a1');
    const text = await m.registry.metrics();
    expect(sample(text, 'vps_provider_calls_total', { endpoint: 'create', code: '201' })).toBe(1);
    expect(sample(text, 'vps_provider_calls_total', { endpoint: 'list', code: 'network' })).toBe(1);
    expect(sample(text, 'vps_provider_throttled_total')).toBe(1);
  });

  it('reports servers by state from the source it is given, at scrape time', async () => {
    const m = createMetrics();
    let active = 3;
    m.setServersByStateSource(() => new Map([['active', active]]));
    expect(sample(await m.registry.metrics(), 'vps_servers', { state: 'active' })).toBe(3);
    active = 4;
    expect(sample(await m.registry.metrics(), 'vps_servers', { state: 'active' })).toBe(4);
  });

  it('counts resources by condition type, status and reason from the source it is given, at scrape time', async () => {
    const m = createMetrics();
    const stalled = { type: 'Stalled', status: 'True', reason: 'InsufficientCredits' };
    const ready = { type: 'Ready', status: 'True', reason: 'Available' };
    let resources: unknown[] = [[stalled], [stalled, ready], undefined, [{ type: 1 }], 'x'];
    m.setResourceConditionsSource(() => resources);
    const text = await m.registry.metrics();
    expect(
      sample(text, 'vps_resource_conditions', {
        type: 'Stalled',
        status: 'True',
        reason: 'InsufficientCredits',
      }),
    ).toBe(2);
    expect(
      sample(text, 'vps_resource_conditions', { type: 'Ready', status: 'True', reason: 'Available' }),
    ).toBe(1);
    resources = [[ready]];
    expect(
      sample(await m.registry.metrics(), 'vps_resource_conditions', { type: 'Stalled' }),
    ).toBeUndefined();
  });

  it('includes process metrics and the leader gauge', async () => {
    const m = createMetrics();
    m.setLeader(true);
    const text = await m.registry.metrics();
    expect(sample(text, 'vps_operator_leader')).toBe(1);
    expect(text).toContain('process_cpu_seconds_total');
  });
});
