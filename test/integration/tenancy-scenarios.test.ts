// The three scenarios at the top of issue 15, as a new user tried them: another namespace names
// a server that demo/web-01 manages (1) to change it, (2) to delete it, and (3) the server
// vanishes while two resources name it. Each failed before claims and the server index.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { condition, isReady, type OperatorEnv, startEnv } from '../support/operator-env.ts';
import {
  newTenantNamespace,
  providerServer,
  serverDeletedByHand,
  type Tenant,
  tenant,
  writesTo,
} from '../support/tenants.ts';

let env: OperatorEnv;
let demo: Tenant;
let evil: Tenant;
let removeEvil: () => Promise<void>;

beforeEach(async () => {
  env = await startEnv({ noOperator: true });
  const ns = await newTenantNamespace(env, 'evil');
  removeEvil = ns.remove;
  demo = tenant(env, env.namespace);
  evil = tenant(env, ns.namespace);
  env.config.namespaces = [env.namespace, ns.namespace];
  await env.startOperator();
});
afterEach(async () => {
  await env?.stop();
  await removeEvil?.();
});

const stalledClaimed = (o: Parameters<typeof condition>[0]) =>
  condition(o, 'Stalled')?.status === 'True' && condition(o, 'Stalled')?.reason === 'ServerClaimed';

/** demo/web-01, Ready, with its server. */
async function webManagesAServer(): Promise<number> {
  await demo.create('web-01');
  const ready = await demo.waitFor('web-01', isReady, 'Ready', 60_000);
  return ready?.status?.serverId as number;
}

describe('issue 15 scenario 1: a VpsServer in another namespace names a managed server', () => {
  it('is Stalled ServerClaimed naming the owner, with a Warning Event, and never writes to the server', async () => {
    const id = await webManagesAServer();
    const since = Date.now();
    await evil.create('grab', { serverId: id, name: 'hijacked', powerState: 'Stopped' });
    const grab = await evil.waitFor('grab', stalledClaimed, 'Stalled ServerClaimed');
    expect(condition(grab, 'Stalled')?.message).toContain(`${env.namespace}/web-01`);
    expect(condition(grab, 'Ready')?.status).toBe('False');
    expect(grab?.status?.serverId).toBeUndefined();
    const warnings = (await evil.events('grab')).filter((e) => e.reason === 'ServerClaimed');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.type).toBe('Warning');
    // Give a hijacker every chance: several observation intervals.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(writesTo(env, id, since)).toEqual([]);
    expect(await providerServer(env, id)).toMatchObject({ name: 'web-01', status: 'active' });
    expect(isReady(await demo.get('web-01'))).toBe(true);
  });
});

describe('issue 15 scenario 2: deleting the other namespace resource', () => {
  it('leaves the server untouched whatever its deletionPolicy', async () => {
    const id = await webManagesAServer();
    await evil.create('grab', { serverId: id, name: 'hijacked', deletionPolicy: 'Delete' });
    await evil.waitFor('grab', stalledClaimed, 'Stalled ServerClaimed');
    const since = Date.now();
    await evil.remove('grab');
    await evil.waitFor('grab', (o) => o === undefined, 'deleted', 30_000);
    expect(writesTo(env, id, since)).toEqual([]);
    expect(await providerServer(env, id)).toMatchObject({ id, status: 'active' });
    expect(isReady(await demo.get('web-01'))).toBe(true);
  });
});

describe('issue 15 scenario 3: the managed server vanishes while another resource names it', () => {
  it('tells the owner within an observation interval: ServerVanished naming the id, kept in status, then a new server', async () => {
    const id = await webManagesAServer();
    await evil.create('grab', { serverId: id, name: 'hijacked' });
    await evil.waitFor('grab', stalledClaimed, 'Stalled ServerClaimed');
    await serverDeletedByHand(env, id);
    // The resting list interval is 2 s and the resync 10 min: 15 s is well inside "not at the resync".
    const web = await demo.waitFor(
      'web-01',
      (o) => o?.status?.vanishedServerId === id,
      'status.vanishedServerId set',
      15_000,
    );
    const vanished = (await demo.events('web-01')).filter((e) => e.reason === 'ServerVanished');
    expect(vanished).toHaveLength(1);
    expect(vanished[0]).toMatchObject({ type: 'Warning' });
    expect(vanished[0]?.message).toContain(String(id));
    const recreated = await demo.waitFor(
      'web-01',
      (o) => isReady(o) && o?.status?.serverId !== undefined && o.status.serverId !== id,
      'Ready on a new server',
      60_000,
    );
    expect(recreated?.status?.vanishedServerId).toBe(id);
    expect(web).toBeDefined();
  });
});
