// Head-of-line blocking (bench/RESULTS.md §6): one account is throttled hard (its token allowed
// one call per 30 s, so every 429 carries a Retry-After of up to 30 s) and has more resources
// due than the operator has reconcile workers, while another account in the same namespace
// applies a few servers. A pass of the throttled account must give its worker back instead of
// waiting out the pause in it (src/vpsserver/accounts.ts deferredPass): otherwise the calm
// account's passes wait for a worker for as long as the throttled account is paused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosWorld, startChaosWorld } from './world.ts';

const WORKERS = 2;
const STORMED = 4 * WORKERS;
const CALM = 4;
const SLOW = { name: 'slow', token: 'sim-token-slow-8f3b2c71d4', secret: 'slow-token' };

describe('an account throttled with more resources due than workers', () => {
  let world: ChaosWorld;
  beforeAll(async () => {
    world = await startChaosWorld({ operatorArgs: ['--workers', String(WORKERS)] });
    world.env.sim.state.addAccount({ name: SLOW.name, token: SLOW.token, credits: 100_000 });
    world.env.sim.state.setAccountRateLimit(SLOW.name, { requests: 1, perMs: 30_000 });
    await world.env.createSecret(SLOW.secret, { token: SLOW.token });
    await world.start();
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('lets the other account apply its servers in seconds, not after the pause', async () => {
    const { env } = world;
    const stormed = Array.from({ length: STORMED }, (_, i) => `stormed-${i}`);
    const calm = Array.from({ length: CALM }, (_, i) => `calm-${i}`);
    // The throttled account's resources first, so that without deferral they are first in line.
    await Promise.all(stormed.map((n) => env.create(n, { credentialsSecretRef: { name: SLOW.secret } })));
    const started = Date.now();
    await Promise.all(calm.map((n) => env.create(n)));
    await Promise.all(calm.map((n) => env.waitReady(n, 20_000)));
    const calmMs = Date.now() - started;
    const stats = env.sim.state.stats();
    expect({ calmUnder20s: calmMs < 20_000, throttled: stats.throttled > 0 }).toEqual({
      calmUnder20s: true,
      throttled: true,
    });
    expect(stats.retryAfterViolationLog).toEqual([]);
  }, 120_000);
});
