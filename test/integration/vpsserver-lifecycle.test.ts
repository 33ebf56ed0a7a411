// The VpsServer lifecycle end to end: real kube-apiserver + etcd, the simulator over HTTP with a
// sped-up clock, and the operator running with the RBAC of deploy/. Each test starts from a
// manifest as a user would apply it and checks what the user (status, events) and the provider
// (the simulator's inspection API) see.
import { afterEach, describe, expect, it } from 'vitest';
import { condition, isReady, type OperatorEnv, startEnv, TOKEN } from '../support/operator-env.ts';

let env: OperatorEnv;
afterEach(async () => {
  await env?.stop();
});

const serversNamed = (name: string) => env.sim.state.servers().filter((s) => s.name === name);

describe('a VpsServer', () => {
  it('is created at VPS.org and becomes Ready with its IP in status', async () => {
    env = await startEnv();
    await env.create('web-01', { hostname: 'web01.example.com' });
    const ready = await env.waitReady('web-01');
    const [server] = serversNamed('web-01');
    expect(server).toBeDefined();
    expect(ready.status).toMatchObject({
      serverId: server?.id,
      state: 'active',
      ipAddress: server?.ip_address,
      location: 'us-west',
    });
    expect(ready.status?.plan).toMatchObject({ id: 1, name: 'Standard VPS' });
    expect(ready.status?.observedGeneration).toBe(ready.metadata?.generation);
    expect(condition(ready, 'Synced')?.status).toBe('True');
    expect(condition(ready, 'Stalled')?.status).toBe('False');
    expect(ready.metadata?.finalizers).toContain('vps.org/finalizer');
    expect(ready.metadata?.annotations?.['vps.org/create-pending']).toBeUndefined();
    expect((await env.events('web-01')).map((e) => e.reason)).toContain('ServerCreated');
  });

  it('renames the server when spec.name changes, with a PATCH of the name only', async () => {
    env = await startEnv();
    await env.create('app', { name: 'app-a' });
    await env.waitReady('app');
    env.sim.state.resetStats();
    await env.patch('app', { spec: { name: 'app-b' } });
    await env.waitFor('app', () => serversNamed('app-b').length === 1, 'server renamed at VPS.org');
    expect(env.sim.state.stats().calls.patch).toBe(1);
    expect(env.sim.state.stats().calls.put ?? 0).toBe(0);
    await env.waitReady('app');
  });

  it('powers the server off and on with spec.powerState', async () => {
    env = await startEnv();
    await env.create('pw');
    const { status } = await env.waitReady('pw');
    await env.patch('pw', { spec: { powerState: 'Stopped' } });
    const stopped = await env.waitFor(
      'pw',
      (o) => o?.status?.state === 'stopped' && isReady(o),
      'stopped and Ready',
    );
    expect(condition(stopped, 'Ready')?.reason).toBe('Stopped');
    expect(env.sim.state.server(status?.serverId as number)?.status).toBe('stopped');
    await env.patch('pw', { spec: { powerState: 'Running' } });
    await env.waitFor('pw', (o) => o?.status?.state === 'active' && isReady(o), 'running again');
  });

  it('reboots once per rebootRequestedAt value, and not again after a restart', async () => {
    env = await startEnv();
    await env.create('rb');
    await env.waitReady('rb');
    await env.patch('rb', { spec: { rebootRequestedAt: '2026-11-25T10:00:00Z' } });
    await env.waitFor(
      'rb',
      (o) => o?.status?.lastRebootRequestedAt === '2026-11-25T10:00:00Z' && isReady(o),
      'reboot recorded',
    );
    expect(env.sim.state.stats().calls.reboot).toBe(1);
    await env.stopOperator();
    await env.startOperator();
    await new Promise((r) => setTimeout(r, 1_500));
    await env.waitReady('rb');
    expect(env.sim.state.stats().calls.reboot).toBe(1);
    await env.patch('rb', { spec: { rebootRequestedAt: '2026-11-25T11:00:00Z' } });
    await env.waitFor(
      'rb',
      (o) => o?.status?.lastRebootRequestedAt === '2026-11-25T11:00:00Z',
      'second reboot recorded',
    );
    expect(env.sim.state.stats().calls.reboot).toBe(2);
  });

  it('does not send a reboot again when its answer was lost, and says so with a Warning', async () => {
    env = await startEnv();
    await env.create('rb-lost');
    await env.waitReady('rb-lost');
    env.sim.state.setFaults({ lostResponseRate: 1, endpoints: ['reboot'] });
    await env.patch('rb-lost', { spec: { rebootRequestedAt: 'once' } });
    await env.waitFor('rb-lost', (x) => x?.status?.lastRebootRequestedAt === 'once', 'reboot recorded');
    env.sim.state.setFaults(null);
    await env.waitFor(
      'rb-lost',
      (x) => x?.metadata?.annotations?.['vps.org/reboot-pending'] === undefined,
      'marker cleared',
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(env.sim.state.stats().calls.reboot).toBe(1);
    const warning = (await env.events('rb-lost')).find((e) => e.reason === 'RebootOutcomeUnknown');
    expect(warning?.type).toBe('Warning');
  });

  it('deletes the server at VPS.org when deleted with policy Delete', async () => {
    env = await startEnv();
    await env.create('gone');
    const { status } = await env.waitReady('gone');
    await env.remove('gone');
    await env.waitFor('gone', (o) => o === undefined, 'resource gone');
    expect(env.sim.state.server(status?.serverId as number)).toBeUndefined();
  });

  it('leaves the server running when deleted with policy Orphan', async () => {
    env = await startEnv();
    await env.create('keep', { deletionPolicy: 'Orphan' });
    const { status } = await env.waitReady('keep');
    await env.remove('keep');
    await env.waitFor('keep', (o) => o === undefined, 'resource gone');
    expect(env.sim.state.server(status?.serverId as number)?.status).toBe('active');
  });

  it('never writes the API token into logs, events or status', async () => {
    env = await startEnv();
    await env.create('secret-check');
    await env.waitReady('secret-check');
    const everything = JSON.stringify([
      env.logs,
      await env.events('secret-check'),
      await env.get('secret-check'),
    ]);
    expect(env.logs.length).toBeGreaterThan(5);
    expect(everything).not.toContain(TOKEN);
  });
});
