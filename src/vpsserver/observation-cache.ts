// The operator's picture of every server of one VPS.org account, kept fresh by ONE list call
// (all pages) for all resources that use the account, so steady-state calls per minute do not
// grow with the number of resources. Answers to our own writes are overlaid at once, and a
// list that started before such a write cannot undo it. Detail fields (IPv6, usage, backups)
// come from GETs paced by a fixed per-minute allowance, shared round-robin by tracked servers.
import { setTimeout as sleep } from 'node:timers/promises';
import { type ObservedServer, TRANSITIONAL_STATES } from './observed.ts';
import type { ListResume, ServerProvider } from './provider.ts';

/** How many proven-gone ids are remembered (a few hundred KiB at most). */
const GONE_MEMORY = 50_000;
/** What the cache reads the account through: the provider's two reads (provider.ts). */
export type ObservationSource = Pick<ServerProvider, 'listServers' | 'getServer'>;

export interface ObservationCacheOptions {
  /** List interval while any server is transitional or a pass asked for a fresh look. Default 5 s. */
  activeIntervalMs?: number;
  /** List interval at rest. Default 60 s. */
  restingIntervalMs?: number;
  /**
   * How long a list that failed on a page may be resumed from that page (the provider's page
   * links stay valid for a while); older, it starts again at page 1. Default 60 s.
   */
  resumeWithinMs?: number;
  /** Detail GETs per minute for this account, shared by all tracked servers. Default 6. */
  detailReadsPerMinute?: number;
  /** Called with the ids whose observable state changed (appeared, changed, vanished). */
  onChange?: (ids: number[]) => void;
  /** Called when a list or detail read fails (the loop carries on). */
  onError?: (err: unknown, what: 'list' | 'get') => void;
  now?: () => number;
}

interface Entry {
  server: ObservedServer;
  /** When our own write last changed this entry (0 = only ever seen in lists). */
  localAt: number;
  /** When detail fields were last read (0 = never). */
  detailAt: number;
}

export class ObservationCache {
  readonly #source: ObservationSource;
  readonly #activeMs: number;
  readonly #restingMs: number;
  readonly #detailEveryMs: number;
  readonly #onChange: (ids: number[]) => void;
  readonly #onError: (err: unknown, what: 'list' | 'get') => void;
  readonly #now: () => number;
  readonly #entries = new Map<number, Entry>();
  readonly #tracked = new Set<number>();
  /** Server ids by name: the leak check asks for a resource's name on every pass. */
  readonly #byName = new Map<string, Set<number>>();
  /**
   * Ids a list proved gone: the cache held them, and a list that began after it last heard of
   * them lacked them. Ids are never reused, so a pass needs no GET to learn they are gone (a
   * GET per deleted resource doubled the cost of deleting many). Oldest forgotten past a cap.
   */
  readonly #gone = new Set<number>();
  #snapshotAt = 0;
  #listFailure: unknown;
  #listing: Promise<void> | undefined;
  readonly #resumeWithinMs: number;
  /** A list that failed part-way: where it got to, and when its first page was requested. */
  #resume: { place: ListResume; startedAt: number | undefined; failedAt: number } | undefined;
  #firstSnapshot: PromiseWithResolvers<void> = Promise.withResolvers<void>();
  #wantSoon = false;
  /** Resolved when a pass asks for a fresh look, to cut the list loop's sleep short. */
  #wake = Promise.withResolvers<void>();
  #stop = new AbortController();
  #running = false;

  constructor(source: ObservationSource, options: ObservationCacheOptions = {}) {
    this.#source = source;
    this.#activeMs = options.activeIntervalMs ?? 5_000;
    this.#restingMs = options.restingIntervalMs ?? 60_000;
    this.#resumeWithinMs = options.resumeWithinMs ?? 60_000;
    this.#detailEveryMs = 60_000 / Math.max(options.detailReadsPerMinute ?? 6, 0.001);
    this.#onChange = options.onChange ?? (() => {});
    this.#onError = options.onError ?? (() => {});
    this.#now = options.now ?? Date.now;
    // Nobody may be waiting yet; an unhandled rejection here would crash the process.
    this.#firstSnapshot.promise.catch(() => {});
  }

  /** When the list in use was started: every server created before then is in the cache. */
  get snapshotAt(): number {
    return this.#snapshotAt;
  }

  /**
   * Why the latest list failed; undefined once a list succeeds. While it is set the snapshot
   * cannot move on, so a pass waiting for news must say why it is not coming.
   */
  get listFailure(): unknown {
    return this.#listFailure;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: number): ObservedServer | undefined {
    return this.#entries.get(id)?.server;
  }

