// The provider-fault round with two accounts in one namespace (issue 17): the same fifth of
// failing calls for both, and one account throttled throughout (its token allowed 2 calls a
// second while the operator may send 50). Both converge with one server per resource, no call
// comes inside a Retry-After, and the throttled account does not slow the other one down: its
// 429s pause and shrink its own budget only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VpsObject } from '../support/operator-env.ts';
import { converge, newLedger, violations } from './invariants.ts';
import { recordResults } from './results.ts';
import { type ChaosWorld, startChaosWorld } from './world.ts';

const LONG = process.env.CHAOS_LONG === '1';
const RESOURCES = 6;
const ROUNDS = LONG ? 6 : 1;
const FAULTS = [{ errorRate: 0.07 }, { dropRate: 0.05 }, { lostResponseRate: 0.04 }];
const SLOW = { name: 'slow', token: 'sim-token-slow-5c1e9a7d2b', secret: 'slow-token' };
const accountOf = (r: VpsObject): string =>
  (r.spec as { credentialsSecretRef?: { name?: string } }).credentialsSecretRef?.name === SLOW.secret
    ? SLOW.name
    : 'team';

describe('two accounts against a failing provider, one of them throttled throughout', () => {
  let world: ChaosWorld;
  beforeAll(async () => {
    world = await startChaosWorld({ simulator: { faults: FAULTS, seed: 17 } });
    world.env.sim.state.addAccount({ name: SLOW.name, token: SLOW.token, credits: 100_000 });
    world.env.sim.state.setAccountRateLimit(SLOW.name, { requests: 2, perMs: 1000 });
    await world.env.createSecret(SLOW.secret, { token: SLOW.token });
    await world.start();
  });
  afterAll(async () => {
    await world?.stop();
  });

  it(`converges ${ROUNDS} rounds of ${RESOURCES} + ${RESOURCES} resources on two accounts with one server each`, async () => {
    const { env } = world;
    const ledger = newLedger();
    const check = async () => [
      ...(await violations(env, ledger, 'team', accountOf)),
      ...(await violations(env, ledger, SLOW.name, accountOf)),
    ];
    const rows: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const fast = Array.from({ length: RESOURCES }, (_, i) => `calm-${round}-${i}`);
      const slow = Array.from({ length: RESOURCES }, (_, i) => `slow-${round}-${i}`);
      const started = Date.now();
      await Promise.all([
        ...fast.map((n) => env.create(n)),
        ...slow.map((n) => env.create(n, { credentialsSecretRef: { name: SLOW.secret } })),
      ]);
      // The unthrottled account on its own: it must not wait for the throttled one.
      await Promise.all(fast.map((n) => env.waitReady(n, 60_000)));
      const fastMs = Date.now() - started;
      await converge(env, ledger, () => world.ensureRunning(), 180_000, check);
      const allMs = Date.now() - started;
      await Promise.all([...fast, ...slow].map((n) => env.remove(n)));
      await converge(env, ledger, () => world.ensureRunning(), 180_000, check);
      rows.push(`| ${round} | ${fastMs} | ${allMs} | ${Date.now() - started} |`);
    }
    const stats = env.sim.state.stats();
    const creates = (account: string) =>
      env.sim.state.writes().filter((w) => w.endpoint === 'create' && w.account === account).length;
    expect(creates('team')).toBe(ROUNDS * RESOURCES);
    expect(creates(SLOW.name)).toBe(ROUNDS * RESOURCES);
    expect(stats.throttled).toBeGreaterThan(0);
    expect(stats.retryAfterViolationLog).toEqual([]);
    await recordResults(
      'provider faults with two accounts, one throttled',
      [
        `${ROUNDS} rounds of ${RESOURCES} resources on account "team" and ${RESOURCES} on account "slow" in one namespace; faults ${JSON.stringify(FAULTS)} for both; "slow" allowed 2 calls/s throughout, the operator at --api-rate 50/s per account.`,
        '',
        '| round | "team" all Ready (ms) | both converged (ms) | both deleted (ms) |',
        '|---:|---:|---:|---:|',
        ...rows,
        '',
        `429s ${stats.throttled}; servers created: team ${creates('team')}, slow ${creates(SLOW.name)} (one per resource); Retry-After violations ${stats.retryAfterViolations}.`,
      ].join('\n'),
      LONG,
    );
  }, 900_000);
});
