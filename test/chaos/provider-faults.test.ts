// Scenario 3 of the reliability suite: a provider that fails a fifth of all calls (5xx pages,
// connections reset, requests that hang until the client's timeout, writes whose reply is lost)
// and throttles in bursts with Retry-After. Everything converges with exactly one server per
// resource, and no call is ever sent inside an announced Retry-After window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converge, newLedger } from './invariants.ts';
import { recordResults } from './results.ts';
import { itNeverLeaksTheToken } from './token-sweep.ts';
import { type ChaosWorld, startChaosWorld } from './world.ts';

const LONG = process.env.CHAOS_LONG === '1';
const RESOURCES = 8;
const ROUNDS = LONG ? 12 : 2;
// About a fifth of all calls: 5xx pages, resets, hangs past the client's timeout, lost replies.
const FAULTS = [{ errorRate: 0.07 }, { dropRate: 0.05 }, { hangRate: 0.05 }, { lostResponseRate: 0.04 }];

describe('the operator against a failing, throttling provider', () => {
  let world: ChaosWorld;
  let bursts: NodeJS.Timeout | undefined;
  beforeAll(async () => {
    world = await startChaosWorld({ simulator: { faults: FAULTS, seed: 8 } });
    await world.start();
    // 429 bursts: every 1.5 s the provider allows only 2 calls a second for 600 ms.
    let throttling = false;
    bursts = setInterval(() => {
      throttling = !throttling;
      world.env.sim.state.setRateLimit(throttling ? { requests: 2, perMs: 1000 } : null);
    }, 750);
  });
  afterAll(async () => {
    clearInterval(bursts);
    await world?.stop();
  });

  it(`converges ${ROUNDS} × ${RESOURCES} resources through create, update and delete with one server each`, async () => {
    const { env } = world;
    const ledger = newLedger();
    const timings: string[] = [];
    const step = async (what: string, change: () => Promise<unknown>) => {
      const started = Date.now();
      await change();
      await converge(env, ledger, () => world.ensureRunning(), 120_000);
      timings.push(`| ${what} | ${Date.now() - started} |`);
    };
    for (let round = 0; round < ROUNDS; round++) {
      const names = Array.from({ length: RESOURCES }, (_, i) => `flaky-${round}-${i}`);
      await step(`${round}: create`, () => Promise.all(names.map((n) => env.create(n))));
      await step(`${round}: rename and power off`, () =>
        Promise.all(names.map((n) => env.patch(n, { spec: { name: `${n}-v2`, powerState: 'Stopped' } }))),
      );
      await step(`${round}: delete`, () => Promise.all(names.map((n) => env.remove(n))));
    }

    const stats = env.sim.state.stats();
    const creates = env.sim.state.writes().filter((w) => w.endpoint === 'create').length;
    // Every kind of fault was met, and still one create per resource and no early retry.
    expect(stats.injectedErrors).toBeGreaterThan(0);
    expect(stats.droppedConnections).toBeGreaterThan(0);
    expect(stats.hungRequests).toBeGreaterThan(0);
    expect(stats.throttled).toBeGreaterThan(0);
    expect(creates).toBe(ROUNDS * RESOURCES);
    expect(stats.retryAfterViolationLog).toEqual([]);
    expect(world.processes).toHaveLength(1);
    const calls = Object.values(stats.calls).reduce((a, b) => a + b, 0);
    await recordResults(
      'provider faults and 429 bursts',
      [
        `${ROUNDS} rounds of ${RESOURCES} resources; faults ${JSON.stringify(FAULTS)}; rate limit 2/s for 750 ms of every 1.5 s.`,
        '',
        '| round: step | converged in (ms) |',
        '|---|---:|',
        ...timings,
        '',
        `Provider calls ${calls}: injected 5xx ${stats.injectedErrors}, reset ${stats.droppedConnections}, ` +
          `hung ${stats.hungRequests}, lost replies ${stats.lostResponses}, 429 ${stats.throttled}; ` +
          `servers created ${creates} (one per resource); Retry-After violations ${stats.retryAfterViolations}.`,
      ].join('\n'),
      LONG,
    );
  }, 400_000);

  itNeverLeaksTheToken(() => world, 100);
});