  *servers(): Iterable<ObservedServer> {
    for (const e of this.#entries.values()) yield e.server;
  }

  /** The servers named `name`, without walking the whole account. */
  named(name: string): ObservedServer[] {
    const out: ObservedServer[] = [];
    for (const id of this.#byName.get(name) ?? []) {
      const server = this.#entries.get(id)?.server;
      if (server !== undefined) out.push(server);
    }
    return out;
  }

  #index(id: number, name: string | undefined, previous: string | undefined): void {
    if (name === previous) return;
    if (previous !== undefined) {
      const ids = this.#byName.get(previous);
      ids?.delete(id);
      if (ids?.size === 0) this.#byName.delete(previous);
    }
    if (name === undefined) return;
    let ids = this.#byName.get(name);
    if (ids === undefined) {
      ids = new Set();
      this.#byName.set(name, ids);
    }
    ids.add(id);
  }

  /** Resolves once a first list has been read (or the cache is stopped). */
  ready(): Promise<void> {
    return this.#firstSnapshot.promise;
  }

  /** Whether a list has proved this server gone (see #gone): no need to ask the provider. */
  provenGone(id: number): boolean {
    return this.#gone.has(id) && !this.#entries.has(id);
  }

  /** Marks a server whose detail fields should be read (and kept fresh on the slow cadence). */
  track(id: number): void {
    this.#tracked.add(id);
  }

  untrack(id: number): void {
    this.#tracked.delete(id);
  }

  /** Asks for the next list on the short interval (a pass is waiting for something to change). */
  refreshSoon(): void {
    this.#askSoon();
  }

