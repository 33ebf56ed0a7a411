// Scenario 4 of the reliability suite: the API server stopped mid-work and started again, and
// etcd compacted while the operator's watch is away, so it must re-list (410 Gone) or resume.
// Nothing may be lost (every change reaches VPS.org) or done twice (one create and one rename
// per server). Uses a control plane of its own: restarting the shared one would break the
// tests running beside it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../src/devcluster/control-plane.ts';
import { converge, newLedger } from './invariants.ts';
import { recordResults } from './results.ts';
import { itNeverLeaksTheToken } from './token-sweep.ts';
import { type ChaosWorld, startChaosWorld } from './world.ts';

const LONG = process.env.CHAOS_LONG === '1';
const ROUNDS = LONG ? 10 : 2;
const PER_ROUND = 4;

describe('the operator across an API server restart and etcd compaction', () => {
  let cp: ControlPlane;
  let world: ChaosWorld;
  beforeAll(async () => {
    cp = await startControlPlane();
    world = await startChaosWorld({ controlPlane: cp });
    await world.start();
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
    await cp?.stop();
  });

  it(`loses nothing and does nothing twice in ${ROUNDS} rounds`, async () => {
    const { env } = world;
    const ledger = newLedger();
    const rows: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const names = Array.from({ length: PER_ROUND }, (_, i) => `cp-${round}-${i}`);
      await Promise.all(names.map((n) => env.create(n)));
      // Mid-work: some creates sent, some not; the API server goes away under the operator.
      await new Promise((r) => setTimeout(r, 150 + round * 50));
      await cp.stopApiServer();
      await new Promise((r) => setTimeout(r, 1_000));
      await cp.startApiServer();
      // Changes while the watch is away, then the history they were in compacted away.
      await Promise.all(names.map((n) => env.patch(n, { spec: { name: `${n}-renamed` } })));
      await cp.compactEtcd();
      const ms = await converge(env, ledger, () => world.ensureRunning(), 60_000);
      rows.push(`| ${round} | ${PER_ROUND} | ${ms} |`);
    }

    const writes = env.sim.state.writes();
    const perServer = (endpoints: string[]) => {
      const counts = new Map<number, number>();
      for (const w of writes.filter((x) => endpoints.includes(x.endpoint)))
        counts.set(w.serverId, (counts.get(w.serverId) ?? 0) + 1);
      return counts;
    };
    // One create per resource; each server renamed once (or created with its new name already).
    expect(writes.filter((w) => w.endpoint === 'create')).toHaveLength(ROUNDS * PER_ROUND);
    expect([...perServer(['put', 'patch']).values()].filter((n) => n > 1)).toEqual([]);
    const lines = world.allLines();
    const relists = lines.filter((l) => l.includes('watch expired (410)')).length;
    const retries = lines.filter((l) => l.includes('list/watch failed; retrying')).length;
    expect(retries + relists).toBeGreaterThan(0);
    expect(world.processes).toHaveLength(1);
    await recordResults(
      'API server restart and etcd compaction',
      [
        '| round | resources | converged after the restart (ms) |',
        '|---:|---:|---:|',
        ...rows,
        '',
        `Informer recoveries seen in the operator's log: ${relists} re-lists after 410 Gone, ${retries} list/watch retries.`,
        `Provider writes: ${writes.filter((w) => w.endpoint === 'create').length} creates for ${ROUNDS * PER_ROUND} resources, ` +
          `${writes.filter((w) => w.endpoint === 'patch' || w.endpoint === 'put').length} renames; invariant violations 0.`,
      ].join('\n'),
      LONG,
    );
  }, 600_000);

  itNeverLeaksTheToken(() => world, 10);
});
