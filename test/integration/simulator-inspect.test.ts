// The /_sim/ inspection and control API over real HTTP: off by default, every server of every
// account, stats, faults and rate limit at run time, accounts and credits, out-of-band drift.
import { afterEach, describe, expect, it } from 'vitest';
import type { SimServer } from '../../src/simulator/control.ts';
import type { SimulatorOptions } from '../../src/simulator/options.ts';
import { type RunningSimulator, startSimulator } from '../../src/simulator/simulator.ts';
import type { SimulatorStats } from '../../src/simulator/stats.ts';
import type { WireServerDetail } from '../../src/vpsorg/wire.ts';
import { call, createBody } from '../fixtures/simulator-http.ts';

const ALICE = 'tok-inspect-alice';
const BOB = 'tok-inspect-bob';

const running: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function simulator(options: SimulatorOptions = {}) {
  const sim = await startSimulator({
    accounts: [
      { name: 'alice', token: ALICE, credits: 100 },
      { name: 'bob', token: BOB, credits: 100 },
    ],
    inspect: true,
    seed: 9,
    ...options,
  });
  running.push(sim);
  const api = `${sim.apiBaseUrl}/servers/`;
  const create = async (token: string, name: string) =>
    (await call<{ id: number }>('POST', api, { token, body: createBody({ name }) })).body.id;
  return { sim, api, create, simUrl: (path: string) => `${sim.url}/_sim/${path}` };
}

