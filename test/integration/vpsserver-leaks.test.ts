// The leak report (issue 16) against the real API server and the simulator: a server made at
// VPS.org with a VpsServer's name and shape after it, that no VpsServer owns (what a create whose
// answer was lost leaves behind), is listed in status.leakedServerIds with one Warning Event;
// with --leaked-servers=delete it is deleted once older than --leaked-server-grace. The rules
// themselves (made before the resource, claimed, owned, being deleted) are the table of
// test/unit/vpsserver-leaks.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import {
  type OperatorEnv,
  serverMadeOutside,
  startEnv,
  TOKEN,
  type VpsObject,
} from '../support/operator-env.ts';

let env: OperatorEnv;
afterEach(async () => {
  await env?.stop();
});

const serverMadeAtVpsOrg = (name: string, body: Record<string, unknown> = {}) =>
  serverMadeOutside(env, name, body);

const leakedIds = (o: VpsObject | undefined): unknown =>
  (o?.status as { leakedServerIds?: number[] } | undefined)?.leakedServerIds;

describe('the leak report', () => {
  it('lists a server with the resource’s name and shape that nothing owns, and warns once', async () => {
    env = await startEnv();
    await env.create('web-01');
    const ready = await env.waitReady('web-01');
    const leak = await serverMadeAtVpsOrg('web-01');
    // Beside it, servers that are not this resource's duplicates: another plan, another name.
    await serverMadeAtVpsOrg('web-01', { plan_id: 2 });
    await serverMadeAtVpsOrg('web-02');

    const o = await env.waitFor(
      'web-01',
      (x) => leakedIds(x) !== undefined,
      'status.leakedServerIds',
      30_000,
    );
    expect(leakedIds(o)).toEqual([leak]);
    expect(o?.status?.serverId).toBe(ready.status?.serverId);
    const warnings = (await env.events('web-01')).filter((e) => e.reason === 'LeakedServer');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ type: 'Warning', count: 1 });
    expect(warnings[0]?.message).toContain(`server ${leak} at VPS.org has this resource's name (web-01)`);
    expect(env.sim.state.server(leak)?.status).toBe('active'); // report only, by default
  });

  it('drops the server from the list once it is deleted at VPS.org', async () => {
    env = await startEnv();
    await env.create('web-01');
    await env.waitReady('web-01');
    const leak = await serverMadeAtVpsOrg('web-01');
    await env.waitFor('web-01', (x) => leakedIds(x) !== undefined, 'status.leakedServerIds', 30_000);

    const res = await fetch(`${env.sim.apiBaseUrl}/servers/${leak}/`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(204);
    const o = await env.waitFor(
      'web-01',
      (x) => leakedIds(x) === undefined,
      'no status.leakedServerIds',
      30_000,
    );
    expect(o?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('deletes the leak with --leaked-servers=delete once it is older than the grace, and only the leak', async () => {
    env = await startEnv({ operatorArgs: ['--leaked-servers', 'delete', '--leaked-server-grace', '3s'] });
    await env.create('web-01');
    const ready = await env.waitReady('web-01');
    const own = ready.status?.serverId as number;
    const leak = await serverMadeAtVpsOrg('web-01');
    const other = await serverMadeAtVpsOrg('web-01', { plan_id: 2 });

    const deadline = Date.now() + 30_000;
    while (!(await env.events('web-01')).some((e) => e.reason === 'LeakedServerDeleted')) {
      expect(Date.now(), 'Event LeakedServerDeleted within 30 s').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 200));
    }
    env.sim.state.finishTransitions();
    expect(env.sim.state.server(leak)).toBeUndefined();
    expect(env.sim.state.server(own)?.status).toBe('active');
    expect(env.sim.state.server(other)?.status).toBe('active');
    const deleted = (await env.events('web-01')).find((e) => e.reason === 'LeakedServerDeleted');
    expect(deleted).toMatchObject({ type: 'Normal' });
    expect(deleted?.message).toContain(`deleted server ${leak} at VPS.org`);
    await env.waitFor('web-01', (x) => leakedIds(x) === undefined, 'no status.leakedServerIds', 30_000);
    expect(env.sim.state.stats().calls.delete).toBe(1);
  });
});