  #askSoon(): void {
    this.#wantSoon = true;
    this.#wake.resolve();
  }

  /** Overlays the provider's answer to one of our writes. */
  upsert(server: Partial<ObservedServer> & { id: number }): void {
    const prev = this.#entries.get(server.id);
    const merged = { ...prev?.server, ...server } as ObservedServer;
    this.#entries.set(server.id, { server: merged, localAt: this.#now(), detailAt: prev?.detailAt ?? 0 });
    this.#index(server.id, merged.name, prev?.server.name);
    if (TRANSITIONAL_STATES.has(merged.state)) this.#askSoon();
  }

  /** Records that our DELETE succeeded: the server counts as deleting until a later list lacks it. */
  markDeleted(id: number): void {
    const prev = this.#entries.get(id);
    if (prev === undefined) return;
    this.#entries.set(id, {
      ...prev,
      server: { ...prev.server, deleteRequested: true },
      localAt: this.#now(),
    });
    this.#askSoon();
  }

  /** Reads the list now (joining one already under way) and merges it. */
  refresh(): Promise<void> {
    this.#listing ??= this.#list().finally(() => {
      this.#listing = undefined;
    });
    return this.#listing;
  }

  /** Keeps the cache fresh until stop(): lists on the active or resting interval, and reads details. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#listLoop();
    void this.#detailLoop();
  }

  stop(): void {
    this.#stop.abort();
    this.#wake.resolve();
    this.#firstSnapshot.reject(new Error('observation stopped'));
  }

  async #list(): Promise<void> {
    // The list is as new as its first request: a list that waited behind writes in the call
    // budget must not count as older than it is, or it could not replace the overlays of the
    // writes it waited for (a server would look "provisioning" until the next list).
    const calledAt = this.#now();
    // A list that failed on a page goes on from that page (else a provider whose limit is
    // below our rate could fail some page of a long list every time: a livelock). It is then
    // as old as the first page of its first attempt.
    const earlier =
      this.#resume !== undefined && calledAt - this.#resume.failedAt <= this.#resumeWithinMs
        ? this.#resume
        : undefined;
    const place: ListResume = earlier?.place ?? {};
    let startedAt = earlier?.startedAt;
    let listed: ObservedServer[];
    try {
      listed = await this.#source.listServers(
        this.#stop.signal,
        () => {
          startedAt ??= this.#now();
        },
        place,
      );
    } catch (err) {
      this.#listFailure = err;
      this.#resume = { place, startedAt, failedAt: this.#now() };
      throw err;
    }
    this.#resume = undefined;
    this.#listFailure = undefined;
    this.#merge(listed, startedAt ?? calledAt);
    this.#firstSnapshot.resolve();
  }

  #merge(listed: ObservedServer[], startedAt: number): void {
    const changed: number[] = [];
    const next = new Map<number, Entry>();
    for (const server of listed) {
      const prev = this.#entries.get(server.id);
      if (prev !== undefined && prev.localAt > startedAt) {
        next.set(server.id, prev); // our write is newer than this list
        continue;
      }
      const merged: ObservedServer = {
        ...server,
        ...(prev !== undefined && carriedDetail(prev.server)),
        ...(prev?.server.deleteRequested && { deleteRequested: true }),
      };
      if (prev === undefined || observableChange(prev.server, merged)) changed.push(server.id);
      next.set(server.id, { server: merged, localAt: prev?.localAt ?? 0, detailAt: prev?.detailAt ?? 0 });
    }
    for (const [id, prev] of this.#entries) {
      if (next.has(id)) continue;
      if (prev.localAt > startedAt && !prev.server.deleteRequested)
        next.set(id, prev); // created after the list began
      else {
        changed.push(id);
        if (prev.localAt <= startedAt) this.#rememberGone(id);
      }
    }
    this.#entries.clear();
    this.#byName.clear();
    for (const [id, e] of next) {
      this.#entries.set(id, e);
      this.#index(id, e.server.name, undefined);
    }
    this.#snapshotAt = Math.max(this.#snapshotAt, startedAt);
    if (changed.length > 0) this.#onChange(changed);
  }

  #rememberGone(id: number): void {
    this.#gone.add(id);
    if (this.#gone.size > GONE_MEMORY) this.#gone.delete(this.#gone.values().next().value as number);
  }

  #needsActiveInterval(): boolean {
    if (this.#wantSoon) return true;
    for (const e of this.#entries.values()) {
      if (TRANSITIONAL_STATES.has(e.server.state) || e.server.deleteRequested) return true;
    }
    return false;
  }

  async #listLoop(): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      this.#wantSoon = false;
      try {
        await this.refresh();
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        this.#onError(err, 'list');
        failures += 1;
      }
      // A failing account (bad token, outage) is retried ever more slowly, never hammered.
      const interval =
        failures > 0
          ? Math.min(this.#activeMs * 2 ** failures, this.#restingMs)
          : this.#needsActiveInterval()
            ? this.#activeMs
            : this.#restingMs;
      await this.#sleepOrWake(interval, failures === 0);
    }
  }

  /**
   * Sleeps `ms`; when `wakeEarly`, a pass asking for a fresh look cuts the sleep to the active
   * interval (never shorter, so lists stay at most one per active interval however often passes ask).
   */
  async #sleepOrWake(ms: number, wakeEarly: boolean): Promise<void> {
    const startedAt = performance.now(); // real time: the sleeps below are real timers
    const done = new AbortController();
    const signal = AbortSignal.any([this.#stop.signal, done.signal]);
    this.#wake = Promise.withResolvers<void>();
    if (this.#wantSoon) this.#wake.resolve();
    const full = sleep(Math.max(ms, 1), undefined, { signal }).catch(() => {});
    await Promise.race(wakeEarly ? [full, this.#wake.promise] : [full]);
    const left = startedAt + this.#activeMs - performance.now();
    if (left > 0 && !signal.aborted) await sleep(left, undefined, { signal }).catch(() => {});
    done.abort();
  }

  async #detailLoop(): Promise<void> {
    const signal = this.#stop.signal;
    await this.ready().catch(() => {});
    while (!signal.aborted) {
      const id = this.#nextDetailRead();
      if (id !== undefined) {
        try {
          const detail = await this.#source.getServer(id, signal);
          const prev = this.#entries.get(id);
          if (detail !== undefined && prev !== undefined) {
            const changed = observableChange(prev.server, { ...prev.server, ...carriedDetail(detail) });
            prev.server = { ...prev.server, ...carriedDetail(detail) };
            prev.detailAt = this.#now();
            if (changed) this.#onChange([id]);
          }
        } catch (err) {
          if (signal.aborted) return;
          this.#onError(err, 'get');
        }
      }
      await sleep(this.#detailEveryMs, undefined, { signal }).catch(() => {});
    }
  }

  /** The tracked, settled server whose detail is oldest (never-read ones first). */
  #nextDetailRead(): number | undefined {
    let best: { id: number; at: number } | undefined;
    for (const id of this.#tracked) {
      const e = this.#entries.get(id);
      if (e === undefined || TRANSITIONAL_STATES.has(e.server.state) || e.server.deleteRequested) continue;
      if (best === undefined || e.detailAt < best.at) best = { id, at: e.detailAt };
    }
    return best?.id;
  }
}

function carriedDetail(s: ObservedServer): Partial<ObservedServer> {
  const d: Partial<ObservedServer> = {};
  if (s.backupsEnabled !== undefined) d.backupsEnabled = s.backupsEnabled;
  if (s.ipv6Address !== undefined) d.ipv6Address = s.ipv6Address;
  if (s.resourceUsage !== undefined) d.resourceUsage = s.resourceUsage;
  if (s.plan.bandwidth !== undefined) d.plan = s.plan;
  return d;
}

/** Whether a change is one a reconcile must see (not just usage figures ticking). */
function observableChange(a: ObservedServer, b: ObservedServer): boolean {
  return (
    a.state !== b.state ||
    a.name !== b.name ||
    a.hostname !== b.hostname ||
    a.ipAddress !== b.ipAddress ||
    a.backupsEnabled !== b.backupsEnabled ||
    a.ipv6Address !== b.ipv6Address
  );
}
