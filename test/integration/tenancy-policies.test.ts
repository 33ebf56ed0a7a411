// --default-credentials-namespaces and --adoption-namespaces against the real API server, with
// deploy/'s RBAC: an allowed namespace works, a refused one is Stalled with the flag to change in
// its message, and a namespace label added at run time takes effect without a restart.
import { afterEach, describe, expect, it } from 'vitest';
import { parseNamespacePolicy } from '../../src/vpsserver/namespace-policy.ts';
import { condition, isReady, type OperatorEnv, startEnv } from '../support/operator-env.ts';
import {
  labelNamespace,
  newTenantNamespace,
  providerServer,
  serverMadeByHand,
  type Tenant,
  tenant,
  writesTo,
} from '../support/tenants.ts';

let env: OperatorEnv;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await env?.stop();
  await cleanup?.();
});

/** The env's namespace (always allowed) and a tenant namespace, with the given policies. */
async function world(policies: {
  credentials?: string;
  adoption?: string;
}): Promise<{ own: Tenant; other: Tenant }> {
  env = await startEnv({ noOperator: true });
  const ns = await newTenantNamespace(env, 'team-b');
  cleanup = ns.remove;
  env.config.namespaces = [env.namespace, ns.namespace];
  const fill = (raw: string | undefined) =>
    parseNamespacePolicy((raw ?? '*').replaceAll('OWN', env.namespace));
  env.config.defaultCredentialsNamespaces = fill(policies.credentials);
  env.config.adoptionNamespaces = fill(policies.adoption);
  await env.startOperator();
  return { own: tenant(env, env.namespace), other: tenant(env, ns.namespace) };
}

const stalledWith = (reason: string) => (o: Parameters<typeof condition>[0]) =>
  condition(o, 'Stalled')?.status === 'True' && condition(o, 'Stalled')?.reason === reason;

describe('--default-credentials-namespaces', () => {
  it('lets a listed namespace use the default credentials and refuses another, naming the flag', async () => {
    const { own, other } = await world({ credentials: 'OWN' });
    await own.create('allowed');
    await own.waitFor('allowed', isReady, 'Ready', 60_000);
    await other.create('refused');
    const o = await other.waitFor(
      'refused',
      stalledWith('CredentialsNotAllowed'),
      'Stalled CredentialsNotAllowed',
    );
    expect(condition(o, 'Stalled')?.message).toContain('--default-credentials-namespaces');
    expect(condition(o, 'Stalled')?.message).toContain(other.namespace);
    expect(env.sim.state.servers().filter((s) => s.name === 'refused')).toEqual([]);
    const warnings = (await other.events('refused')).filter((e) => e.reason === 'CredentialsNotAllowed');
    expect(warnings).toHaveLength(1);
  });

  it('takes a namespace label added at run time into account', async () => {
    const { other } = await world({ credentials: 'OWN,selector:tenancy.vps.org/default-credentials=true' });
    await other.create('later');
    await other.waitFor('later', stalledWith('CredentialsNotAllowed'), 'Stalled CredentialsNotAllowed');
    await labelNamespace(env, other.namespace, { 'tenancy.vps.org/default-credentials': 'true' });
    await other.waitFor('later', isReady, 'Ready once the namespace has the label', 60_000);
  });
});

describe('--adoption-namespaces', () => {
  it('refuses adoption by spec.serverId outside the listed namespaces, and deleting the refused resource leaves the server', async () => {
    const { own, other } = await world({ adoption: 'OWN' });
    const id = await serverMadeByHand(env, 'legacy');
    await other.create('adopt', { serverId: id, name: 'legacy', deletionPolicy: 'Delete' });
    const o = await other.waitFor('adopt', stalledWith('AdoptionNotAllowed'), 'Stalled AdoptionNotAllowed');
    expect(condition(o, 'Stalled')?.message).toContain('--adoption-namespaces');
    const since = Date.now();
    await other.remove('adopt');
    await other.waitFor('adopt', (x) => x === undefined, 'deleted');
    expect(writesTo(env, id, since)).toEqual([]);
    expect(await providerServer(env, id)).toMatchObject({ id });
    // The allowed namespace adopts it.
    await own.create('adopt', { serverId: id, name: 'legacy' });
    const ready = await own.waitFor('adopt', isReady, 'Ready', 60_000);
    expect(ready?.status?.serverId).toBe(id);
  });
});
