// What a user and their tools read from a VpsServer, checked against what the provider saw: the
// (Ready, Synced) pair for every way the last call to VPS.org can end, exactly one Event per
// provider write and per refusal (counted against the simulator's own call counts), and the
// kstatus (Flux's `wait: true`, kpt) of a resource through its lifecycle agreeing with
// `kubectl wait --for=condition=Ready`. Each test has its own simulator, so its counts are its own.
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultRule } from '../../src/simulator/faults.ts';
import { kstatus, toolsAgree } from '../support/kstatus.ts';
import { condition, isReady, type OperatorEnv, startEnv, type VpsObject } from '../support/operator-env.ts';

let env: OperatorEnv;
afterEach(async () => {
  await env?.stop();
});

const pairOf = (o: VpsObject | undefined) =>
  `Ready=${condition(o, 'Ready')?.status} ${condition(o, 'Ready')?.reason}, Synced=${condition(o, 'Synced')?.status} ${condition(o, 'Synced')?.reason}`;
const answered = (endpoint: string, status: number) =>
  env.sim.state.stats().byEndpointStatus[endpoint as 'create']?.[String(status)] ?? 0;
const totalCalls = () => Object.values(env.sim.state.stats().calls).reduce((a, b) => a + b, 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Wakes the operator for the resource without changing its spec (metadata only: same generation). */
const poke = (name: string, n: number) =>
  env.patch(name, { metadata: { annotations: { 'example.com/poke': String(n) } } });

/** Events per reason for one object, counting folded repeats (`count`). */
async function eventCounts(name: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const e of await env.events(name))
    counts[`${e.type} ${e.reason}`] = (counts[`${e.type} ${e.reason}`] ?? 0) + e.count;
  return counts;
}

const failing = (status: number): FaultRule => ({
  errorRate: 1,
  errorStatuses: [status],
  endpoints: ['create'],
});

describe('Synced reports the last call to VPS.org', () => {
  it('a create that succeeded: Ready and Synced, after exactly one create', async () => {
    env = await startEnv();
    await env.create('ok');
    const o = await env.waitReady('ok');
    expect(pairOf(o)).toBe('Ready=True Available, Synced=True ReconcileSuccess');
    expect(env.sim.state.stats().byEndpointStatus.create).toEqual({ '201': 1 });
  });

  it.each([
    ['failed for a while (503)', 503, 'ProviderUnavailable'],
    ['throttled (429)', 429, 'RateLimited'],
  ])('a create that %s: both say so while it is retried, then both recover', async (_, status, reason) => {
    env = await startEnv({ simulator: { faults: failing(status) } });
    await env.create('flaky');
    const o = await env.waitFor(
      'flaky',
      (x) => pairOf(x) === `Ready=False ${reason}, Synced=False ${reason}`,
      `Ready and Synced ${reason}`,
    );
    expect(condition(o, 'Reconciling')?.status).toBe('True');
    expect(answered('create', status)).toBeGreaterThanOrEqual(1);
    expect(answered('create', 201)).toBe(0);
    env.sim.state.setFaults(null);
    const ready = await env.waitReady('flaky');
    expect(pairOf(ready)).toBe('Ready=True Available, Synced=True ReconcileSuccess');
    expect(answered('create', 201)).toBe(1);
  });

  it('a refused create (400): Stalled and Synced False with the refusal, and no second call', async () => {
    env = await startEnv();
    await env.create('refused', { planId: 99 });
    const o = await env.waitFor('refused', (x) => condition(x, 'Stalled')?.status === 'True', 'Stalled');
    expect(pairOf(o)).toBe('Ready=False ProviderRejected, Synced=False ProviderRejected');
    expect(condition(o, 'Synced')?.message).toMatch(/^fix spec\.planId: VPS\.org has no plan 99 /);
    // Later passes re-read the remembered refusal: no call, and Synced still tells of the last one.
    for (let i = 0; i < 3; i++) await poke('refused', i);
    await sleep(1_000);
    expect(pairOf(await env.get('refused'))).toBe(
      'Ready=False ProviderRejected, Synced=False ProviderRejected',
    );
    expect(env.sim.state.stats().calls.create).toBe(1);
  });

  it('no call at all (no credentials): Synced is Unknown and VPS.org saw nothing', async () => {
    env = await startEnv();
    await env.create('nocall', { credentialsSecretRef: { name: 'missing' } });
    const o = await env.waitFor('nocall', (x) => condition(x, 'Stalled')?.status === 'True', 'Stalled');
    expect(pairOf(o)).toBe('Ready=False CredentialsNotFound, Synced=Unknown NoCallYet');
    expect(condition(o, 'Ready')?.message).toMatch(
      new RegExp(`^create Secret ${env.namespace}/missing with the VPS.org API token under key "token"`),
    );
    expect(totalCalls()).toBe(0);
  });
});

