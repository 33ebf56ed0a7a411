// A shared informer: list + watch of one collection into a local cache, with add/update/delete
// events for handlers that feed work queues, hasSynced/waitForCacheSync and a resync timer.
//
// Not client-node's makeInformer/ListWatch (2.0.1), which was checked against a real API
// server: after any watch or list failure other than 410 (e.g. the API server restarting) it
// emits 'error' and stops for good, with no retry or backoff, so its cache silently goes stale;
// its stop() fires 'error' (AbortError), so the documented restart-on-error pattern revives a
// stopped informer; it never asks for bookmarks; stop() during a list still opens a watch after.
//
// The loop here keeps client-go's reflector semantics: list (all pages) → watch from that
// resourceVersion with bookmarks; a watch that ends normally is resumed at once from the last
// resourceVersion seen; a failed list or watch is retried after an exponential backoff, the
// watch resuming from its resourceVersion (the server replays every later event or answers
// 410); 410 Gone → re-list, and the re-list is diffed against the cache so changes made
// while disconnected, deletes included, reach the handlers.

import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type Clock, sleep, systemClock, type Timer } from './clock.ts';
import {
  isExpired,
  KubeStatusError,
  type ListWatchClient,
  objectKey,
  type WatchEvent,
} from './list-watch.ts';
import { ExponentialFailureRateLimiter, type RateLimiter } from './rate-limiters.ts';

/** Callbacks for cache changes. Resync delivers onUpdate(obj, obj) for every cached object. */
export interface EventHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  /** With the last state known; after a re-list that is the state before the gap. */
  onDelete?(obj: T): void;
}

export interface InformerOptions<T extends KubernetesObject> {
  /** Where objects come from: a KubeListWatch, or a fake in unit tests. */
  listWatch: ListWatchClient<T>;
  logger: Logger;
  /**
   * Every this many ms, deliver onUpdate(obj, obj) for every cached object so controllers look
   * at each one again (drift outside Kubernetes). 0 disables. @default 36000000 (10 h, as
   * controller-runtime)
   */
  resyncPeriodMs?: number;
  /** Delay between failed list/watch attempts. @default 800 ms → 30 s exponential, jittered */
  backoff?: RateLimiter;
  /** A watch ending sooner than this with no event counts as a failure (no tight loop). @default 1000 */
  minWatchMs?: number;
  /** @default systemClock */
  clock?: Clock;
  /**
   * Applied to every object before it is cached or handed to a handler, as client-go's
   * SetTransform: drop what the controller never reads (see stripManagedFields) so the cache of
   * thousands of objects stays small. Must return a value derived from its argument only.
   */
  transform?: (obj: T) => T;
}

/** Counters for tests and metrics. */
export interface InformerStats {
  lists: number;
  watches: number;
  /** 410 Gone answers (resourceVersion expired) that forced a re-list. */
  expired: number;
  bookmarks: number;
  failures: number;
}

const BACKOFF_KEY = 'list-watch';

export class Informer<T extends KubernetesObject> {
  readonly #listWatch: ListWatchClient<T>;
  readonly #log: Logger;
  readonly #resyncPeriodMs: number;
  readonly #backoff: RateLimiter;
  readonly #minWatchMs: number;
  readonly #clock: Clock;
  readonly #transform: (obj: T) => T;
  readonly #cache = new Map<string, T>();
  readonly #handlers: EventHandler<T>[] = [];
  readonly #stop = new AbortController();
  readonly #stats: InformerStats = { lists: 0, watches: 0, expired: 0, bookmarks: 0, failures: 0 };
  #syncWaiters: ((synced: boolean) => void)[] = [];
  #synced = false;
  /** Where the next watch starts; undefined means list first. */
  #resourceVersion: string | undefined;
  #running: Promise<void> | undefined;
  #resyncTimer: Timer | undefined;

