// More namespaces for one operator world: tenant namespaces next to the test's own, VpsServers
// in them, and servers made or deleted directly at the provider (as someone outside Kubernetes
// would). The tenancy tests (test/integration/tenancy-*.test.ts, test/chaos/tenant-hijack) share
// these so each test reads as its scenario.
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { type OperatorEnv, TOKEN } from './operator-env.ts';
import { type VpsResources, vpsResources } from './vps-resources.ts';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** VpsServers of one namespace. */
export interface Tenant extends VpsResources {
  namespace: string;
}

/** A handle on namespace `namespace` (the env's own, or one made by newTenantNamespace). */
export function tenant(env: OperatorEnv, namespace: string): Tenant {
  return { namespace, ...vpsResources(env.admin, namespace) };
}

/** A fresh namespace (deleted by the returned cleanup), optionally with labels. */
export async function newTenantNamespace(
  env: OperatorEnv,
  prefix: string,
): Promise<{ namespace: string; remove: () => Promise<void> }> {
  const namespace = await env.cp.createNamespace(prefix);
  const core = env.admin.makeApiClient(CoreV1Api);
  return {
    namespace,
    remove: () =>
      core.deleteNamespace({ name: namespace }).then(
        () => {},
        () => {},
      ),
  };
}

/** Sets (string) or removes (null) labels of a namespace. */
export async function labelNamespace(
  env: OperatorEnv,
  namespace: string,
  labels: Record<string, string | null>,
): Promise<void> {
  const core = env.admin.makeApiClient(CoreV1Api);
  await core.patchNamespace({ name: namespace, body: { metadata: { labels } } }, MERGE);
}

/** Creates a server directly at the provider; returns its id once it is active. */
export async function serverMadeByHand(env: OperatorEnv, name: string, body: Record<string, unknown> = {}) {
  const res = await fetch(`${env.sim.apiBaseUrl}/servers/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, plan_id: 1, os_id: 5, location: 'us-west', ...body }),
  });
  if (res.status !== 201) throw new Error(`create at the provider: ${res.status}`);
  const { id } = (await res.json()) as { id: number };
  env.sim.state.finishTransitions();
  return id;
}

/** Deletes a server directly at the provider (out of band). */
export async function serverDeletedByHand(env: OperatorEnv, id: number): Promise<void> {
  const res = await fetch(`${env.sim.apiBaseUrl}/servers/${id}/`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  if (res.status !== 204) throw new Error(`delete at the provider: ${res.status}`);
}

/** The server as the provider has it (undefined: gone). */
export async function providerServer(
  env: OperatorEnv,
  id: number,
): Promise<{ id: number; name: string; status: string } | undefined> {
  const res = await fetch(`${env.sim.apiBaseUrl}/servers/${id}/`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  if (res.status === 404) return undefined;
  return (await res.json()) as { id: number; name: string; status: string };
}

/** Writes the provider carried out on server `id` since `since` (ms). */
export const writesTo = (env: OperatorEnv, id: number, since = 0) =>
  env.sim.state.writes().filter((w) => w.serverId === id && w.at >= since);
