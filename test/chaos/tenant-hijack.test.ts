// Tenant hijack (issue 15): 20 VpsServers in 10 namespaces, created within the same second, all
// name one server that exists at the provider. Whatever happens to the operator meanwhile — nothing,
// kill -9 mid-race, two replicas whose leader is killed, two shards (label selectors) that each see
// half of the claimants — exactly one resource owns the server, the other 19 are Stalled
// ServerClaimed naming it, only the owner writes to the server (simulator write log, attributed by
// the operator's decision log), and deleting the 19 with deletionPolicy Delete deletes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/simulator/random.ts';
import { condition, isReady, type VpsObject } from '../support/operator-env.ts';
import {
  newTenantNamespace,
  providerServer,
  serverMadeByHand,
  type Tenant,
  tenant,
  writesTo,
} from '../support/tenants.ts';
import { recordResults } from './results.ts';
import { itNeverLeaksTheToken } from './token-sweep.ts';
import { type ChaosWorld, startChaosWorld } from './world.ts';

const LONG = process.env.CHAOS_LONG === '1';
const VARIANTS = ['plain', 'kill -9', 'leader hand-over', 'two shards'] as const;
const ROUNDS = LONG ? 5 : 1;
const RACERS = 20;
const NAMESPACES = 10;
const WRITE_ACTIONS = new Set(['Update', 'Start', 'Stop', 'Reboot', 'Delete']);

type Variant = (typeof VARIANTS)[number];

