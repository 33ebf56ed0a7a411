// The informer against a real kube-apiserver + etcd (test/controlplane/): events for create,
// update and delete, label selection, custom resources, bookmarks; and, on a control plane of
// its own, an API server restart and a forced watch expiry (410 after etcd compaction), after
// which nothing may be lost. A gate in front of the real list/watch client holds the informer
// off the API server while the test changes things, so "what changed meanwhile" is certain.
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../src/devcluster/control-plane.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { KubeListWatch } from '../../src/runtime/kube-list-watch.ts';
import type { ListWatchClient, ObjectList, WatchEvent } from '../../src/runtime/list-watch.ts';
import { ExponentialFailureRateLimiter } from '../../src/runtime/rate-limiters.ts';
import { sharedControlPlane } from '../controlplane/shared.ts';

/** Restarts and backoff take seconds, not vi.waitFor's default 1 s. */
const patiently = { timeout: 20_000, interval: 100 };

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** The real client behind a gate: while closed, list and watch wait before reaching the server. */
class GatedListWatch<T extends KubernetesObject> implements ListWatchClient<T> {
  readonly #inner: ListWatchClient<T>;
  #opened: Promise<void> = Promise.resolve();
  #release: () => void = () => {};
  /** The resourceVersion of every watch that got through, in order. */
  readonly watchedFrom: string[] = [];
  /** For each of those watches, the resourceVersion of the last bookmark it received. */
  readonly lastBookmarkOf: (string | undefined)[] = [];

  constructor(inner: ListWatchClient<T>) {
    this.#inner = inner;
  }

  close(): void {
    this.#opened = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  open(): void {
    this.#release();
  }

  async list(signal: AbortSignal): Promise<ObjectList<T>> {
    await this.#opened;
    return this.#inner.list(signal);
  }

  async *watch(resourceVersion: string, signal: AbortSignal): AsyncIterable<WatchEvent<T>> {
    await this.#opened;
    const index = this.watchedFrom.push(resourceVersion) - 1;
    for await (const event of this.#inner.watch(resourceVersion, signal)) {
      if (event.type === 'BOOKMARK') this.lastBookmarkOf[index] = event.resourceVersion;
      yield event;
    }
  }
}

/** An informer on `path` that records its events as "verb name". */
function recordingInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  path: string,
  options: { labelSelector?: string; watchTimeoutSeconds?: number; idleTimeoutMs?: number } = {},
) {
  const listWatch = new GatedListWatch<T>(
    new KubeListWatch<T>({
      kubeConfig,
      path,
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      ...(options.watchTimeoutSeconds ? { watchTimeoutSeconds: () => options.watchTimeoutSeconds! } : {}),
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    }),
  );
  const informer = new Informer<T>({
    listWatch,
    logger,
    backoff: new ExponentialFailureRateLimiter({ baseMs: 200, maxMs: 2000 }),
  });
  const events: string[] = [];
  informer.addEventHandler({
    onAdd: (o) => events.push(`add ${o.metadata?.name}`),
    onUpdate: (_, o) => events.push(`update ${o.metadata?.name}`),
    onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  return { informer, events, gate: listWatch };
}

function configMaps(kubeConfig: KubeConfig, namespace: string) {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return {
    create: (name: string, labels: Record<string, string> = {}) =>
      api.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels }, data: { v: '1' } } }),
    update: async (name: string, v: string) => {
      const current = await api.readNamespacedConfigMap({ namespace, name });
      await api.replaceNamespacedConfigMap({ namespace, name, body: { ...current, data: { v } } });
    },
    delete: (name: string) => api.deleteNamespacedConfigMap({ namespace, name }),
    names: async () =>
      (await api.listNamespacedConfigMap({ namespace })).items.map((c) => c.metadata!.name!).sort(),
  };
}

const names = (informer: Informer<KubernetesObject>) =>
  informer
    .list()
    .map((o) => o.metadata!.name!)
    .sort();

