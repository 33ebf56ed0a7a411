// Shards (separate processes) that use the same API account split its rate through the
// Kubernetes API, with no other shared store: each shard holds one Lease per account it calls
// (labelled with the account id), renews it every third of a lease duration, and watches the
// Leases of all shards. An account's live shards are the Leases renewed within one lease
// duration, judged on this process's own clock from when it saw each renewal (as leader
// election does, so clock skew cannot matter); each takes its part of the rate, in whole calls
// per window that add up to it (shareOf). A throttle seen by one shard is written on its Lease as "retry after N ms" and the others pause their
// budget of that account for N ms from when the watch brings it: a few ms late, never early.
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type Clock, systemClock, type Timer } from './clock.ts';
import { Informer } from './informer.ts';
import { KubeListWatch } from './kube-list-watch.ts';
import { kubeRequest, segment } from './kube-request.ts';

/**
 * This shard's share of an account's rate when `live` shards (itself included) use it, and it
 * is number `rank` (0-based) of them in the order every shard sees (their Lease names sorted).
 * Given the account's whole rate as `callsPerWindow` calls per rate window, each shard gets a
 * whole number of calls and the numbers add up to the rate (10 over 3 shards: 4, 3, 3): each
 * shard's pacer then holds its calls to that many in any window, so the provider sees no more
 * than the rate in any window. An equal fraction (3.33 each) let every pacer round to 3 calls
 * per 900 ms, so 3 shards could send up to 18 calls in one 1-s window at R = 10 (the shards
 * bench saw 14 and 15).
 * With fewer whole calls than shards, or no rate, the shares are equal fractions.
 */
export function shareOf(live: number, rank = 0, callsPerWindow?: number): number {
  const n = Math.max(1, live);
  const whole = callsPerWindow === undefined ? 0 : Math.floor(callsPerWindow + 1e-9);
  if (!Number.isFinite(whole) || whole < n) return 1 / n;
  const base = Math.floor(whole / n);
  const mine = base + (Math.min(Math.max(0, rank), n - 1) < whole - base * n ? 1 : 0);
  return mine / whole;
}

/** Tracks when each Lease was last seen renewed, on our clock; a pure piece with a table test. */
export class LeaseLiveness {
  readonly #durationMs: number;
  readonly #seen = new Map<string, { renewTime: string; at: number }>();

  constructor(durationMs: number) {
    this.#durationMs = durationMs;
  }

  /** Records the renewal time a Lease shows now (a new value counts as a renewal). */
  observe(name: string, renewTime: string, now: number): void {
    const prev = this.#seen.get(name);
    if (prev === undefined || prev.renewTime !== renewTime) this.#seen.set(name, { renewTime, at: now });
  }

  forget(name: string): void {
    this.#seen.delete(name);
  }

  /** Whether the Lease was renewed within one lease duration before `now`. */
  live(name: string, now: number): boolean {
    const s = this.#seen.get(name);
    return s !== undefined && now - s.at < this.#durationMs;
  }

  /** Whether the Lease has not been renewed for `factor` lease durations (a shard long gone). */
  abandoned(name: string, now: number, factor: number): boolean {
    const s = this.#seen.get(name);
    return s !== undefined && now - s.at >= this.#durationMs * factor;
  }
}

export interface ShardSplitOptions {
  kubeConfig: KubeConfig;
  /** Namespace of the Leases (the operator's own). */
  namespace: string;
  /** Prefix of the Lease names, e.g. `vps-operator-budget`. */
  namePrefix: string;
  /** Label that carries the account id, e.g. `budget.vps.org/account`. */
  accountLabel: string;
  /** This shard's identity (unique among shards and restarts). */
  identity: string;
  /** How long a shard that stopped renewing still counts. @default 15000 */
  leaseDurationMs?: number;
  /** This shard's share of `account` changed. */
  onShare(account: string, share: number): void;
  /**
   * The account's whole rate in calls per rate window, so shares are whole calls that add up
   * to it (see shareOf); undefined: equal fractions.
   */
  callsPerWindow?(account: string): number | undefined;
  /**
   * Hold the calls of `account` for `ms`: another shard was throttled on it, or this shard has
   * just joined shards already using it (they need one rate window to see it and slow down).
   */
  pause(account: string, ms: number): void;
  /** The rate window of the budgets, held by a shard joining others. @default 1000 */
  windowMs?: number;
  logger: Logger;
  clock?: Clock;
}

