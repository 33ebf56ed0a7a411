// VpsServers of one namespace as a test handles them: create from a spec with defaults, get,
// merge-patch, delete, poll until a condition holds, and read their Events. The operator world
// (operator-env.ts) offers it for the test's own namespace, tenants.ts for more namespaces.
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../src/vpsserver/types.ts';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface VpsObject extends KubernetesObject {
  spec: Record<string, unknown>;
  status?: {
    serverId?: number;
    state?: string;
    ipAddress?: string;
    lastRebootRequestedAt?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    [k: string]: unknown;
  };
}

export interface VpsResources {
  /** Creates a VpsServer from a spec (defaults: plan 1, OS 5, us-west). */
  create(
    name: string,
    spec?: Record<string, unknown>,
    metadata?: Record<string, unknown>,
  ): Promise<VpsObject>;
  get(name: string): Promise<VpsObject | undefined>;
  /** JSON merge patch of the object (spec, metadata.annotations…). */
  patch(name: string, body: Record<string, unknown>): Promise<VpsObject>;
  remove(name: string): Promise<void>;
  /** Polls until `check` returns true for the object (undefined = gone), or fails with the last state. */
  waitFor(
    name: string,
    check: (o: VpsObject | undefined) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<VpsObject | undefined>;
  /** Events recorded for an object, oldest first. */
  events(name: string): Promise<{ type: string; reason: string; message: string; count: number }[]>;
}

export function vpsResources(admin: KubeConfig, namespace: string): VpsResources {
  const custom = admin.makeApiClient(CustomObjectsApi);
  const core = admin.makeApiClient(CoreV1Api);
  const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace };
  const resources: VpsResources = {
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
        last = await resources.get(name);
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
  return resources;
}
