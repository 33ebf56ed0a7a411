// The client against the simulator over real HTTP: every endpoint and every documented error
// code, pagination across pages, throttling, timeouts and the lost create answer, and the API
// token in no error and no log line. If the two disagree about the contract, this fails.
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatorOptions } from '../../src/simulator/options.ts';
import { type RunningSimulator, startSimulator } from '../../src/simulator/simulator.ts';
import {
  type CallEvent,
  type CreateServerRequest,
  VpsOrgClient,
  type VpsOrgClientOptions,
} from '../../src/vpsorg/index.ts';
import { failure } from '../support/vpsorg-failure.ts';

const TOKEN = 'sim-contract-7c1e9a4b2d';
const ACCOUNTS = [{ name: 'default', token: TOKEN, credits: 1_000 }];
const web = (name = 'web-01'): CreateServerRequest => ({ name, planId: 1, osId: 5, location: 'us-west' });

const running: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

interface Setup {
  sim: RunningSimulator;
  client: VpsOrgClient;
  calls: CallEvent[];
}

async function setup(sim: SimulatorOptions = {}, client: Partial<VpsOrgClientOptions> = {}): Promise<Setup> {
  const started = await startSimulator({ accounts: ACCOUNTS, inspect: true, seed: 1, ...sim });
  running.push(started);
  const calls: CallEvent[] = [];
  const c = new VpsOrgClient({
    token: TOKEN,
    baseUrl: started.apiBaseUrl,
    timeoutMs: 2_000,
    onCall: (e) => calls.push(e),
    ...client,
  });
  return { sim: started, client: c, calls };
}

describe('every endpoint, in the life of one server', () => {
  it('creates, reads, lists, updates, powers and deletes a server', async () => {
    const { sim, client } = await setup();

    const created = await client.createServer({
      ...web(),
      hostname: 'web01.example.com',
      backupsEnabled: true,
    });
    expect(created).toMatchObject({
      name: 'web-01',
      status: 'provisioning',
      ipAddress: null,
      backupsEnabled: true,
      message: 'Server is being provisioned. This may take 2-5 minutes.',
    });
    const id = created.id;

    sim.state.finishTransitions();
    const detail = await client.getServer(id);
    expect(detail).toMatchObject({
      id,
      status: 'active',
      hostname: 'web01.example.com',
      plan: { bandwidth: 2048 },
    });
    expect(detail.ipAddress).toEqual(expect.any(String));
    expect(detail.resourceUsage).toEqual({
      cpuPercent: expect.any(Number),
      memoryUsed: expect.any(Number),
      diskUsed: expect.any(Number),
      bandwidthUsed: expect.any(Number),
    });

    expect((await client.listServers()).map((s) => s.id)).toEqual([id]);

    const put = await client.updateServer(id, {
      name: 'web-02',
      hostname: 'web02.example.com',
      backupsEnabled: false,
    });
    expect(put).toMatchObject({ id, name: 'web-02', hostname: 'web02.example.com', backupsEnabled: false });
    const patched = await client.patchServer(id, { name: 'web-03' });
    expect(patched).toMatchObject({ id, name: 'web-03', hostname: 'web02.example.com' });

    expect(await client.stopServer(id)).toEqual({
      status: 'success',
      message: 'Server is stopping',
      server: { id, name: 'web-03', status: 'stopping' },
    });
    sim.state.finishTransitions();
    expect((await client.startServer(id)).server.status).toBe('starting');
    sim.state.finishTransitions();
    expect((await client.rebootServer(id)).server.status).toBe('rebooting');
    sim.state.finishTransitions();

    await client.deleteServer(id);
    expect((await failure(client.getServer(id))).kind).toBe('notFound');
  });

  it('filters the list by status and location', async () => {
    const { sim, client } = await setup();
    const west = await client.createServer(web('west'));
    const east = await client.createServer({ ...web('east'), location: 'us-east' });
    sim.state.finishTransitions();
    await client.stopServer(east.id);
    sim.state.finishTransitions();
    expect((await client.listServers({ location: 'us-east' })).map((s) => s.id)).toEqual([east.id]);
    expect((await client.listServers({ status: 'active' })).map((s) => s.id)).toEqual([west.id]);
    expect((await client.listServers({ status: 'stopped', location: 'us-west' })).map((s) => s.id)).toEqual(
      [],
    );
  });
});