const RETRY_AFTER = 'retry-after-ms';
const leasesPath = (ns: string) => `/apis/coordination.k8s.io/v1/namespaces/${segment(ns)}/leases`;

export class ShardSplit {
  readonly #o: ShardSplitOptions;
  readonly #durationMs: number;
  readonly #clock: Clock;
  readonly #liveness: LeaseLiveness;
  readonly #informer: Informer<V1Lease>;
  /** Our Lease per account: its last written state. */
  readonly #mine = new Map<string, V1Lease | undefined>();
  readonly #shares = new Map<string, number>();
  /** The throttle notes already acted on, by Lease name. */
  readonly #notes = new Map<string, string>();
  #timer: Timer | undefined;
  #seq = 0;
  #stopped = false;
  /** While the first list is read, throttle notes are old news: recorded, not acted on. */
  #syncing = true;
  #started: Promise<void> | undefined;

  constructor(options: ShardSplitOptions) {
    this.#o = options;
    this.#durationMs = options.leaseDurationMs ?? 15_000;
    this.#clock = options.clock ?? systemClock;
    this.#liveness = new LeaseLiveness(this.#durationMs);
    this.#informer = new Informer<V1Lease>({
      listWatch: new KubeListWatch({
        kubeConfig: options.kubeConfig,
        path: leasesPath(options.namespace),
        labelSelector: options.accountLabel,
      }),
      resyncPeriodMs: 0,
      logger: options.logger.child({ component: 'shard-split' }),
    });
    this.#informer.addEventHandler({
      onAdd: (l) => this.#seen(l),
      onUpdate: (_o, l) => this.#seen(l),
      onDelete: (l) => {
        this.#liveness.forget(l.metadata?.name ?? '');
        this.#resplit();
      },
    });
  }

  /** Starts watching the Leases; resolves once the current ones are known. */
  start(): Promise<void> {
    this.#started ??= (async () => {
      this.#informer.start();
      await this.#informer.waitForCacheSync();
      this.#syncing = false;
      this.#tick();
    })();
    return this.#started;
  }

  /** Joins `account`: writes this shard's Lease for it, and takes its share from then on. */
  async join(account: string): Promise<void> {
    if (this.#mine.has(account) || this.#stopped) return;
    this.#mine.set(account, undefined);
    // Until the shards already there are known, the first calls wait (one rate window)…
    if (this.#syncing) {
      this.#o.pause(account, this.#o.windowMs ?? 1000);
      await this.start();
    }
    // …then take the smaller share before the first call, and wait one rate window more
    // whether or not others are seen yet: shards that start together each see none at first
    // (their Leases are written in the same instant), and would each spend the whole rate until
    // the watch brings the others. Within the window every shard sees the others' Leases and
    // takes its share, and shards already running have spent their last burst at the larger one.
    this.#resplit();
    this.#o.pause(account, this.#o.windowMs ?? 1000);
    await this.#renew(account);
  }

  /** Tells the other shards of `account` to pause for `ms` (a 429 with that Retry-After). */
  throttled(account: string, ms: number): void {
    if (!this.#mine.has(account)) return;
    this.#seq += 1;
    void this.#renew(account, `${Math.round(ms)}/${this.#identityTag()}-${this.#seq}`);
  }

  /** Stops renewing and deletes this shard's Leases, so the others take its share at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#informer.stop();
    await Promise.all(
      [...this.#mine.keys()].map((account) =>
        kubeRequest(this.#o.kubeConfig, {
          method: 'DELETE',
          path: `${leasesPath(this.#o.namespace)}/${segment(this.#leaseName(account))}`,
        }).catch(() => {}),
      ),
    );
  }

  /** Live shards of `account` (this one included), as this shard sees them now. */
  liveShards(account: string): number {
    return this.#liveNames(account).length;
  }

  /** The Lease names of the live shards of `account`, this one's included, sorted. */
  #liveNames(account: string): string[] {
    const now = this.#clock.now();
    const mine = this.#leaseName(account);
    const names = this.#mine.has(account) ? [mine] : [];
    for (const l of this.#informer.list()) {
      const name = l.metadata?.name ?? '';
      if (l.metadata?.labels?.[this.#o.accountLabel] !== account || name === mine) continue;
      if (this.#liveness.live(name, now)) names.push(name);
    }
    return names.sort();
  }

  #tick(): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    // Renew every third of a lease duration, so a live shard is never judged dead.
    for (const account of this.#mine.keys()) {
      const lease = this.#mine.get(account);
      const renewed = Date.parse(lease?.spec?.renewTime?.toString() ?? '') || 0;
      if (lease === undefined || now - renewed >= this.#durationMs / 3) void this.#renew(account);
    }
    this.#collectAbandoned(now);
    this.#resplit();
    // Often enough that a dead shard's share is taken back soon after its lease duration.
    this.#timer = this.#clock.setTimer(Math.max(100, this.#durationMs / 10), () => this.#tick());
  }

  #seen(lease: V1Lease): void {
    const name = lease.metadata?.name ?? '';
    const now = this.#clock.now();
    this.#liveness.observe(name, String(lease.spec?.renewTime ?? ''), now);
    const account = lease.metadata?.labels?.[this.#o.accountLabel];
    const note = lease.metadata?.annotations?.[`${this.#o.accountLabel}-${RETRY_AFTER}`];
    if (account !== undefined && note !== undefined && this.#notes.get(name) !== note) {
      this.#notes.set(name, note);
      const ms = Number(note.split('/')[0]);
      const fromPeer = name !== this.#leaseName(account);
      if (!this.#syncing && fromPeer && this.#mine.has(account) && ms > 0) {
        this.#o.logger.info(
          { account, ms, lease: name },
          'paused for the Retry-After another shard was given',
        );
        this.#o.pause(account, ms);
      }
    }
    this.#resplit();
  }

  #resplit(): void {
    for (const account of this.#mine.keys()) {
      const live = this.#liveNames(account);
      const share = shareOf(
        live.length,
        live.indexOf(this.#leaseName(account)),
        this.#o.callsPerWindow?.(account),
      );
      if (this.#shares.get(account) === share) continue;
      this.#shares.set(account, share);
      this.#o.logger.info({ account, share, shards: live.length }, 'account rate split between shards');
      this.#o.onShare(account, share);
    }
  }

  /** Deletes Leases whose shard has been gone for many lease durations (left by a crash). */
  #collectAbandoned(now: number): void {
    for (const l of this.#informer.list()) {
      const name = l.metadata?.name ?? '';
      if (!this.#liveness.abandoned(name, now, 20)) continue;
      this.#liveness.forget(name);
      void kubeRequest(this.#o.kubeConfig, {
        method: 'DELETE',
        path: `${leasesPath(this.#o.namespace)}/${segment(name)}`,
      }).catch(() => {});
    }
  }

  async #renew(account: string, note?: string): Promise<void> {
    const name = this.#leaseName(account);
    const annotations = note === undefined ? {} : { [`${this.#o.accountLabel}-${RETRY_AFTER}`]: note };
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: this.#o.namespace,
        labels: { [this.#o.accountLabel]: account },
        annotations: { ...this.#mine.get(account)?.metadata?.annotations, ...annotations },
      },
      spec: {
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: Math.ceil(this.#durationMs / 1000),
        // A MicroTime: the API server refuses milliseconds.
        renewTime: new Date(this.#clock.now())
          .toISOString()
          .replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date,
      },
    };
    try {
      // A merge patch needs no resourceVersion: our Lease is ours alone.
      const written = await kubeRequest<V1Lease>(this.#o.kubeConfig, {
        method: 'PATCH',
        path: `${leasesPath(this.#o.namespace)}/${segment(name)}`,
        body,
        contentType: 'application/merge-patch+json',
      }).catch(async (err: { code?: number }) => {
        if (err.code !== 404) throw err;
        return kubeRequest<V1Lease>(this.#o.kubeConfig, {
          method: 'POST',
          path: leasesPath(this.#o.namespace),
          body,
        });
      });
      if (!this.#stopped) this.#mine.set(account, written);
    } catch (err) {
      this.#o.logger.warn({ account, err: (err as Error).message }, 'could not renew the budget lease');
    }
  }

  #identityTag(): string {
    return this.#o.identity.replace(/[^a-z0-9-]/g, '-').slice(-20);
  }

  #leaseName(account: string): string {
    return `${this.#o.namePrefix}-${account}-${this.#identityTag()}`.replace(/-+/g, '-');
  }
}
