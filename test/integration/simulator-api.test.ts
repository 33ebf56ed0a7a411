// The simulator's provider API over real HTTP: every endpoint, the documented status codes,
// authentication, credits, validation answers and the asynchronous states on a fake clock.
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatorOptions } from '../../src/simulator/options.ts';
import { type RunningSimulator, startSimulator } from '../../src/simulator/simulator.ts';
import type { WireCreatedServer, WireServerDetail, WireServerList } from '../../src/vpsorg/wire.ts';
import { call, createBody } from '../fixtures/simulator-http.ts';

const ALICE = 'tok-alice-1f3a';
const BOB = 'tok-bob-9c2e';
const START = Date.parse('2026-03-01T12:00:00Z');

const running: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

/** A simulator on an ephemeral port with two accounts and a clock the test moves. */
async function simulator(options: SimulatorOptions = {}) {
  let wall = START;
  const sim = await startSimulator({
    accounts: [
      { name: 'alice', token: ALICE, credits: 1_000 },
      { name: 'bob', token: BOB, credits: 1_000 },
    ],
    clock: () => wall,
    seed: 3,
    ...options,
  });
  running.push(sim);
  const api = `${sim.apiBaseUrl}/servers/`;
  return {
    sim,
    api,
    server: (id: number, action = '') => `${api}${id}/${action === '' ? '' : `${action}/`}`,
    sleep: (ms: number) => {
      wall += ms;
    },
    create: async (overrides: Record<string, unknown> = {}, token = ALICE) => {
      const answer = await call<WireCreatedServer>('POST', api, { token, body: createBody(overrides) });
      expect(answer.status).toBe(201);
      return answer.body;
    },
  };
}

describe('provider API: endpoints', () => {
  it('creates a server with 201, status provisioning, no address and the documented message', async () => {
    const { api } = await simulator();
    const answer = await call<WireCreatedServer>('POST', api, {
      token: ALICE,
      body: createBody({ backups_enabled: true }),
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({
      id: 12345,
      name: 'web-01',
      hostname: 'web01.example.com',
      status: 'provisioning',
      ip_address: null,
      location: 'us-west',
      plan: { id: 1, name: 'Standard VPS', vcpus: 2, memory: 4096, storage: 80 },
      os: { id: 5, name: 'Ubuntu 22.04 LTS' },
      backups_enabled: true,
      created_at: '2026-03-01T12:00:00Z',
      updated_at: '2026-03-01T12:00:00Z',
      message: 'Server is being provisioned. This may take 2-5 minutes.',
    });
  });

  it('lists the account’s servers with count, next and previous', async () => {
    const { api, create } = await simulator();
    await create({ name: 'a' });
    await create({ name: 'b' });
    const answer = await call<WireServerList>('GET', api, { token: ALICE });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ count: 2, next: null, previous: null });
    expect(answer.body.results.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('shows one server in detail', async () => {
    const { server, create } = await simulator();
    const { id } = await create();
    const answer = await call<WireServerDetail>('GET', server(id), { token: ALICE });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      id,
      ipv6_address: null,
      plan: { bandwidth: 2048 },
      backups_enabled: false,
    });
  });

  it('replaces name, hostname and backups with PUT and answers the detail', async () => {
    const { sim, server, create } = await simulator();
    const { id } = await create();
    sim.state.finishTransitions();
    const body = { name: 'web-02', hostname: 'web02.example.com', backups_enabled: true };
    const answer = await call<WireServerDetail>('PUT', server(id), { token: ALICE, body });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject(body);
  });

  it('changes only the fields sent with PATCH', async () => {
    const { sim, server, create } = await simulator();
    const { id } = await create();
    sim.state.finishTransitions();
    const answer = await call<WireServerDetail>('PATCH', server(id), {
      token: ALICE,
      body: { name: 'renamed' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      name: 'renamed',
      hostname: 'web01.example.com',
      backups_enabled: false,
    });
  });

  it('deletes with 204 and an empty body, after which the server is 404', async () => {
    const { server, create } = await simulator();
    const { id } = await create();
    const answer = await call('DELETE', server(id), { token: ALICE });
    expect([answer.status, answer.text]).toEqual([204, '']);
    expect((await call('GET', server(id), { token: ALICE })).status).toBe(404);
    expect((await call('DELETE', server(id), { token: ALICE })).status).toBe(404);
  });

  it.each([
    ['start', 'stopped', 'Server is starting', 'starting'],
    ['stop', 'active', 'Server is stopping', 'stopping'],
    ['reboot', 'active', 'Server is rebooting', 'rebooting'],
  ])('answers %s on a %s server with the success envelope', async (action, from, message, status) => {
    const { sim, server, create } = await simulator();
    const { id } = await create({ name: 'web-01' });
    sim.state.drift(id, { status: from as 'active' | 'stopped' });
    const answer = await call('POST', server(id, action), { token: ALICE });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'success', message, server: { id, name: 'web-01', status } });
  });

  it('answers 404 JSON for paths the API does not have, including a missing trailing slash', async () => {
    const { sim, api } = await simulator();
    for (const path of [`${sim.apiBaseUrl}/servers`, `${api}12345`, `${api}12345/shutdown/`, `${sim.url}/`]) {
      const answer = await call('GET', path, { token: ALICE });
      expect([path, answer.status, answer.body]).toEqual([path, 404, { detail: 'Not found.' }]);
    }
  });

  it('answers 405 naming the method for a known path with another method', async () => {
    const { server } = await simulator();
    const answer = await call('GET', server(12345, 'start'), { token: ALICE });
    expect(answer.status).toBe(405);
    expect(answer.body).toEqual({ detail: 'Method "GET" not allowed.' });
    expect(answer.headers.get('allow')).toBe('POST');
  });
});

