// The invariant checks themselves must be able to fail, or every trial proves nothing: each
// broken promise, made by hand behind the (stopped) operator's back, is reported in words.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION } from '../../src/vpsserver/types.ts';
import { type OperatorEnv, startEnv, TOKEN } from '../support/operator-env.ts';
import { newLedger, noteReboot, violations } from './invariants.ts';

let env: OperatorEnv;
afterEach(async () => {
  await env?.stop();
});

async function readyThenStopped(): Promise<number> {
  env = await startEnv();
  await env.create('inv-a');
  const id = (await env.waitReady('inv-a')).status?.serverId as number;
  await env.stopOperator();
  return id;
}

const post = (path: string, body?: unknown) =>
  fetch(`${env.sim.apiBaseUrl}/servers/${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

describe('the chaos invariants', () => {
  it('hold for a resource the operator has made Ready', async () => {
    await readyThenStopped();
    expect(await violations(env, newLedger())).toEqual([]);
  });

  it('report a server that belongs to no resource', async () => {
    await readyThenStopped();
    await post('', { name: 'inv-a', plan_id: 1, os_id: 5, location: 'us-west' });
    expect((await violations(env, newLedger())).join('\n')).toMatch(/"inv-a" .* belongs to no resource/);
  });

  it('report a second reboot for one rebootRequestedAt value', async () => {
    const id = await readyThenStopped();
    const ledger = newLedger();
    await violations(env, ledger);
    noteReboot(ledger, 'inv-a', '2026-11-25T00:00:00Z');
    expect((await post(`${id}/reboot/`)).status).toBe(200);
    env.sim.state.finishTransitions();
    expect(await violations(env, ledger)).toEqual([]);
    expect((await post(`${id}/reboot/`)).status).toBe(200);
    expect(await violations(env, ledger)).toContain(`server ${id} (inv-a) rebooted 2 times for 1 requested`);
  });

  it('report a spec that is not reached', async () => {
    const id = await readyThenStopped();
    env.sim.state.drift(id, { name: 'renamed-behind-its-back', status: 'stopped' });
    expect(await violations(env, newLedger())).toEqual([
      'inv-a: name is "renamed-behind-its-back", spec wants "inv-a"',
      'inv-a: state is "stopped", spec wants "active"',
    ]);
  });

  it('report a server deleted behind the resource', async () => {
    const id = await readyThenStopped();
    env.sim.state.deleteServer(id);
    expect(await violations(env, newLedger())).toEqual([`inv-a: server ${id} does not exist at VPS.org`]);
  });

  it('report a resource that calls another resource’s server a leak', async () => {
    await readyThenStopped();
    await env.create('inv-b');
    await env.startOperator();
    const b = (await env.waitReady('inv-b')).status?.serverId as number;
    await env.stopOperator();
    await env.admin.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: env.namespace,
        name: 'inv-a',
        body: { status: { leakedServerIds: [b] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(await violations(env, newLedger())).toEqual([
      `inv-a: reports server ${b} as leaked, but it is inv-b's`,
    ]);
  });
});