describe('inspection API', () => {
  it('does not exist unless enabled', async () => {
    const sim = await startSimulator({ seed: 1 });
    running.push(sim);
    for (const path of ['servers', 'stats']) {
      expect((await call('GET', `${sim.url}/_sim/${path}`)).status).toBe(404);
    }
    expect((await call('PUT', `${sim.url}/_sim/faults`, { body: { errorRate: 1 } })).status).toBe(404);
  });

  it('lists every server of every account with its account name and never a token', async () => {
    const { create, simUrl } = await simulator();
    await create(ALICE, 'a-1');
    await create(BOB, 'b-1');
    const answer = await call<{ count: number; results: SimServer[] }>('GET', simUrl('servers'));
    expect(answer.status).toBe(200);
    expect(answer.body.results.map((s) => [s.name, s.account])).toEqual([
      ['a-1', 'alice'],
      ['b-1', 'bob'],
    ]);
    expect(answer.body.results[0]).toHaveProperty('resource_usage');
    expect(answer.text).not.toContain(ALICE);
    const bobs = await call<{ count: number }>('GET', simUrl('servers?account=bob'));
    expect(bobs.body.count).toBe(1);
  });

  it('counts calls per endpoint and answers per status, until reset', async () => {
    const { api, create, simUrl } = await simulator();
    const id = await create(ALICE, 'a-1');
    await call('GET', api, { token: ALICE });
    await call('GET', `${api}${id}/`, { token: BOB });
    await call('GET', api, { token: null });
    const stats = (await call<SimulatorStats>('GET', simUrl('stats'))).body;
    expect(stats).toMatchObject({
      calls: { create: 1, list: 2, get: 1, delete: 0 },
      byStatus: { '201': 1, '200': 1, '404': 1, '401': 1 },
      byEndpointStatus: { list: { '200': 1, '401': 1 }, get: { '404': 1 } },
      throttled: 0,
      retryAfterViolations: 0,
    });
    expect((await call('POST', simUrl('reset-stats'))).status).toBe(204);
    expect((await call<SimulatorStats>('GET', simUrl('stats'))).body.calls.list).toBe(0);
  });

  it('replaces the faults at run time and shows them', async () => {
    const { api, simUrl } = await simulator();
    const put = await call('PUT', simUrl('faults'), { body: { errorRate: 1, errorStatuses: [503] } });
    expect(put.body).toEqual([{ errorRate: 1, errorStatuses: [503] }]);
    expect((await call('GET', api, { token: ALICE })).status).toBe(503);
    await call('PUT', simUrl('faults'), { body: [] });
    expect((await call('GET', api, { token: ALICE })).status).toBe(200);
  });

  it('refuses bad faults with 400 naming the field', async () => {
    const { simUrl } = await simulator();
    const answer = await call('PUT', simUrl('faults'), { body: { dropRate: 'often' } });
    expect(answer).toMatchObject({
      status: 400,
      body: { detail: 'faults.dropRate: expected a number from 0 to 1, got "often"' },
    });
  });

  it('sets a rate limit at run time', async () => {
    const { api, simUrl } = await simulator();
    expect((await call('PUT', simUrl('rate-limit'), { body: { rateLimit: '1/min' } })).status).toBe(204);
    await call('GET', api, { token: ALICE });
    expect((await call('GET', api, { token: ALICE })).status).toBe(429);
  });

  it('suspends and unsuspends a server', async () => {
    const { create, simUrl } = await simulator();
    const id = await create(ALICE, 'a-1');
    await call('POST', simUrl('finish-transitions'));
    expect((await call('POST', simUrl(`servers/${id}/suspend`))).body).toMatchObject({ status: 'suspended' });
    expect((await call('POST', simUrl(`servers/${id}/unsuspend`))).body).toMatchObject({ status: 'active' });
    expect((await call('POST', simUrl('servers/1/suspend'))).status).toBe(404);
  });

  it('renames and powers off a server out of band, which its owner then sees', async () => {
    const { api, create, simUrl } = await simulator();
    const id = await create(ALICE, 'a-1');
    const drift = await call('PATCH', simUrl(`servers/${id}`), {
      body: { name: 'renamed', status: 'stopped', backups_enabled: true },
    });
    expect(drift.status).toBe(200);
    const seen = (await call<WireServerDetail>('GET', `${api}${id}/`, { token: ALICE })).body;
    expect(seen).toMatchObject({ name: 'renamed', status: 'stopped', backups_enabled: true });
  });

  it('refuses an out-of-band change with a bad value, naming the field', async () => {
    const { create, simUrl } = await simulator();
    const id = await create(ALICE, 'a-1');
    expect((await call('PATCH', simUrl(`servers/${id}`), { body: { status: 'exploded' } })).body).toEqual({
      detail:
        'status: expected one of provisioning, active, stopped, suspended, starting, stopping, rebooting',
    });
    expect((await call('PATCH', simUrl(`servers/${id}`), { body: { colour: 'red' } })).status).toBe(400);
  });

  it('deletes a server out of band', async () => {
    const { api, create, simUrl } = await simulator();
    const id = await create(ALICE, 'a-1');
    expect((await call('DELETE', simUrl(`servers/${id}`))).status).toBe(204);
    expect((await call('GET', `${api}${id}/`, { token: ALICE })).status).toBe(404);
    expect((await call('DELETE', simUrl(`servers/${id}`))).status).toBe(404);
  });

  it('adds an account whose token then works, and sets its credits', async () => {
    const { api, simUrl } = await simulator();
    const added = await call('POST', simUrl('accounts'), {
      body: { name: 'carol', token: 'tok-carol', credits: 0 },
    });
    expect(added).toMatchObject({ status: 201, body: { name: 'carol', credits: 0, servers: 0 } });
    expect((await call('POST', api, { token: 'tok-carol', body: createBody() })).status).toBe(402);
    const topped = await call('PUT', simUrl('accounts/carol/credits'), { body: { credits: 50 } });
    expect(topped.body).toEqual({ name: 'carol', credits: 50, servers: 0 });
    expect((await call('POST', api, { token: 'tok-carol', body: createBody() })).status).toBe(201);
    const accounts = await call('GET', simUrl('accounts'));
    expect(accounts.text).not.toContain('tok-');
  });

  it('refuses an account whose token another account has with 409', async () => {
    const { simUrl } = await simulator();
    const answer = await call('POST', simUrl('accounts'), { body: { name: 'mallory', token: ALICE } });
    expect(answer.status).toBe(409);
  });

  it('advances the simulator’s clock so transitions complete', async () => {
    const { api, create, simUrl } = await simulator();
    const id = await create(ALICE, 'a-1');
    await call('POST', simUrl('advance'), { body: { ms: 301_000 } });
    const seen = (await call<WireServerDetail>('GET', `${api}${id}/`, { token: ALICE })).body;
    expect(seen.status).toBe('active');
  });

  it('does not count its own requests in the provider stats', async () => {
    const { sim, simUrl } = await simulator();
    await call('GET', simUrl('servers'));
    expect(sim.state.stats().byStatus).toEqual({});
  });
});