describe('provider API: accounts', () => {
  it('answers 401 without an Authorization header', async () => {
    const { api } = await simulator();
    const answer = await call('GET', api, { token: null });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ detail: 'Authentication credentials were not provided.' });
  });

  it('answers 401 for a token no account has', async () => {
    const { api } = await simulator();
    const answer = await call('POST', api, { token: 'stolen', body: createBody() });
    expect([answer.status, answer.body]).toEqual([401, { detail: 'Invalid token.' }]);
  });

  it('keeps each account’s servers apart: another account’s server is 404', async () => {
    const { api, server, create } = await simulator();
    const { id } = await create({}, ALICE);
    expect((await call('GET', server(id), { token: BOB })).status).toBe(404);
    expect((await call('POST', server(id, 'stop'), { token: BOB })).status).toBe(404);
    expect((await call<WireServerList>('GET', api, { token: BOB })).body.count).toBe(0);
  });

  it('answers 402 when a create costs more credits than the account has', async () => {
    const { sim, api, create } = await simulator({ accounts: [{ name: 'poor', token: ALICE, credits: 12 }] });
    await create({ plan_id: 2 });
    const answer = await call<{ detail: string }>('POST', api, {
      token: ALICE,
      body: createBody({ plan_id: 1 }),
    });
    expect(answer.status).toBe(402);
    expect(answer.body.detail).toMatch(/^Insufficient credits/);
    expect(sim.state.accounts()).toEqual([{ name: 'poor', credits: 2, servers: 1 }]);
  });
});

