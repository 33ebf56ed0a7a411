// The two calls an informer makes against a collection (list, watch) as a small interface, so
// the reflector loop in informer.ts is independent of HTTP and can be driven by a scripted
// fake in unit tests; kube-list-watch.ts is the real one over the Kubernetes API.

import type { KubernetesObject } from '@kubernetes/client-node';

/** A complete (all pages) list and the resourceVersion to watch from. */
export interface ObjectList<T> {
  items: T[];
  resourceVersion: string;
}

/** metav1.Status, as the API server sends it in an error answer or a watch ERROR event. */
export interface ApiStatus {
  code?: number;
  reason?: string;
  message?: string;
}

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  /** Progress marker: everything up to this resourceVersion has been sent. */
  | { type: 'BOOKMARK'; resourceVersion: string }
  | { type: 'ERROR'; status: ApiStatus };

export interface ListWatchClient<T extends KubernetesObject> {
  /** Lists the whole collection now (a consistent read). */
  list(signal: AbortSignal): Promise<ObjectList<T>>;
  /**
   * Streams changes after `resourceVersion` until the server ends the watch (normal), the
   * connection fails (throws), or `signal` aborts. Throws KubeStatusError for an error answer.
   */
  watch(resourceVersion: string, signal: AbortSignal): AsyncIterable<WatchEvent<T>>;
}

/** The API server answered with an error Status. */
export class KubeStatusError extends Error {
  readonly code: number;
  readonly reason: string | undefined;

  constructor(status: ApiStatus, fallbackCode: number) {
    const code = status.code ?? fallbackCode;
    super(
      `Kubernetes API answered ${code}${status.reason ? ` ${status.reason}` : ''}: ${status.message ?? ''}`,
    );
    this.name = 'KubeStatusError';
    this.code = code;
    this.reason = status.reason;
  }
}

/**
 * 410 Gone / Expired: the resourceVersion asked for is older than the server still has
 * (etcd compacted it, or it fell out of the watch cache). Only a fresh list can recover.
 */
export function isExpired(err: unknown): boolean {
  return err instanceof KubeStatusError && err.code === 410;
}

/** "namespace/name", or "name" for a cluster-scoped object: the key the work queue carries. */
export function objectKey(obj: KubernetesObject): string {
  const name = obj.metadata?.name ?? '';
  const namespace = obj.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}
