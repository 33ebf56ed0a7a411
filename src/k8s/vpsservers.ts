// The one writer of VpsServer objects: every write is conditional on the resourceVersion the
// caller's decision was made on, so a writer with a stale view (a paused leader that woke up, a
// pass that raced another) gets 409 Conflict instead of erasing what it never saw: the
// create-pending marker, status.serverId, a newer spec. Metadata (finalizers, annotations) and
// status (the /status subresource) are both JSON merge patches carrying
// metadata.resourceVersion, which the API server checks as a precondition on either endpoint
// (test/integration/vpsserver-writer.test.ts proves it for status). Fields the new status drops
// are sent as null so they are removed. test/unit/vpsserver-one-writer.test.ts keeps every other
// file of src/ from writing VpsServers by another path.
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest, segment } from '../runtime/index.ts';

export interface CustomResourceRef {
  group: string;
  version: string;
  plural: string;
}

export interface ObjectMetaRef {
  namespace: string;
  name: string;
  /** The version the write is based on; the write fails with 409 if the object moved on. */
  resourceVersion: string;
}

export interface CustomResourceWriterOptions {
  fieldManager?: string;
  /**
   * Called right before every write's bytes go out (after the last await of the request);
   * throwing refuses the write (the lease guard: a replica that may no longer lead writes nothing).
   */
  beforeWrite?: () => void;
}

const MERGE_PATCH = 'application/merge-patch+json';

export class CustomResourceWriter {
  readonly #kc: KubeConfig;
  readonly #ref: CustomResourceRef;
  readonly #fieldManager: string;
  readonly #beforeWrite: () => void;

  constructor(kc: KubeConfig, ref: CustomResourceRef, options: CustomResourceWriterOptions = {}) {
    this.#kc = kc;
    this.#ref = ref;
    this.#fieldManager = options.fieldManager ?? 'vps-operator';
    this.#beforeWrite = options.beforeWrite ?? (() => {});
  }

  /** Reads one object fresh from the API server (not from a cache). */
  get(namespace: string, name: string): Promise<unknown> {
    return kubeRequest(this.#kc, { method: 'GET', path: this.#objectPath(namespace, name) });
  }

  /**
   * Sets finalizers and/or annotations (null removes one). Fails with 409 if the object changed
   * since `meta.resourceVersion` was read. Returns the updated object.
   */
  async patchMetadata(
    meta: ObjectMetaRef,
    change: { finalizers?: string[]; annotations?: Record<string, string | null> },
  ): Promise<unknown> {
    const body = { metadata: { resourceVersion: precondition(meta), ...change } };
    return this.#mergePatch(this.#objectPath(meta.namespace, meta.name), body);
  }

  /**
   * Replaces status with `next` (keys of `previous` missing from `next` are removed). `previous`
   * must be the status of `meta.resourceVersion`: the write fails with 409 if the object changed
   * since, so nothing `previous` did not hold can be removed. Returns the updated object.
   */
  async patchStatus(meta: ObjectMetaRef, previous: object, next: object): Promise<unknown> {
    const removed = Object.fromEntries(
      Object.keys(previous)
        .filter((k) => !(k in next) || (next as Record<string, unknown>)[k] === undefined)
        .map((k) => [k, null]),
    );
    const body = {
      metadata: { resourceVersion: precondition(meta) },
      status: { ...removed, ...withoutUndefined(next) },
    };
    return this.#mergePatch(`${this.#objectPath(meta.namespace, meta.name)}/status`, body);
  }

  #objectPath(namespace: string, name: string): string {
    const { group, version, plural } = this.#ref;
    return `/apis/${group}/${version}/namespaces/${segment(namespace)}/${plural}/${segment(name)}`;
  }

  async #mergePatch(path: string, body: object): Promise<unknown> {
    return kubeRequest(this.#kc, {
      method: 'PATCH',
      path,
      beforeSend: this.#beforeWrite,
      query: { fieldManager: this.#fieldManager },
      contentType: MERGE_PATCH,
      body,
    });
  }
}

/** An unconditional write is a bug, not a fallback: refuse it before anything is sent. */
function precondition(meta: ObjectMetaRef): string {
  if (typeof meta.resourceVersion !== 'string' || meta.resourceVersion === '')
    throw new Error(
      `refusing an unconditional write to ${meta.namespace}/${meta.name}: no metadata.resourceVersion to base it on`,
    );
  return meta.resourceVersion;
}

const withoutUndefined = (o: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
