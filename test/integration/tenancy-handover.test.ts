// Hand-over of a claimed server, and adoption that asks the provider: the owner deleted with
// Orphan lets a waiting claimant take over; deleted with Delete, the server is deleted once and
// the claimant reports ServerNotFound; a server made a moment before the resource (the cached
// list predates it) is adopted at once, and one that appears later is adopted when it does.
import { afterEach, describe, expect, it } from 'vitest';
import { condition, isReady, type OperatorEnv, startEnv } from '../support/operator-env.ts';
import { providerServer, serverMadeByHand, type Tenant, tenant, writesTo } from '../support/tenants.ts';

let env: OperatorEnv;
let t: Tenant;
afterEach(async () => {
  await env?.stop();
});

const stalledWith = (reason: string) => (o: Parameters<typeof condition>[0]) =>
  condition(o, 'Stalled')?.status === 'True' && condition(o, 'Stalled')?.reason === reason;

async function ownerAndClaimant(deletionPolicy: 'Orphan' | 'Delete'): Promise<number> {
  env = await startEnv();
  t = tenant(env, env.namespace);
  await t.create('owner', { deletionPolicy });
  const ready = await t.waitFor('owner', isReady, 'Ready', 60_000);
  const id = ready?.status?.serverId as number;
  await t.create('claimant', { serverId: id, name: 'owner' });
  await t.waitFor('claimant', stalledWith('ServerClaimed'), 'Stalled ServerClaimed');
  return id;
}

describe('claims hand over', () => {
  it('owner deleted with Orphan: the waiting claimant takes the server over', async () => {
    const id = await ownerAndClaimant('Orphan');
    await t.remove('owner');
    const o = await t.waitFor('claimant', isReady, 'Ready as the new owner', 30_000);
    expect(o?.status?.serverId).toBe(id);
    expect(writesTo(env, id).filter((w) => w.endpoint === 'delete')).toEqual([]);
  });

  it('owner deleted with Delete: the server is deleted once and the claimant reports ServerNotFound', async () => {
    const id = await ownerAndClaimant('Delete');
    await t.remove('owner');
    await t.waitFor('owner', (o) => o === undefined, 'deleted', 30_000);
    await t.waitFor('claimant', stalledWith('ServerNotFound'), 'Stalled ServerNotFound', 30_000);
    expect(writesTo(env, id).filter((w) => w.endpoint === 'delete')).toHaveLength(1);
    expect(await providerServer(env, id)).toBeUndefined();
  });
});

describe('adoption asks the provider', () => {
  it('adopts at once a server created a moment before the resource, though the cached list predates it', async () => {
    env = await startEnv();
    t = tenant(env, env.namespace);
    // A first resource makes the operator list the account; the resting interval is 2 s.
    await t.create('first');
    await t.waitFor('first', isReady, 'Ready', 60_000);
    const id = await serverMadeByHand(env, 'fresh');
    await t.create('fresh', { serverId: id });
    const o = await t.waitFor('fresh', (x) => x?.status?.serverId === id, 'adopted', 1_500);
    expect(condition(o, 'Stalled')?.reason).not.toBe('ServerNotFound');
  });

  it('a resource Stalled on ServerNotFound adopts the server when it appears later', async () => {
    env = await startEnv();
    t = tenant(env, env.namespace);
    const next = (env.sim.state.servers().reduce((m, s) => Math.max(m, s.id), 12_344) + 1) as number;
    await t.create('early', { serverId: next, name: 'early' });
    await t.waitFor('early', stalledWith('ServerNotFound'), 'Stalled ServerNotFound');
    const id = await serverMadeByHand(env, 'early');
    expect(id).toBe(next);
    const o = await t.waitFor('early', isReady, 'Ready after the server appeared', 15_000);
    expect(o?.status?.serverId).toBe(id);
  });
});