describe('Informer on a real API server', () => {
  it('sees ConfigMaps created, updated and deleted', async () => {
    const cp = sharedControlPlane();
    const ns = await cp.createNamespace('informer');
    const cms = configMaps(cp.adminKubeConfig, ns);
    await cms.create('listed');
    const { informer, events } = recordingInformer<V1ConfigMap>(
      cp.adminKubeConfig,
      `/api/v1/namespaces/${ns}/configmaps`,
    );
    informer.start();
    try {
      expect(await informer.waitForCacheSync()).toBe(true);
      await cms.create('watched');
      await cms.update('watched', '2');
      await cms.delete('listed');
      await vi.waitFor(
        () => expect(events).toEqual(['add listed', 'add watched', 'update watched', 'delete listed']),
        patiently,
      );
      expect(informer.keys()).toEqual([`${ns}/watched`]);
    } finally {
      await informer.stop();
    }
  });

  it('sees only the objects its label selector matches', async () => {
    const cp = sharedControlPlane();
    const ns = await cp.createNamespace('informer');
    const cms = configMaps(cp.adminKubeConfig, ns);
    const { informer, events } = recordingInformer(
      cp.adminKubeConfig,
      `/api/v1/namespaces/${ns}/configmaps`,
      {
        labelSelector: 'team=a',
      },
    );
    informer.start();
    try {
      await informer.waitForCacheSync();
      await cms.create('other', { team: 'b' });
      await cms.create('mine', { team: 'a' });
      await vi.waitFor(() => expect(events).toEqual(['add mine']), patiently);
    } finally {
      await informer.stop();
    }
  });

  it('watches a custom resource in all namespaces', async () => {
    const cp = sharedControlPlane();
    const group = 'runtime.test.vps.org';
    const extensions = cp.adminKubeConfig.makeApiClient(ApiextensionsV1Api);
    await extensions
      .createCustomResourceDefinition({
        body: {
          metadata: { name: `gadgets.${group}` },
          spec: {
            group,
            scope: 'Namespaced',
            names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
            versions: [
              {
                name: 'v1',
                served: true,
                storage: true,
                schema: {
                  openAPIV3Schema: {
                    type: 'object',
                    properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
                  },
                },
              },
            ],
          },
        },
      })
      .catch((err: { code?: number }) => {
        if (err.code !== 409) throw err;
      });
    const custom = cp.adminKubeConfig.makeApiClient(CustomObjectsApi);
    const [ns1, ns2] = [await cp.createNamespace('gadgets'), await cp.createNamespace('gadgets')];
    const create = (namespace: string, name: string) =>
      custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural: 'gadgets',
        body: { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name } },
      });
    await vi.waitFor(() => create(ns1, 'one').then(() => undefined), patiently);
    const { informer } = recordingInformer(cp.adminKubeConfig, `/apis/${group}/v1/gadgets`);
    informer.start();
    try {
      await informer.waitForCacheSync();
      await create(ns2, 'two');
      await vi.waitFor(
        () => expect(informer.keys()).toEqual(expect.arrayContaining([`${ns1}/one`, `${ns2}/two`])),
        patiently,
      );
    } finally {
      await informer.stop();
    }
  });
  it('asks for bookmarks and resumes the next watch from the last one', async () => {
    const cp = sharedControlPlane();
    const [ns, elsewhere] = [await cp.createNamespace('bookmarks'), await cp.createNamespace('elsewhere')];
    const { informer, events, gate } = recordingInformer(
      cp.adminKubeConfig,
      `/api/v1/namespaces/${ns}/configmaps`,
      {
        watchTimeoutSeconds: 6,
      },
    );
    informer.start();
    try {
      await informer.waitForCacheSync();
      // A write the watch filters out still moves the server's resourceVersion past the
      // informer's; the server then sends a bookmark shortly before the watch times out.
      // Written again every second: on a loaded machine one write could land before a watch
      // began, and no watch of the 30 s then saw a reason for a bookmark (seen once in CI).
      const others = configMaps(cp.adminKubeConfig, elsewhere);
      let n = 0;
      await others.create(`unrelated-${n++}`);
      const writer = setInterval(() => void others.create(`unrelated-${n++}`).catch(() => {}), 1000);
      try {
        await vi.waitFor(
          () => {
            const first = gate.lastBookmarkOf.findIndex((rv) => rv !== undefined);
            expect(first).toBeGreaterThanOrEqual(0);
            expect(gate.watchedFrom[first + 1]).toBe(gate.lastBookmarkOf[first]);
          },
          { timeout: 60_000, interval: 100 },
        );
      } finally {
        clearInterval(writer);
      }
      expect(informer.stats.bookmarks).toBeGreaterThan(0);
      expect(events).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
  it('abandons a watch that went silent and resumes from the same resourceVersion', async () => {
    const cp = sharedControlPlane();
    const ns = await cp.createNamespace('silent');
    const { informer, gate } = recordingInformer(cp.adminKubeConfig, `/api/v1/namespaces/${ns}/configmaps`, {
      idleTimeoutMs: 1000,
    });
    informer.start();
    try {
      await informer.waitForCacheSync();
      await vi.waitFor(() => expect(gate.watchedFrom.length).toBeGreaterThan(1), patiently);
      expect(new Set(gate.watchedFrom).size).toBe(1);
      expect(informer.stats).toMatchObject({ lists: 1, expired: 0 });
      expect(informer.stats.failures).toBeGreaterThan(0);
      await configMaps(cp.adminKubeConfig, ns).create('still-seen');
      await vi.waitFor(() => expect(informer.keys()).toEqual([`${ns}/still-seen`]), patiently);
    } finally {
      await informer.stop();
    }
  });
});

describe('Informer across API server restarts', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await startControlPlane();
  });
  afterAll(async () => {
    await cp?.stop();
  });

  /** A fresh namespace holding `existing` ConfigMaps, and a started, synced informer on it. */
  async function watchedNamespace(prefix: string, existing: string[]) {
    const ns = await cp.createNamespace(prefix);
    const cms = configMaps(cp.adminKubeConfig, ns);
    for (const name of existing) await cms.create(name);
    const recording = recordingInformer(cp.adminKubeConfig, `/api/v1/namespaces/${ns}/configmaps`);
    recording.informer.start();
    await recording.informer.waitForCacheSync();
    return { cms, ...recording };
  }

  /** Stops and starts the API server while the gate keeps the informer away from it. */
  async function restartBehind(gate: { close(): void }) {
    gate.close();
    await cp.stopApiServer();
    await cp.startApiServer();
  }

  it('reconnects by itself after the API server restarts and sees later changes', async () => {
    const { cms, informer, events } = await watchedNamespace('restart', []);
    try {
      await cp.stopApiServer();
      await cp.startApiServer();
      await cms.create('after-restart');
      await vi.waitFor(() => expect(events).toEqual(['add after-restart']), patiently);
      expect(informer.stats.failures).toBeGreaterThan(0);
    } finally {
      await informer.stop();
    }
  });

  it('re-lists after an API server restart and delivers what changed meanwhile, deletes included', async () => {
    const { cms, informer, events, gate } = await watchedNamespace('restart', ['deleted', 'updated']);
    try {
      await restartBehind(gate);
      await cms.delete('deleted');
      await cms.update('updated', '2');
      await cms.create('created');
      gate.open();
      await vi.waitFor(() => expect(names(informer)).toEqual(['created', 'updated']), patiently);
      expect(events.slice(2).sort()).toEqual(['add created', 'delete deleted', 'update updated']);
      expect(informer.stats.lists).toBe(2);
      expect(names(informer)).toEqual(await cms.names());
    } finally {
      gate.open();
      await informer.stop();
    }
  });

  it('recovers from a forced watch expiry (410 after etcd compaction) with no lost event', async () => {
    const { cms, informer, events, gate } = await watchedNamespace('expiry', ['a', 'b']);
    try {
      await cms.create('c');
      await vi.waitFor(() => expect(events).toContain('add c'), patiently);
      await restartBehind(gate);
      await cms.update('a', '2');
      await cms.delete('b');
      await cms.create('d');
      await cp.compactEtcd();
      gate.open();
      await vi.waitFor(() => expect(names(informer)).toEqual(['a', 'c', 'd']), patiently);
      expect(events).toEqual(['add a', 'add b', 'add c', 'delete b', 'update a', 'add d']);
      expect(informer.stats.expired).toBeGreaterThan(0);
      await cms.create('e');
      await vi.waitFor(() => expect(events.at(-1)).toBe('add e'), patiently);
    } finally {
      gate.open();
      await informer.stop();
    }
  });
});
