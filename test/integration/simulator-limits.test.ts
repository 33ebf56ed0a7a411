// Provider limits over real HTTP: the per-token rate limit (429, Retry-After, violations) and
// list pagination with DRF-style next links and filters.
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatorOptions } from '../../src/simulator/options.ts';
import { type RunningSimulator, startSimulator } from '../../src/simulator/simulator.ts';
import type { WireServerList } from '../../src/vpsorg/wire.ts';
import { call, createBody } from '../fixtures/simulator-http.ts';

const TOKEN = 'tok-limits-51b0';
const OTHER = 'tok-limits-other';

const running: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function simulator(options: SimulatorOptions) {
  let wall = Date.parse('2026-03-01T12:00:00Z');
  const sim = await startSimulator({
    accounts: [
      { name: 'main', token: TOKEN, credits: 10_000 },
      { name: 'other', token: OTHER, credits: 10_000 },
    ],
    clock: () => wall,
    seed: 5,
    ...options,
  });
  running.push(sim);
  return {
    sim,
    api: `${sim.apiBaseUrl}/servers/`,
    sleep: (ms: number) => {
      wall += ms;
    },
  };
}

describe('rate limit', () => {
  it('answers 429 with Retry-After and the DRF message once a token’s burst is spent', async () => {
    const { sim, api } = await simulator({ rateLimit: '3/s' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('GET', api, { token: TOKEN })).status);
    const throttled = await call('GET', api, { token: TOKEN });
    expect(statuses).toEqual([200, 200, 200]);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(throttled.body).toEqual({ detail: 'Request was throttled. Expected available in 1 second.' });
    expect(sim.state.stats()).toMatchObject({ throttled: 1, byStatus: { '200': 3, '429': 1 } });
  });

  it('limits each token on its own', async () => {
    const { api } = await simulator({ rateLimit: '1/min' });
    expect((await call('GET', api, { token: TOKEN })).status).toBe(200);
    expect((await call('GET', api, { token: TOKEN })).headers.get('retry-after')).toBe('60');
    expect((await call('GET', api, { token: OTHER })).status).toBe(200);
  });

  it('counts a request inside the announced Retry-After window as a violation, and none after it', async () => {
    const { sim, api, sleep } = await simulator({ rateLimit: '1/10s', retryAfterGraceMs: 100 });
    await call('GET', api, { token: TOKEN });
    expect((await call('GET', api, { token: TOKEN })).headers.get('retry-after')).toBe('10');
    sleep(5_000);
    await call('GET', api, { token: TOKEN });
    expect(sim.state.stats().retryAfterViolations).toBe(1);
    sleep(10_000);
    expect((await call('GET', api, { token: TOKEN })).status).toBe(200);
    expect(sim.state.stats().retryAfterViolations).toBe(1);
  });

  it('does not throttle requests without a valid token: they are 401 first', async () => {
    const { api } = await simulator({ rateLimit: '1/min' });
    for (let i = 0; i < 3; i++) expect((await call('GET', api, { token: 'wrong' })).status).toBe(401);
  });

  it('can be changed at run time', async () => {
    const { sim, api } = await simulator({ rateLimit: null });
    sim.state.setRateLimit({ requests: 1, perMs: 60_000 });
    await call('GET', api, { token: TOKEN });
    expect((await call('GET', api, { token: TOKEN })).status).toBe(429);
  });
});

describe('pagination', () => {
  async function withServers(n: number, options: SimulatorOptions = {}) {
    const setup = await simulator({ pageSize: 10, ...options });
    for (let i = 0; i < n; i++) {
      const location = i % 2 === 0 ? 'us-west' : 'us-east';
      const answer = await call('POST', setup.api, {
        token: TOKEN,
        body: createBody({ name: `s-${i}`, location }),
      });
      expect(answer.status).toBe(201);
    }
    return setup;
  }

  it('walks every server across pages by following next', async () => {
    const { api } = await withServers(25);
    const names: string[] = [];
    const counts: number[] = [];
    let url: string | null | undefined = api;
    while (url) {
      const page: WireServerList = (await call<WireServerList>('GET', url, { token: TOKEN })).body;
      names.push(...page.results.map((s) => s.name));
      counts.push(page.count);
      url = page.next;
    }
    expect(names).toEqual(Array.from({ length: 25 }, (_, i) => `s-${i}`));
    expect(counts).toEqual([25, 25, 25]);
  });

  it('links the pages with absolute next and previous URLs', async () => {
    const { sim, api } = await withServers(25);
    const second = (await call<WireServerList>('GET', `${api}?page=2`, { token: TOKEN })).body;
    expect(second.next).toBe(`${sim.url}/api/v1/servers/?page=3`);
    expect(second.previous).toBe(`${sim.url}/api/v1/servers/`);
  });

  it('answers 404 "Invalid page." past the last page', async () => {
    const { api } = await withServers(3);
    const answer = await call('GET', `${api}?page=2`, { token: TOKEN });
    expect([answer.status, answer.body]).toEqual([404, { detail: 'Invalid page.' }]);
  });

  it('filters by location and status, keeping the filter in the next link', async () => {
    const { sim, api } = await withServers(25);
    const west = (await call<WireServerList>('GET', `${api}?location=us-west`, { token: TOKEN })).body;
    expect(west.count).toBe(13);
    expect(west.next).toBe(`${sim.url}/api/v1/servers/?location=us-west&page=2`);
    sim.state.finishTransitions();
    sim.state.drift(12345, { status: 'stopped' });
    const stopped = (await call<WireServerList>('GET', `${api}?status=stopped`, { token: TOKEN })).body;
    expect(stopped.results.map((s) => s.id)).toEqual([12345]);
  });

  it('answers 400 for a status filter that is no state', async () => {
    const { api } = await withServers(0);
    const answer = await call('GET', `${api}?status=running`, { token: TOKEN });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      status: ['Select a valid choice. running is not one of the available choices.'],
    });
  });
});