  constructor(options: InformerOptions<T>) {
    this.#listWatch = options.listWatch;
    this.#log = options.logger;
    this.#resyncPeriodMs = options.resyncPeriodMs ?? 36_000_000;
    this.#backoff = options.backoff ?? new ExponentialFailureRateLimiter({ baseMs: 800, maxMs: 30_000 });
    this.#minWatchMs = options.minWatchMs ?? 1000;
    this.#clock = options.clock ?? systemClock;
    this.#transform = options.transform ?? ((obj) => obj);
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  get stats(): Readonly<InformerStats> {
    return { ...this.#stats };
  }

  /** The cached object with this key (namespace/name), if any. Shared: do not mutate it. */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  /** Every cached object (shared: copy before changing one). */
  list(): T[] {
    return [...this.#cache.values()];
  }

  keys(): string[] {
    return [...this.#cache.keys()];
  }

  /** Registers handlers; if the cache is already filled, they get onAdd for every object. */
  addEventHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler);
    if (this.#synced) for (const obj of this.#cache.values()) this.#deliver(handler, 'onAdd', obj);
  }

  /** Starts listing and watching in the background; calling it again does nothing. */
  start(): void {
    if (this.#running !== undefined || this.#stop.signal.aborted) return;
    this.#running = this.#reflect(this.#stop.signal);
    this.#scheduleResync();
  }

  /** Stops the watch and the resync timer; resolves once no request is in flight. */
  async stop(): Promise<void> {
    this.#stop.abort(new Error('informer stopped'));
    this.#resyncTimer?.cancel();
    for (const resolve of this.#syncWaiters.splice(0)) resolve(false);
    await this.#running;
  }

  /** Resolves true once the first list is in the cache; false if stopped or `signal` aborts first. */
  waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (this.#stop.signal.aborted || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push((synced) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(synced);
      });
    });
  }

  async #reflect(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // The resourceVersion a list in this round gave: a 410 for it, before any event moved it
      // on, would loop list → watch → 410 without pause, so it is backed off like a failure.
      let listedVersion: string | undefined;
      try {
        if (this.#resourceVersion === undefined) {
          await this.#relist(signal);
          listedVersion = this.#resourceVersion;
        }
        await this.#watch(this.#resourceVersion ?? '', signal);
      } catch (err) {
        if (signal.aborted) return;
        if (isExpired(err) && this.#resourceVersion !== undefined) {
          this.#stats.expired++;
          this.#log.info({ resourceVersion: this.#resourceVersion }, 'watch expired (410); re-listing');
          const noProgress = this.#resourceVersion === listedVersion;
          this.#resourceVersion = undefined;
          if (!noProgress) continue;
        }
        this.#stats.failures++;
        const delayMs = Math.round(this.#backoff.when(BACKOFF_KEY));
        const resumeFrom = this.#resourceVersion ?? 'a new list';
        this.#log.warn({ err, delayMs, resumeFrom }, 'list/watch failed; retrying');
        await sleep(this.#clock, delayMs, signal).catch(() => {});
      }
    }
  }

  async #relist(signal: AbortSignal): Promise<void> {
    const list = await this.#listWatch.list(signal);
    this.#stats.lists++;
    this.#replace(list.items);
    this.#resourceVersion = list.resourceVersion;
    this.#backoff.forget(BACKOFF_KEY);
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve(true);
    }
  }

  /** One watch until it ends normally; throws on failure, KubeStatusError(410) when expired. */
  async #watch(resourceVersion: string, signal: AbortSignal): Promise<void> {
    this.#stats.watches++;
    const startedAt = this.#clock.now();
    let events = 0;
    for await (const event of this.#listWatch.watch(resourceVersion, signal)) {
      if (event.type === 'ERROR') throw new KubeStatusError(event.status, 500);
      this.#apply(event);
      if (events++ === 0) this.#backoff.forget(BACKOFF_KEY);
    }
    if (events === 0 && this.#clock.now() - startedAt < this.#minWatchMs) {
      throw new Error('watch ended at once without an event');
    }
  }

  #apply(event: Exclude<WatchEvent<T>, { type: 'ERROR' }>): void {
    if (event.type === 'BOOKMARK') {
      this.#stats.bookmarks++;
      if (event.resourceVersion) this.#resourceVersion = event.resourceVersion;
      return;
    }
    const obj = this.#transform(event.object);
    const key = objectKey(obj);
    if (event.type === 'DELETED') {
      const last = this.#cache.get(key);
      this.#cache.delete(key);
      if (last !== undefined) this.#emit('onDelete', obj);
    } else {
      this.#upsert(key, obj);
    }
    this.#resourceVersion = obj.metadata?.resourceVersion ?? this.#resourceVersion;
  }

  /** Makes the cache equal to a fresh list, emitting what differs (deletes first). */
  #replace(items: T[]): void {
    const fresh = new Map(
      items.map((item) => {
        const obj = this.#transform(item);
        return [objectKey(obj), obj] as const;
      }),
    );
    for (const [key, last] of this.#cache) {
      if (fresh.has(key)) continue;
      this.#cache.delete(key);
      this.#emit('onDelete', last);
    }
    for (const [key, obj] of fresh) this.#upsert(key, obj);
  }

  #upsert(key: string, obj: T): void {
    const old = this.#cache.get(key);
    const version = obj.metadata?.resourceVersion;
    if (old !== undefined && version !== undefined && old.metadata?.resourceVersion === version) return;
    this.#cache.set(key, obj);
    if (old === undefined) this.#emit('onAdd', obj);
    else this.#emitUpdate(old, obj);
  }

  #scheduleResync(): void {
    if (this.#resyncPeriodMs <= 0 || this.#stop.signal.aborted) return;
    this.#resyncTimer = this.#clock.setTimer(this.#resyncPeriodMs, () => {
      if (this.#synced) for (const obj of this.#cache.values()) this.#emitUpdate(obj, obj);
      this.#scheduleResync();
    });
  }

  #emit(kind: 'onAdd' | 'onDelete', obj: T): void {
    for (const handler of this.#handlers) this.#deliver(handler, kind, obj);
  }

  #emitUpdate(oldObj: T, newObj: T): void {
    for (const handler of this.#handlers) {
      try {
        handler.onUpdate?.(oldObj, newObj);
      } catch (err) {
        this.#log.error({ err, key: objectKey(newObj) }, 'event handler threw on update');
      }
    }
  }

  /** A throwing handler is logged and skipped: it must not stop the watch or other handlers. */
  #deliver(handler: EventHandler<T>, kind: 'onAdd' | 'onDelete', obj: T): void {
    try {
      handler[kind]?.(obj);
    } catch (err) {
      this.#log.error(
        { err, key: objectKey(obj) },
        `event handler threw on ${kind === 'onAdd' ? 'add' : 'delete'}`,
      );
    }
  }
}

/**
 * An informer transform that drops metadata.managedFields: server-side apply bookkeeping, often
 * larger than the rest of the object, which a controller never reads (controller-runtime's
 * TransformStripManagedFields).
 */
export function stripManagedFields<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** Handlers that add the key of every changed object to a work queue. */
export function enqueueKeys(queue: { add(key: string): void }): EventHandler<KubernetesObject> {
  const enqueue = (obj: KubernetesObject): void => queue.add(objectKey(obj));
  return { onAdd: enqueue, onUpdate: (_old, obj) => enqueue(obj), onDelete: enqueue };
}
