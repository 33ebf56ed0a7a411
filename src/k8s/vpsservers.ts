// Writes to VpsServer objects: metadata (finalizers, annotations) guarded by resourceVersion so
// a stale pass cannot undo a newer change, and status through the /status subresource as a
// JSON merge patch (fields the new status drops are sent as null so they are removed).
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest, segment } from '../runtime/kube-request.ts';

export interface CustomResourceRef {
  group: string;
  version: string;
  plural: string;
}

export interface ObjectMetaRef {
  namespace: string;
  name: string;
  resourceVersion: string;
}

const MERGE_PATCH = 'application/merge-patch+json';

export class CustomResourceWriter {
  readonly #kc: KubeConfig;
  readonly #ref: CustomResourceRef;
  readonly #fieldManager: string;

  constructor(kc: KubeConfig, ref: CustomResourceRef, fieldManager = 'vps-operator') {
    this.#kc = kc;
    this.#ref = ref;
    this.#fieldManager = fieldManager;
  }

  /** Reads one object fresh from the API server (not from a cache). */
  get(namespace: string, name: string): Promise<unknown> {
    return kubeRequest(this.#kc, { method: 'GET', path: this.#objectPath(namespace, name) });
  }

  /**
   * Sets finalizers and/or annotations (null removes one). Fails with 409 if the object changed
   * since `meta.resourceVersion` was read. Returns the updated object.
   */
  patchMetadata(
    meta: ObjectMetaRef,
    change: { finalizers?: string[]; annotations?: Record<string, string | null> },
  ): Promise<unknown> {
    const body = { metadata: { resourceVersion: meta.resourceVersion, ...change } };
    return this.#mergePatch(this.#objectPath(meta.namespace, meta.name), body);
  }

  /** Replaces status with `next` (merge patch; keys of `previous` missing from `next` are removed). */
  patchStatus(
    meta: Omit<ObjectMetaRef, 'resourceVersion'>,
    previous: object,
    next: object,
  ): Promise<unknown> {
    const removed = Object.fromEntries(
      Object.keys(previous)
        .filter((k) => !(k in next) || (next as Record<string, unknown>)[k] === undefined)
        .map((k) => [k, null]),
    );
    const body = { status: { ...removed, ...withoutUndefined(next) } };
    return this.#mergePatch(`${this.#objectPath(meta.namespace, meta.name)}/status`, body);
  }

  #objectPath(namespace: string, name: string): string {
    const { group, version, plural } = this.#ref;
    return `/apis/${group}/${version}/namespaces/${segment(namespace)}/${plural}/${segment(name)}`;
  }

  #mergePatch(path: string, body: object): Promise<unknown> {
    return kubeRequest(this.#kc, {
      method: 'PATCH',
      path,
      query: { fieldManager: this.#fieldManager },
      contentType: MERGE_PATCH,
      body,
    });
  }
}

const withoutUndefined = (o: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
