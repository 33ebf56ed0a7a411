// Scenario 5 of the reliability suite: two replicas with leader election; the leader dies with
// SIGKILL in the middle of creating servers (at a crash point or after a random delay) and the
// standby takes over from its warm cache. No server may be made twice, none may be lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/simulator/random.ts';
import type { CrashPoint } from '../../src/vpsserver/crash-points.ts';
import type { OperatorProcess } from '../support/operator-process.ts';
import { converge, newLedger } from './invariants.ts';
import { recordResults } from './results.ts';
import { itNeverLeaksTheToken } from './token-sweep.ts';
import { type ChaosWorld, startChaosWorld } from './world.ts';

const LONG = process.env.CHAOS_LONG === '1';
const TRIALS = LONG ? 20 : 3;
const KILLS: (CrashPoint | 'delay')[] = ['after-create', 'before-create', 'delay', 'before-status'];

describe('two replicas with the leader killed mid-create', () => {
  let world: ChaosWorld;
  let leaderArgs: string[];
  beforeAll(async () => {
    world = await startChaosWorld();
    leaderArgs = [
      '--leader-elect',
      '--leader-election-namespace',
      'vps-operator-system',
      '--leader-election-id',
      `chaos-${world.env.namespace}`,
      '--lease-duration',
      '3s',
    ];
  });
  afterAll(async () => {
    await world?.stop();
  });

  it(`hands over without a duplicate in ${TRIALS} trials`, async () => {
    const { env } = world;
    const ledger = newLedger();
    const random = seededRandom(5);
    const rows: string[] = [];
    let leader: OperatorProcess = await world.start(leaderArgs);
    await leader.logged('became leader');
    for (let i = 0; i < TRIALS; i++) {
      const standby = await world.start(leaderArgs);
      await standby.logged('standing by');
      const kill = KILLS[i % KILLS.length] as CrashPoint | 'delay';
      if (kill === 'delay') setTimeout(() => void leader.kill(), Math.round(random() * 600));
      else world.arm(kill);
      const started = Date.now();
      await Promise.all([0, 1, 2].map((j) => env.create(`ha-${i}-${j}`)));
      await leader.exited;
      // Disarm before the standby leads: it reads the same arming file.
      world.disarm();
      await standby.logged('became leader', 20_000);
      const tookOverMs = Date.now() - started;
      await converge(env, ledger, async () => {});
      rows.push(`| ${i} | ${kill} | ${tookOverMs} | ${Date.now() - started} |`);
      leader = standby;
    }
    // Every resource has its one server (converge checked it); and exactly one create each.
    expect(env.sim.state.writes().filter((w) => w.endpoint === 'create')).toHaveLength(TRIALS * 3);
    await recordResults(
      'leader killed mid-create (two replicas, lease 3 s)',
      [
        '| trial | leader killed at | standby leading after (ms) | all Ready after (ms) |',
        '|---:|---|---:|---:|',
        ...rows,
        '',
        `Servers created: ${TRIALS * 3} for ${TRIALS * 3} resources; invariant violations 0.`,
      ].join('\n'),
      LONG,
    );
  }, 300_000);

  itNeverLeaksTheToken(() => world, 10);
});