describe('one Event per provider write and per refusal', () => {
  it('a whole lifecycle records one Normal event per successful write, and no Warning', async () => {
    env = await startEnv();
    await env.create('life');
    await env.waitReady('life');
    await env.patch('life', { spec: { name: 'life-2' } });
    await env.waitFor(
      'life',
      (o) => isReady(o) && env.sim.state.servers().some((s) => s.name === 'life-2'),
      'renamed',
    );
    await env.patch('life', { spec: { powerState: 'Stopped' } });
    await env.waitFor('life', (o) => isReady(o) && o?.status?.state === 'stopped', 'stopped');
    await env.patch('life', { spec: { powerState: 'Running' } });
    await env.waitFor('life', (o) => isReady(o) && o?.status?.state === 'active', 'running');
    await env.patch('life', { spec: { rebootRequestedAt: 'now' } });
    await env.waitFor('life', (o) => isReady(o) && o?.status?.lastRebootRequestedAt === 'now', 'rebooted');
    await env.remove('life');
    await env.waitFor('life', (o) => o === undefined, 'gone');
    await sleep(500);
    expect(await eventCounts('life')).toEqual({
      'Normal ServerCreated': answered('create', 201),
      'Normal ServerUpdated': answered('patch', 200),
      'Normal ServerStopping': answered('stop', 200),
      'Normal ServerStarting': answered('start', 200),
      'Normal ServerRebooting': answered('reboot', 200),
      'Normal ServerDeleted': answered('delete', 204),
    });
    expect(Object.values(await eventCounts('life'))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('a refused create (400) records one Warning however often the stall is re-read', async () => {
    env = await startEnv();
    await env.create('bad', { planId: 99 });
    await env.waitFor('bad', (x) => condition(x, 'Stalled')?.status === 'True', 'Stalled');
    for (let i = 0; i < 4; i++) await poke('bad', i);
    await sleep(1_000);
    expect(answered('create', 400)).toBe(1);
    expect(await eventCounts('bad')).toEqual({ 'Warning ProviderRejected': 1 });
  });

  it('a refused create (402) warns once per refusal: again only after the spec changed', async () => {
    env = await startEnv();
    env.sim.state.setCredits('team', 0);
    await env.create('poor');
    await env.waitFor('poor', (x) => condition(x, 'Stalled')?.status === 'True', 'Stalled');
    await poke('poor', 1);
    await sleep(500);
    expect(await eventCounts('poor')).toEqual({ 'Warning InsufficientCredits': 1 });
    await env.patch('poor', { spec: { backupsEnabled: true } });
    await env.waitFor('poor', () => answered('create', 402) === 2, 'a second refused create');
    await sleep(500);
    expect(await eventCounts('poor')).toEqual({ 'Warning InsufficientCredits': answered('create', 402) });
  });

  it('a refused token (401) warns once, naming the Secret to fix', async () => {
    env = await startEnv();
    await env.createSecret('wrong', { token: 'not-the-token' });
    await env.create('unauth', { credentialsSecretRef: { name: 'wrong' } });
    const o = await env.waitFor('unauth', (x) => condition(x, 'Stalled')?.status === 'True', 'Stalled');
    expect(condition(o, 'Stalled')?.message).toMatch(
      new RegExp(`^fix the API token in Secret ${env.namespace}/wrong \\(key "token"\\): VPS.org refused it`),
    );
    for (let i = 0; i < 3; i++) await poke('unauth', i);
    await sleep(1_000);
    expect(answered('list', 401)).toBeGreaterThanOrEqual(1);
    expect(await eventCounts('unauth')).toEqual({ 'Warning Unauthorized': 1 });
  });

  it('transient failures record no Event; the create that finally succeeds records one', async () => {
    env = await startEnv({ simulator: { faults: failing(503) } });
    await env.create('later');
    await env.waitFor('later', () => answered('create', 503) >= 2, 'two failed creates');
    env.sim.state.setFaults(null);
    await env.waitReady('later');
    expect(await eventCounts('later')).toEqual({ 'Normal ServerCreated': answered('create', 201) });
    expect(answered('create', 201)).toBe(1);
  });
});

describe('kstatus agrees with kubectl wait', () => {
  it('through create, provisioning, ready, a spec change, a refusal and deletion', async () => {
    env = await startEnv({ noOperator: true });
    // Before the operator reports, kstatus must not read "Current" (the CRD's status default).
    const fresh = await env.create('ks');
    expect(fresh.status?.observedGeneration).toBe(0);
    expect(kstatus(fresh).status).toBe('InProgress');
    await env.create('ks-bad', { planId: 99 });
    await env.startOperator();

    const seen: string[] = [];
    const watch = async (name: string, until: (o: VpsObject | undefined) => boolean) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const o = await env.get(name);
        const s = o === undefined ? 'gone' : kstatus(o).status;
        if (seen.at(-1) !== s) seen.push(s);
        if (o !== undefined && !toolsAgree(o)) throw new Error(`tools disagree: ${JSON.stringify(o.status)}`);
        if (until(o)) return o;
        if (Date.now() > deadline) throw new Error(`timed out; kstatus so far ${seen.join(' → ')}`);
        await sleep(20);
      }
    };
    await watch('ks', isReady);
    expect(seen[0]).toBe('InProgress');
    expect(seen.at(-1)).toBe('Current');

    const patched = await env.patch('ks', { spec: { hostname: 'ks.example.com' } });
    expect(kstatus(patched).status).toBe('InProgress');
    seen.length = 0;
    await watch('ks', (o) => isReady(o) && o?.status?.observedGeneration === patched.metadata?.generation);
    expect(seen.at(-1)).toBe('Current');

    const bad = await watch('ks-bad', (o) => condition(o, 'Stalled')?.status === 'True');
    expect(kstatus(bad as VpsObject)).toMatchObject({
      status: 'Failed',
      message: expect.stringMatching(/^fix spec\.planId/),
    });

    await env.remove('ks');
    seen.length = 0;
    await watch('ks', (o) => o === undefined);
    expect(seen.filter((s) => s !== 'gone').every((s) => s === 'Terminating')).toBe(true);
  });
});
