// Adoption, ObserveOnly, the paused annotation and drift: what the operator does with servers it
// did not create, and with changes made at VPS.org behind its back.
import { afterEach, describe, expect, it } from 'vitest';
import {
  condition,
  isReady,
  type OperatorEnv,
  serverMadeOutside,
  startEnv,
} from '../support/operator-env.ts';

let env: OperatorEnv;
afterEach(async () => {
  await env?.stop();
});

const serverMadeByHand = (name: string, body: Record<string, unknown> = {}) =>
  serverMadeOutside(env, name, body);

describe('adoption and observation', () => {
  it('adopts an existing server named by spec.serverId without creating one', async () => {
    env = await startEnv();
    const id = await serverMadeByHand('legacy-db');
    await env.create('legacy-db', { serverId: id });
    const ready = await env.waitReady('legacy-db');
    expect(ready.status?.serverId).toBe(id);
    expect(env.sim.state.stats().calls.create).toBe(1); // only the hand-made one
    expect((await env.events('legacy-db')).map((e) => e.reason)).toContain('ServerAdopted');
  });

  it('stalls adoption when the server does not match the spec, naming the field', async () => {
    env = await startEnv();
    const id = await serverMadeByHand('other');
    await env.create('mismatch', { serverId: id, planId: 2 });
    const o = await env.waitFor('mismatch', (x) => condition(x, 'Stalled')?.status === 'True', 'Stalled');
    expect(condition(o, 'Stalled')).toMatchObject({ reason: 'AdoptionMismatch' });
    expect(condition(o, 'Stalled')?.message).toContain('spec.planId is 2 but the server has plan 1');
  });

  it('stalls when spec.serverId names a server that does not exist', async () => {
    env = await startEnv();
    await env.create('ghost', { serverId: 999_999 });
    const o = await env.waitFor('ghost', (x) => condition(x, 'Stalled')?.status === 'True', 'Stalled');
    expect(condition(o, 'Stalled')?.reason).toBe('ServerNotFound');
  });

  it('only reports an ObserveOnly server, never writing to VPS.org', async () => {
    env = await startEnv();
    const id = await serverMadeByHand('watched');
    env.sim.state.resetStats();
    await env.create('watched', {
      serverId: id,
      managementPolicy: 'ObserveOnly',
      powerState: 'Stopped',
      name: 'renamed',
    });
    const o = await env.waitReady('watched');
    expect(o.status).toMatchObject({ serverId: id, state: 'active' });
    expect(condition(o, 'Ready')?.reason).toBe('Observed');
    await new Promise((r) => setTimeout(r, 1_000));
    const calls = env.sim.state.stats().calls;
    expect([calls.create, calls.patch, calls.stop, calls.delete]).toEqual([0, 0, 0, 0]);
    await env.remove('watched');
    await env.waitFor('watched', (x) => x === undefined, 'gone');
    expect(env.sim.state.server(id)).toBeDefined();
  });

  it('sends nothing to VPS.org while the paused annotation is set', async () => {
    env = await startEnv();
    await env.create('p', {}, { annotations: { 'vps.org/paused': 'true' } });
    const o = await env.waitFor('p', (x) => condition(x, 'Ready')?.reason === 'Paused', 'Paused');
    expect(o?.status?.serverId).toBeUndefined();
    expect(env.sim.state.stats().calls.create).toBe(0);
    await env.patch('p', { metadata: { annotations: { 'vps.org/paused': null } } });
    await env.waitReady('p');
    expect(env.sim.state.stats().calls.create).toBe(1);
  });
});

describe('drift', () => {
  it('puts back an out-of-band rename, hostname and backups change', async () => {
    env = await startEnv();
    await env.create('d1', { hostname: 'd1.example.com', backupsEnabled: false });
    const { status } = await env.waitReady('d1');
    const id = status?.serverId as number;
    env.sim.state.drift(id, { name: 'hacked', hostname: 'evil.example.com', backupsEnabled: true });
    await env.waitFor(
      'd1',
      () => {
        const s = env.sim.state.server(id);
        return s?.name === 'd1' && s.hostname === 'd1.example.com' && s.backups_enabled === false;
      },
      'drift undone at VPS.org',
    );
  });

  it('starts again a server powered off out of band', async () => {
    env = await startEnv();
    await env.create('d2');
    const { status } = await env.waitReady('d2');
    const id = status?.serverId as number;
    env.sim.state.drift(id, { status: 'stopped' });
    await env.waitFor(
      'd2',
      () => env.sim.state.server(id)?.status === 'active' && env.sim.state.stats().calls.start === 1,
      'started again',
    );
  });

  it('recreates a server deleted out of band, with a Warning event', async () => {
    env = await startEnv();
    await env.create('d3');
    const { status } = await env.waitReady('d3');
    const first = status?.serverId as number;
    env.sim.state.deleteServer(first);
    const o = await env.waitFor(
      'd3',
      (x) => isReady(x) && x?.status?.serverId !== first,
      'a new server, Ready',
    );
    expect(env.sim.state.servers().filter((s) => s.name === 'd3')).toHaveLength(1);
    expect(o?.status?.serverId).not.toBe(first);
    const warning = (await env.events('d3')).find((e) => e.reason === 'ServerVanished');
    expect(warning?.type).toBe('Warning');
  });

  it('reports a suspended server without fighting it', async () => {
    env = await startEnv();
    await env.create('d4');
    const { status } = await env.waitReady('d4');
    env.sim.state.resetStats();
    env.sim.state.suspend(status?.serverId as number);
    const o = await env.waitFor('d4', (x) => condition(x, 'Ready')?.reason === 'Suspended', 'Suspended');
    expect(condition(o, 'Ready')?.status).toBe('False');
    await new Promise((r) => setTimeout(r, 1_000));
    const calls = env.sim.state.stats().calls;
    expect([calls.start, calls.patch, calls.reboot]).toEqual([0, 0, 0]);
  });
});
