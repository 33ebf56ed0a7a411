// List and watch of one collection over the Kubernetes API, on client-node's KubeConfig and HTTP
// library. Not client-node's Watch: it cannot be cancelled while connecting, drops the Status
// body of an error answer, and cuts every quiet watch after a hidden 30 s; this one asks for
// bookmarks and a server-side timeout, with an idle watchdog on the injected clock.

import type { KubeConfig, KubernetesObject, ResponseContext } from '@kubernetes/client-node';
import { type Clock, systemClock, type Timer } from './clock.ts';
import { sendKubeRequest, statusError } from './kube-request.ts';
import type { ApiStatus, ListWatchClient, ObjectList, WatchEvent } from './list-watch.ts';

export interface KubeListWatchOptions {
  kubeConfig: KubeConfig;
  /**
   * API path of the collection: `/api/v1/namespaces/ns/configmaps`, or for a custom resource in
   * all namespaces `/apis/vps.org/v1alpha1/vpsservers`.
   */
  path: string;
  /** Only objects with these labels, e.g. `app=web,tier!=db`. @default all */
  labelSelector?: string;
  /** @default all */
  fieldSelector?: string;
  /** Objects per list page, so a large collection is not one huge answer. @default 500 */
  pageSize?: number;
  /**
   * Server-side length of each watch, in s. Randomized like client-go (5–10 min) so many
   * informers do not reconnect in step. @default () => 300 + random·300
   */
  watchTimeoutSeconds?: () => number;
  /**
   * Abandon a watch that sent nothing for this long: the connection is dead without a FIN
   * (the server would have ended the watch at its timeout). Bookmarks cannot be relied on to
   * keep a quiet watch busy: a server sends them only once it has seen a newer
   * resourceVersion for that resource. 0 disables. @default the watch's timeout + 30 s
   */
  idleTimeoutMs?: number;
  /** @default systemClock */
  clock?: Clock;
}

type ListBody<T> = { items?: T[] | null; metadata?: { resourceVersion?: string; continue?: string } };
type RawEvent = { type?: string; object?: Record<string, unknown> };

export class KubeListWatch<T extends KubernetesObject> implements ListWatchClient<T> {
  readonly #kubeConfig: KubeConfig;
  readonly #path: string;
  readonly #selectors: Record<string, string>;
  readonly #pageSize: number;
  readonly #watchTimeoutSeconds: () => number;
  readonly #idleTimeoutMs: number | undefined;
  readonly #clock: Clock;

  constructor(options: KubeListWatchOptions) {
    this.#kubeConfig = options.kubeConfig;
    this.#path = options.path;
    this.#selectors = {
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
    };
    this.#pageSize = options.pageSize ?? 500;
    this.#watchTimeoutSeconds = options.watchTimeoutSeconds ?? (() => Math.round(300 + Math.random() * 300));
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#clock = options.clock ?? systemClock;
  }

  async list(signal: AbortSignal): Promise<ObjectList<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const query = {
        ...this.#selectors,
        limit: String(this.#pageSize),
        ...(continueToken ? { continue: continueToken } : {}),
      };
      const response = await this.#get(query, signal);
      if (response.httpStatusCode !== 200) throw await statusError(response);
      const body = JSON.parse(await response.body.text()) as ListBody<T>;
      items.push(...(body.items ?? []));
      resourceVersion = body.metadata?.resourceVersion ?? '';
      continueToken = body.metadata?.continue || undefined;
    } while (continueToken !== undefined);
    return { items, resourceVersion };
  }

  async *watch(resourceVersion: string, signal: AbortSignal): AsyncIterable<WatchEvent<T>> {
    // `ended` closes the connection when the consumer stops early; `idle` when it went silent.
    const ended = new AbortController();
    const idle = new AbortController();
    const timeoutSeconds = this.#watchTimeoutSeconds();
    const idleTimeoutMs = this.#idleTimeoutMs ?? (timeoutSeconds + 30) * 1000;
    let watchdog: Timer | undefined;
    const feedWatchdog = (): void => {
      watchdog?.cancel();
      if (idleTimeoutMs > 0) {
        watchdog = this.#clock.setTimer(idleTimeoutMs, () =>
          idle.abort(new Error(`watch sent nothing for ${idleTimeoutMs} ms`)),
        );
      }
    };
    const query = {
      ...this.#selectors,
      watch: 'true',
      resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(timeoutSeconds),
    };
    try {
      feedWatchdog();
      const response = await this.#get(query, AbortSignal.any([signal, ended.signal, idle.signal]));
      if (response.httpStatusCode !== 200) throw await statusError(response);
      const stream = response.body.stream() as ReadableStream<Uint8Array> | undefined;
      if (stream === undefined) return;
      const decoder = new TextDecoder();
      let partial = '';
      for await (const chunk of stream) {
        feedWatchdog();
        const lines = (partial + decoder.decode(chunk, { stream: true })).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const event = parseEvent<T>(line);
          if (event !== undefined) yield event;
        }
      }
    } catch (err) {
      if (idle.signal.aborted && !signal.aborted) throw idle.signal.reason;
      throw err;
    } finally {
      watchdog?.cancel();
      ended.abort();
    }
  }

  #get(query: Record<string, string>, signal: AbortSignal): Promise<ResponseContext> {
    return sendKubeRequest(this.#kubeConfig, { method: 'GET', path: this.#path, query, signal });
  }
}

function parseEvent<T>(line: string): WatchEvent<T> | undefined {
  if (line.trim() === '') return undefined;
  const raw = JSON.parse(line) as RawEvent;
  const object = raw.object ?? {};
  switch (raw.type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      return { type: raw.type, object: object as T };
    case 'BOOKMARK': {
      const metadata = object.metadata as { resourceVersion?: string } | undefined;
      return { type: 'BOOKMARK', resourceVersion: metadata?.resourceVersion ?? '' };
    }
    case 'ERROR':
      return { type: 'ERROR', status: object as ApiStatus };
    default:
      throw new Error(`unexpected watch event type ${JSON.stringify(raw.type)}`);
  }
}