describe('documented errors', () => {
  it('401: a wrong token is unauthorized on every endpoint it is documented for', async () => {
    const { client } = await setup({}, { token: 'not-the-token' });
    for (const call of [
      () => client.listServers(),
      () => client.createServer(web()),
      () => client.getServer(1),
    ]) {
      const err = await failure(call());
      expect(err).toMatchObject({ kind: 'unauthorized', status: 401 });
      expect(err.providerMessage).toEqual(expect.any(String));
    }
  });

  it('402: a create beyond the credits is terminal with the provider message', async () => {
    const { sim, client } = await setup();
    sim.state.setCredits('default', 0);
    const err = await failure(client.createServer(web()));
    expect(err).toMatchObject({ kind: 'terminal', status: 402, endpoint: 'create' });
    expect(err.message).toMatch(/^VPS\.org create server: 402 Payment Required: \S/);
    expect(sim.state.servers()).toEqual([]);
  });

  it('400: field errors of a create are terminal and name each field', async () => {
    const { client } = await setup();
    const err = await failure(
      client.createServer({ name: 'not a name!', planId: 99, osId: 5, location: 'us-west' }),
    );
    expect(err).toMatchObject({ kind: 'terminal', status: 400 });
    expect(Object.keys(err.fieldErrors ?? {})).toEqual(expect.arrayContaining(['name', 'plan_id']));
    expect(err.message).toMatch(/name: .+; plan_id: .+|plan_id: .+; name: .+/);
  });

  it('400: a PUT with a hostname that is not an FQDN names the field', async () => {
    const { sim, client } = await setup();
    const { id } = await client.createServer(web());
    sim.state.finishTransitions();
    const err = await failure(
      client.updateServer(id, { name: 'web-01', hostname: 'not fqdn', backupsEnabled: false }),
    );
    expect(err).toMatchObject({ kind: 'terminal', status: 400 });
    expect(err.fieldErrors).toHaveProperty('hostname');
  });

  it('400: start on a running server and reboot on a stopped one are terminal', async () => {
    const { sim, client } = await setup();
    const { id } = await client.createServer(web());
    sim.state.finishTransitions();
    const start = await failure(client.startServer(id));
    expect(start).toMatchObject({ kind: 'terminal', status: 400, endpoint: 'start', serverId: id });
    expect(start.providerMessage).toEqual(expect.any(String));
    await client.stopServer(id);
    sim.state.finishTransitions();
    expect(await failure(client.rebootServer(id))).toMatchObject({ kind: 'terminal', status: 400 });
  });

  it.each([
    ['get', (c: VpsOrgClient) => c.getServer(999_999)],
    [
      'put',
      (c: VpsOrgClient) =>
        c.updateServer(999_999, { name: 'a', hostname: 'a.example.com', backupsEnabled: false }),
    ],
    ['patch', (c: VpsOrgClient) => c.patchServer(999_999, { name: 'a' })],
    ['delete', (c: VpsOrgClient) => c.deleteServer(999_999)],
    ['start', (c: VpsOrgClient) => c.startServer(999_999)],
    ['stop', (c: VpsOrgClient) => c.stopServer(999_999)],
    ['reboot', (c: VpsOrgClient) => c.rebootServer(999_999)],
  ])('404: %s of a server that does not exist is notFound', async (endpoint, call) => {
    const { client } = await setup();
    expect(await failure(call(client))).toMatchObject({ kind: 'notFound', status: 404, endpoint });
  });

  it('429: throttling is transient and carries the Retry-After wait', async () => {
    const { client, sim } = await setup({ rateLimit: { requests: 1, perMs: 60_000 } });
    await client.listServers();
    const err = await failure(client.listServers());
    expect(err).toMatchObject({ kind: 'transient', status: 429 });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(sim.state.stats().throttled).toBe(1);
  });
});