describe('provider API: refusals', () => {
  it('answers 400 with one message per bad field', async () => {
    const { api } = await simulator();
    const answer = await call('POST', api, {
      token: ALICE,
      body: { name: 'web 01', plan_id: '1', os_id: 99, location: 'mars', hostname: 'nope' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      name: ['Enter a valid server name: letters, digits and hyphens only.'],
      plan_id: ['A valid integer is required.'],
      os_id: ['Invalid pk "99" - object does not exist.'],
      location: ['"mars" is not a valid choice.'],
      hostname: ['Enter a valid fully qualified domain name (FQDN), e.g. web01.example.com.'],
    });
  });

  it('answers 400 naming the missing fields of a PUT', async () => {
    const { sim, server, create } = await simulator();
    const { id } = await create();
    sim.state.finishTransitions();
    const answer = await call('PUT', server(id), { token: ALICE, body: { name: 'web-02' } });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      hostname: ['This field is required.'],
      backups_enabled: ['This field is required.'],
    });
  });

  it('answers 400 for a body that is not JSON', async () => {
    const { api } = await simulator();
    const answer = await call<{ detail: string }>('POST', api, { token: ALICE, rawBody: '{"name": ' });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toMatch(/^JSON parse error - /);
  });

  it('answers 415 for a body that is not sent as JSON', async () => {
    const { api } = await simulator();
    const answer = await call('POST', api, { token: ALICE, rawBody: 'name=web', contentType: 'text/plain' });
    expect(answer.status).toBe(415);
  });

  it('answers 400 "already running" to start on an active server', async () => {
    const { sim, server, create } = await simulator();
    const { id } = await create();
    sim.state.finishTransitions();
    const answer = await call('POST', server(id, 'start'), { token: ALICE });
    expect([answer.status, answer.body]).toEqual([400, { detail: 'Server is already running.' }]);
  });

  it('answers 400 "not running" to reboot on a stopped server', async () => {
    const { sim, server, create } = await simulator();
    const { id } = await create();
    sim.state.drift(id, { status: 'stopped' });
    const answer = await call('POST', server(id, 'reboot'), { token: ALICE });
    expect([answer.status, answer.body]).toEqual([400, { detail: 'Server is not running.' }]);
  });

  it('answers 400 "already stopped" to stop on a stopped server', async () => {
    const { sim, server, create } = await simulator();
    const { id } = await create();
    sim.state.drift(id, { status: 'stopped' });
    const answer = await call('POST', server(id, 'stop'), { token: ALICE });
    expect([answer.status, answer.body]).toEqual([400, { detail: 'Server is already stopped.' }]);
  });

  it('answers 400 naming the state to power actions and updates while provisioning', async () => {
    const { server, create } = await simulator();
    const { id } = await create();
    const busy = { detail: 'Server is provisioning. Try again when the current operation has finished.' };
    for (const action of ['start', 'stop', 'reboot']) {
      const answer = await call('POST', server(id, action), { token: ALICE });
      expect([action, answer.status, answer.body]).toEqual([action, 400, busy]);
    }
    const patch = await call('PATCH', server(id), { token: ALICE, body: { name: 'x' } });
    expect([patch.status, patch.body]).toEqual([400, busy]);
  });

  it('answers 400 to power actions on a suspended server', async () => {
    const { sim, server, create } = await simulator();
    const { id } = await create();
    sim.state.suspend(id);
    const answer = await call('POST', server(id, 'start'), { token: ALICE });
    expect([answer.status, answer.body]).toEqual([400, { detail: 'Server is suspended.' }]);
  });
});

describe('provider API: asynchronous states', () => {
  const status = async (url: string) => (await call<WireServerDetail>('GET', url, { token: ALICE })).body;

  it('provisions a server to active with IPv4 and IPv6 addresses after 2–5 simulated minutes', async () => {
    const { server, create, sleep } = await simulator();
    const { id } = await create();
    sleep(119_000);
    expect(await status(server(id))).toMatchObject({ status: 'provisioning', ip_address: null });
    sleep(181_001);
    const active = await status(server(id));
    expect(active.status).toBe('active');
    expect(active.ip_address).toMatch(/^203\.0\.113\.\d+$/);
    expect(active.ipv6_address).toMatch(/^2001:0db8::/);
  });

  it('runs stop, start and reboot through their transitional states', async () => {
    const { server, create, sleep, sim } = await simulator({ timeScale: 600 });
    const { id } = await create();
    sim.state.finishTransitions();
    const seen: string[] = [];
    for (const action of ['stop', 'start', 'reboot']) {
      seen.push(
        (await call<{ server: { status: string } }>('POST', server(id, action), { token: ALICE })).body.server
          .status,
      );
      sleep(30_000 / 600 + 1);
      seen.push((await status(server(id))).status);
    }
    expect(seen).toEqual(['stopping', 'stopped', 'starting', 'active', 'rebooting', 'active']);
  });

  it('turns minutes into milliseconds with a large time-scale on the real clock', async () => {
    const sim = await startSimulator({ timeScale: 6000, seed: 1 });
    running.push(sim);
    const created = await call<WireCreatedServer>('POST', `${sim.apiBaseUrl}/servers/`, {
      token: 'sim-token',
      body: createBody(),
    });
    await new Promise((resolve) => setTimeout(resolve, 120));
    const detail = await call<WireServerDetail>('GET', `${sim.apiBaseUrl}/servers/${created.body.id}/`, {
      token: 'sim-token',
    });
    expect(detail.body.status).toBe('active');
  });

  it('moves updated_at when a transition completes and when the server is updated', async () => {
    const { server, create, sleep } = await simulator({ provisioningSeconds: { min: 60, max: 60 } });
    const { id, updated_at } = await create();
    expect(updated_at).toBe('2026-03-01T12:00:00Z');
    sleep(90_000);
    expect((await status(server(id))).updated_at).toBe('2026-03-01T12:01:00Z');
    await call('PATCH', server(id), { token: ALICE, body: { backups_enabled: true } });
    expect((await status(server(id))).updated_at).toBe('2026-03-01T12:01:30Z');
  });
});
