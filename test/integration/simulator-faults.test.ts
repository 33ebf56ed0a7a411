// Injected faults over real HTTP, from a seeded random source: error ratios, latency, dropped
// connections, and the create whose reply is lost although the server was made.
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatorOptions } from '../../src/simulator/options.ts';
import { type RunningSimulator, startSimulator } from '../../src/simulator/simulator.ts';
import { call, createBody } from '../fixtures/simulator-http.ts';

const TOKEN = 'tok-faults-0d77';

const running: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function simulator(options: SimulatorOptions) {
  const sim = await startSimulator({
    accounts: [{ name: 'main', token: TOKEN, credits: 1e6 }],
    seed: 11,
    ...options,
  });
  running.push(sim);
  return { sim, api: `${sim.apiBaseUrl}/servers/` };
}

/** Status of a request, or "dropped" when the connection closed without a reply. */
async function outcome(method: string, url: string, body?: unknown): Promise<number | 'dropped'> {
  try {
    return (await call(method, url, { token: TOKEN, body })).status;
  } catch {
    return 'dropped';
  }
}

describe('fault injection', () => {
  it('answers about the configured share of requests with 500, 502 or 503', async () => {
    const { sim, api } = await simulator({ faults: { errorRate: 0.2 } });
    const statuses = [];
    for (let i = 0; i < 400; i++) statuses.push(await outcome('GET', api));
    const errors = statuses.filter((s) => s !== 200);
    expect(errors.length / 400).toBeGreaterThan(0.14);
    expect(errors.length / 400).toBeLessThan(0.26);
    expect(new Set(errors)).toEqual(new Set([500, 502, 503]));
    expect(sim.state.stats().injectedErrors).toBe(errors.length);
  });

  it('sends the error page of the layer that would produce it', async () => {
    const { sim, api } = await simulator({ faults: { errorRate: 1, errorStatuses: [502] } });
    const answer = await call('GET', api, { token: TOKEN });
    expect(answer.status).toBe(502);
    expect(answer.headers.get('content-type')).toBe('text/html');
    expect(answer.text).toContain('502 Bad Gateway');
    sim.state.setFaults({ errorRate: 1, errorStatuses: [503] });
    expect((await call('GET', api, { token: TOKEN })).body).toEqual({
      detail: 'Service temporarily unavailable, try again later.',
    });
  });

  it('closes the configured share of connections without a reply', async () => {
    const { sim, api } = await simulator({ faults: { dropRate: 0.3 } });
    const outcomes = [];
    for (let i = 0; i < 200; i++) outcomes.push(await outcome('GET', api));
    const dropped = outcomes.filter((o) => o === 'dropped').length;
    expect(dropped / 200).toBeGreaterThan(0.2);
    expect(dropped / 200).toBeLessThan(0.4);
    expect(sim.state.stats().droppedConnections).toBe(dropped);
  });

  it('holds a hung request open until the client gives up', async () => {
    const { sim, api } = await simulator({ faults: { hangRate: 1 } });
    const started = performance.now();
    const answer = fetch(api, {
      headers: { Authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(300),
    });
    await expect(answer).rejects.toThrow(/timeout|aborted/i);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sim.state.stats().hungRequests).toBe(1);
  });

  it('delays answers by the configured latency', async () => {
    const { api } = await simulator({ faults: { latencyMs: 150 } });
    const started = performance.now();
    expect((await call('GET', api, { token: TOKEN })).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it('makes the server of a create whose reply it loses', async () => {
    const { sim, api } = await simulator({ faults: { lostResponseRate: 1, endpoints: ['create'] } });
    expect(await outcome('POST', api, createBody({ name: 'ghost' }))).toBe('dropped');
    expect(sim.state.servers()).toMatchObject([{ name: 'ghost', status: 'provisioning', account: 'main' }]);
    expect(sim.state.stats()).toMatchObject({ lostResponses: 1, calls: { create: 1 } });
    // Only creates were targeted: the list shows the ghost.
    expect((await call('GET', api, { token: TOKEN })).body).toMatchObject({ count: 1 });
  });

  it('records the writes it carried out, with what became of each reply', async () => {
    const { sim, api } = await simulator({ faults: { lostResponseRate: 1, endpoints: ['create'] } });
    await outcome('POST', api, createBody({ name: 'ghost' }));
    sim.state.setFaults({ garbleRate: 1, garbles: ['notJson'], endpoints: ['patch'] });
    sim.state.finishTransitions();
    const [ghost] = sim.state.servers();
    const patched = await call('PATCH', `${api}${ghost?.id}/`, { token: TOKEN, body: { name: 'ghost-2' } });
    expect(patched.status).toBe(200);
    expect(patched.text).toContain('<html>');
    expect(sim.state.writes()).toMatchObject([
      { endpoint: 'create', account: 'main', serverId: ghost?.id, reply: 'lost' },
      { endpoint: 'patch', account: 'main', serverId: ghost?.id, reply: 'garbled' },
    ]);
    expect(sim.state.stats()).toMatchObject({ lostResponses: 1, garbledReplies: 1 });
    sim.state.resetStats();
    expect(sim.state.writes()).toEqual([]);
  });

  it('does not hold a client to a Retry-After whose 429 it never received', async () => {
    const { sim, api } = await simulator({
      rateLimit: '1/s',
      retryAfterGraceMs: 0,
      faults: { lostResponseRate: 1, endpoints: ['list'] },
    });
    expect(await outcome('GET', api)).toBe('dropped');
    expect(await outcome('GET', api)).toBe('dropped');
    expect(sim.state.stats()).toMatchObject({ throttled: 1, lostResponses: 2 });
    sim.state.setFaults(null);
    expect(await outcome('GET', api)).toBe(429);
    expect(sim.state.stats().retryAfterViolations).toBe(0);
    expect(await outcome('GET', api)).toBe(429);
    expect(sim.state.stats().retryAfterViolations).toBe(1);
  });

  it('applies new faults to the next request and none once cleared', async () => {
    const { sim, api } = await simulator({});
    sim.state.setFaults({ errorRate: 1, errorStatuses: [500] });
    expect(await outcome('GET', api)).toBe(500);
    sim.state.setFaults(null);
    expect(await outcome('GET', api)).toBe(200);
  });

  it('refuses a fault rule with a bad value, naming it', async () => {
    const { sim } = await simulator({});
    expect(() => sim.state.setFaults({ errorRate: 1.5 })).toThrow('faults.errorRate');
  });

  it('cuts a request still waiting on injected latency when it closes', async () => {
    const { sim, api } = await simulator({ faults: { latencyMs: 60_000 } });
    const pending = outcome('GET', api);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sim.close();
    expect(await pending).toBe('dropped');
  });
});
