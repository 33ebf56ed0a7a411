// Scenarios 1 and 2 of the reliability suite: the operator killed with SIGKILL at every named
// crash point, after random delays in every phase, and right after a create whose reply was
// lost; restarted each time. The invariants must hold after every phase of every trial.
// CHAOS_LONG=1 (make chaos) runs 200 trials and writes test/chaos/RESULTS.md.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/simulator/random.ts';
import { newLedger } from './invariants.ts';
import { recordResults } from './results.ts';
import { sweepForToken } from './token-sweep.ts';
import { planTrial, runTrial, type TrialResult } from './trials.ts';
import { type ChaosWorld, startChaosWorld } from './world.ts';

const LONG = process.env.CHAOS_LONG === '1';
const TRIALS = LONG ? 200 : 20;

describe('the operator killed with SIGKILL during its work', () => {
  let world: ChaosWorld;
  const results: TrialResult[] = [];
  beforeAll(async () => {
    world = await startChaosWorld();
    await world.start();
  });
  afterAll(async () => {
    await world?.stop();
  });

  it(`keeps every invariant in ${TRIALS} trials, each killing it once`, {
    timeout: TRIALS * 30_000,
  }, async () => {
    const random = seededRandom(20261125);
    const ledger = newLedger();
    for (let i = 0; i < TRIALS; i++) {
      const plan = planTrial(i, random);
      try {
        results.push(await runTrial(world, ledger, i, plan));
      } catch (err) {
        throw new Error(`trial ${i} (${JSON.stringify(plan)}): ${(err as Error).message}`);
      }
    }
    const namedPoints = results.filter((r) => r.plan.kill.kind !== 'delay');
    // A named point that was never reached would make its trials prove nothing.
    expect(namedPoints.filter((r) => !r.killed).map((r) => r.plan)).toEqual([]);
    await recordResults('kill trials', results, LONG);
  });

  it('never wrote the API token into a log line, an Event or a resource', async () => {
    const sweep = await sweepForToken(world);
    expect(sweep.searched.lines).toBeGreaterThan(200);
    expect(sweep.searched.events).toBeGreaterThan(10);
    expect(sweep.sightings).toEqual([]);
    // The sweep does find what is there: the operator's own start-up line.
    expect((await sweepForToken(world, 'caches synced')).sightings.length).toBeGreaterThan(0);
  });
});
