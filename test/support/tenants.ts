// More namespaces for one operator world: tenant namespaces next to the test's own, VpsServers
// in them, and servers made or deleted directly at the provider (as someone outside Kubernetes
// would). The tenancy tests (test/integration/tenancy-*.test.ts, test/chaos/tenant-hijack) share
// these so each test reads as its scenario.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../src/vpsserver/types.ts';
import { type OperatorEnv, TOKEN, type VpsObject } from './operator-env.ts';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface Tenant {
  namespace: string;
  create(
    name: string,
    spec?: Record<string, unknown>,
    metadata?: Record<string, unknown>,
  ): Promise<VpsObject>;
  get(name: string): Promise<VpsObject | undefined>;
  patch(name: string, body: Record<string, unknown>): Promise<VpsObject>;
  remove(name: string): Promise<void>;
  waitFor(
    name: string,
    check: (o: VpsObject | undefined) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<VpsObject | undefined>;
  events(name: string): Promise<{ type: string; reason: string; message: string; count: number }[]>;
}

/** A handle on namespace `namespace` (the env's own, or one made by newTenantNamespace). */
export function tenant(env: OperatorEnv, namespace: string): Tenant {
  const custom = env.admin.makeApiClient(CustomObjectsApi);
  const core = env.admin.makeApiClient(CoreV1Api);
  const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace };
  const t: Tenant = {
    namespace,
    async create(name, spec = {}, metadata = {}) {
      const body = {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'VpsServer',
        metadata: { name, ...metadata },
        spec: { planId: 1, osId: 5, location: 'us-west', ...spec },
      };
      return (await custom.createNamespacedCustomObject({ ...ref, body })) as VpsObject;
    },
    async get(name) {
      try {
        return (await custom.getNamespacedCustomObject({ ...ref, name })) as VpsObject;
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
    async patch(name, body) {
      return (await custom.patchNamespacedCustomObject({ ...ref, name, body }, MERGE)) as VpsObject;
    },
    async remove(name) {
      await custom.deleteNamespacedCustomObject({ ...ref, name });
    },
    async waitFor(name, check, what, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: VpsObject | undefined;
      while (Date.now() < deadline) {
        last = await t.get(name);
        if (check(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${namespace}/${name}: ${what}; last seen: ${JSON.stringify(last?.status ?? last ?? 'gone')}`,
      );
    },
    async events(name) {
      const list = await core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.name=${name}`,
      });
      return list.items
        .sort((a, b) =>
          String(a.metadata?.creationTimestamp ?? '').localeCompare(
            String(b.metadata?.creationTimestamp ?? ''),
          ),
        )
        .map((e) => ({
          type: e.type ?? '',
          reason: e.reason ?? '',
          message: e.message ?? '',
          count: e.count ?? 1,
        }));
    },
  };
  return t;
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