describe('tenant hijack: 20 resources in 10 namespaces race for one server', () => {
  let world: ChaosWorld;
  const tenants: Tenant[] = [];
  const removals: (() => Promise<void>)[] = [];
  let namespacesFlag: string[];

  beforeAll(async () => {
    world = await startChaosWorld();
    tenants.push(tenant(world.env, world.env.namespace));
    for (let i = 1; i < NAMESPACES; i++) {
      const ns = await newTenantNamespace(world.env, `hijack${i}`);
      removals.push(ns.remove);
      tenants.push(tenant(world.env, ns.namespace));
    }
    namespacesFlag = ['--namespaces', tenants.map((t) => t.namespace).join(',')];
  });
  afterAll(async () => {
    await world?.stop();
    await Promise.all(removals.map((r) => r()));
  });

  it(`always has exactly one owner and no write by another (${ROUNDS} round(s) of ${VARIANTS.length} variants)`, async () => {
    const { env } = world;
    const random = seededRandom(15);
    const rows: string[] = [];
    let attempts = 0;
    let nonOwnerWrites = 0;
    let nonOwnerDeletes = 0;
    let trial = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of VARIANTS) {
        trial++;
        const processes = await startFor(variant, trial);
        const id = await serverMadeByHand(env, `shared-${trial}`);
        const since = Date.now();
        const racers = Array.from({ length: RACERS }, (_, j) => ({
          t: tenants[j % NAMESPACES] as Tenant,
          name: `r${trial}-${j}`,
          shard: j % 2 === 0 ? 'a' : 'b',
        }));
        if (variant === 'kill -9' || variant === 'leader hand-over')
          setTimeout(() => void processes[0]?.kill(), Math.round(random() * 600));
        await Promise.all(
          racers.map((r) =>
            r.t.create(
              r.name,
              { serverId: id, name: r.name, deletionPolicy: 'Delete' },
              { labels: { shard: r.shard } },
            ),
          ),
        );
        if (variant === 'kill -9') {
          await processes[0]?.exited;
          processes[0] = await world.start(namespacesFlag);
        }
        // Settle: one Ready owner, every other Stalled ServerClaimed naming it.
        const deadline = Date.now() + 90_000;
        let objects: (VpsObject | undefined)[] = [];
        let owners: typeof racers = [];
        for (;;) {
          objects = await Promise.all(racers.map((r) => r.t.get(r.name)));
          owners = racers.filter((_, j) => isReady(objects[j]) && objects[j]?.status?.serverId === id);
          const claimed = objects.filter(
            (o) =>
              condition(o, 'Stalled')?.reason === 'ServerClaimed' &&
              condition(o, 'Stalled')?.status === 'True',
          );
          if (owners.length === 1 && claimed.length === RACERS - 1) break;
          if (Date.now() > deadline)
            throw new Error(
              `${variant}: ${owners.length} owners, ${claimed.length} ServerClaimed after 90 s`,
            );
          await new Promise((r) => setTimeout(r, 200));
        }
        const owner = owners[0] as (typeof racers)[number];
        const ownerKey = `${owner.t.namespace}/${owner.name}`;
        for (const o of objects) {
          if (o?.metadata?.name === owner.name && o.metadata.namespace === owner.t.namespace) continue;
          expect(condition(o, 'Stalled')?.message).toContain(ownerKey);
        }
        // A few more observation intervals for a late hijacker, then the write log.
        await new Promise((r) => setTimeout(r, 1_500));
        const writes = writesTo(env, id, since);
        const loggedWrites = world
          .allLines()
          .map((l) => safeJson(l))
          .filter(
            (l): l is Record<string, unknown> =>
              l?.msg === 'reconcile decision' && WRITE_ACTIONS.has(String(l.action)) && l.serverId === id,
          );
        const byOthers = loggedWrites.filter((l) => l.key !== ownerKey).length;
        nonOwnerWrites += byOthers;
        attempts += RACERS - 1;
        expect(byOthers).toBe(0);
        expect((await providerServer(env, id))?.name).toBe(owner.name);
        // Non-owners deleted with deletionPolicy Delete: the server stays.
        const deletedAt = Date.now();
        const others = racers.filter((r) => r !== owner);
        await Promise.all(others.map((r) => r.t.remove(r.name)));
        for (const r of others) await r.t.waitFor(r.name, (o) => o === undefined, 'deleted', 60_000);
        const deletes = writesTo(env, id, deletedAt).filter((w) => w.endpoint === 'delete').length;
        nonOwnerDeletes += deletes;
        expect(deletes).toBe(0);
        expect(await providerServer(env, id)).toBeDefined();
        // The owner leaves the server behind (Orphan), releasing its claim for the next trial's world.
        await owner.t.patch(owner.name, { spec: { deletionPolicy: 'Orphan' } });
        await owner.t.remove(owner.name);
        await owner.t.waitFor(owner.name, (o) => o === undefined, 'deleted', 60_000);
        rows.push(
          `| ${trial} | ${variant} | ${RACERS - 1} | ${writes.length} | ${byOthers} | ${deletes} | ${Date.now() - since} |`,
        );
        await Promise.all(processes.map((p) => p.kill()));
      }
    }
    await recordResults(
      'tenant hijack (20 resources in 10 namespaces race for one server)',
      [
        '| trial | operator | hijack attempts | writes to the server | writes by non-owners | deletes by non-owners | trial (ms) |',
        '|---:|---|---:|---:|---:|---:|---:|',
        ...rows,
        '',
        `Hijack attempts: ${attempts}; writes by non-owners: ${nonOwnerWrites}; servers deleted by non-owners: ${nonOwnerDeletes}; every trial ended with exactly one owner.`,
      ].join('\n'),
      LONG,
    );
  }, 1_200_000);

  /** The operator process(es) of a variant: the first one is the one a kill targets. */
  async function startFor(variant: Variant, trial: number) {
    if (variant === 'two shards')
      return [
        await world.start([...namespacesFlag, '--label-selector', 'shard=a']),
        await world.start([...namespacesFlag, '--label-selector', 'shard=b']),
      ];
    if (variant === 'leader hand-over') {
      const elect = [
        ...namespacesFlag,
        '--leader-elect',
        '--leader-election-namespace',
        'vps-operator-system',
        '--leader-election-id',
        `hijack-${world.env.namespace}-${trial}`,
        '--lease-duration',
        '3s',
      ];
      const leader = await world.start(elect);
      await leader.logged('became leader');
      const standby = await world.start(elect);
      await standby.logged('standing by');
      return [leader, standby];
    }
    return [await world.start(namespacesFlag)];
  }

  itNeverLeaksTheToken(() => world, 10);
});

function safeJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