describe('pagination', () => {
  it('follows next across several pages and returns every server once', async () => {
    const { client, calls } = await setup({ pageSize: 2 });
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) ids.push((await client.createServer(web(`s-${i}`))).id);
    calls.length = 0;
    expect((await client.listServers()).map((s) => s.id)).toEqual(ids);
    expect(calls.filter((c) => c.endpoint === 'list').map((c) => c.status)).toEqual([200, 200, 200, 200]);
  });
});

describe('failures without a usable answer', () => {
  it('a call slower than the timeout is transient', async () => {
    const { client } = await setup({ faults: { latencyMs: 1_000, endpoints: ['get'] } }, { timeoutMs: 100 });
    const err = await failure(client.getServer(1));
    expect(err).toMatchObject({ kind: 'transient', status: undefined });
    expect(err.message).toBe('VPS.org get server 1: no answer within 100 ms');
  });

  it('a dropped connection is transient', async () => {
    const { client } = await setup({ faults: { dropRate: 1, endpoints: ['list'] } });
    expect(await failure(client.listServers())).toMatchObject({ kind: 'transient', status: undefined });
  });

  it('an injected 5xx is transient', async () => {
    const { client } = await setup({ faults: { errorRate: 1, errorStatuses: [503], endpoints: ['get'] } });
    expect(await failure(client.getServer(1))).toMatchObject({ kind: 'transient', status: 503 });
  });

  it('a create whose answer is lost is transient, while the server exists', async () => {
    const { sim, client } = await setup({ faults: { lostResponseRate: 1, endpoints: ['create'] } });
    const err = await failure(client.createServer(web('lost-answer')));
    expect(err).toMatchObject({ kind: 'transient', status: undefined, endpoint: 'create' });
    const res = await fetch(`${sim.url}/_sim/servers`);
    const { results } = (await res.json()) as { results: { name: string; account: string }[] };
    expect(results).toEqual([expect.objectContaining({ name: 'lost-answer', account: 'default' })]);
    // …and the client's own list finds it, which is how the controller adopts it.
    expect((await client.listServers()).map((s) => s.name)).toEqual(['lost-answer']);
  });
});

describe('the API token', () => {
  it('is in no error and no log line, whatever fails', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const { sim, client } = await setup(
      { logger, faults: { latencyMs: 500, endpoints: ['stop'] } },
      { timeoutMs: 200, onCall: (e) => logger.debug(e, 'provider call') },
    );
    const wrong = new VpsOrgClient({ token: `${TOKEN}-revoked`, baseUrl: sim.apiBaseUrl });
    const { id } = await client.createServer(web());
    sim.state.finishTransitions();
    sim.state.setCredits('default', 0);

    const errors = [
      await failure(wrong.listServers()), // 401
      await failure(client.createServer(web())), // 402
      await failure(client.createServer({ ...web('bad name'), planId: 99 })), // 400
      await failure(client.getServer(999_999)), // 404
      await failure(client.startServer(id)), // 400 running
      await failure(client.stopServer(id)), // timeout
    ];
    sim.state.setFaults({ lostResponseRate: 1, endpoints: ['reboot'] });
    errors.push(await failure(client.rebootServer(id))); // lost answer
    sim.state.setRateLimit({ requests: 1, perMs: 60_000 });
    await client.listServers().catch(() => undefined);
    errors.push(await failure(client.listServers())); // 429

    expect(errors.map((e) => e.status)).toEqual([401, 402, 400, 404, 400, undefined, undefined, 429]);
    for (const err of errors) {
      logger.error({ err }, 'provider call failed');
      for (const text of [
        err.message,
        err.stack,
        String(err),
        JSON.stringify(err),
        inspect(err, { depth: 10 }),
      ]) {
        expect(text).not.toContain(TOKEN);
      }
    }
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.join('')).not.toContain(TOKEN);
  });
});
