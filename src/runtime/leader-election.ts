// Lease-based leader election (coordination.k8s.io/v1), after client-go's leaderelection: one
// replica holds the Lease and renews it; the others poll and take it once it has not been
// renewed for a whole lease duration, measured on their OWN clock from when they last saw the
// record change, so clock skew between replicas cannot hand the lease to two holders. Written
// here because @kubernetes/client-node ships no leader election. Election alone does not fence
// a leader that was paused: guard() (lease-guard.ts) is what every write asks first.
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type Clock, sleep, systemClock } from './clock.ts';
import { kubeRequest, segment } from './kube-request.ts';
import { LeaseLostError, leaseIsFresh, monotonicNow } from './lease-guard.ts';

export interface LeaderElectionOptions {
  /** Name and namespace of the Lease (one per shard). */
  name: string;
  namespace: string;
  /** This replica's identity, unique among replicas (e.g. pod name + random suffix). */
  identity: string;
  /** How long a holder that stopped renewing keeps the lease. @default 15000 */
  leaseDurationMs?: number;
  /** A leader that cannot renew within this long steps down. @default 10000 */
  renewDeadlineMs?: number;
  /** Pause between attempts to acquire or renew. @default 2000 */
  retryPeriodMs?: number;
  logger: Logger;
  clock?: Clock;
  /** The clock lease freshness is measured on. @default performance.now (monotonic) */
  monotonicNow?: () => number;
  /** Clock-rate difference between replicas that guard() tolerates. @default 0.1 */
  maxClockRateSkew?: number;
  /** Taken off the end of the fresh window as well. @default retryPeriodMs */
  freshnessMarginMs?: number;
}

/** What the elector needs of the Lease API (the real CoordinationV1Api in production). */
export interface LeaseApi {
  read(name: string, namespace: string): Promise<V1Lease | undefined>;
  create(lease: V1Lease): Promise<V1Lease>;
  replace(lease: V1Lease): Promise<V1Lease>;
}

export function leaseApi(kc: KubeConfig): LeaseApi {
  const leases = (namespace: string) =>
    `/apis/coordination.k8s.io/v1/namespaces/${segment(namespace)}/leases`;
  const leasePath = (lease: V1Lease) =>
    `${leases(lease.metadata?.namespace ?? '')}/${segment(lease.metadata?.name ?? '')}`;
  return {
    read: async (name, namespace) => {
      try {
        return await kubeRequest<V1Lease>(kc, {
          method: 'GET',
          path: `${leases(namespace)}/${segment(name)}`,
        });
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
    create: (lease) =>
      kubeRequest<V1Lease>(kc, {
        method: 'POST',
        path: leases(lease.metadata?.namespace ?? ''),
        body: lease,
      }),
    replace: (lease) => kubeRequest<V1Lease>(kc, { method: 'PUT', path: leasePath(lease), body: lease }),
  };
}

export class LeaderElector {
  readonly #api: LeaseApi;
  readonly #o: Required<Omit<LeaderElectionOptions, 'clock' | 'monotonicNow'>>;
  readonly #clock: Clock;
  readonly #monotonic: () => number;
  readonly #stop = new AbortController();
  /** Aborted when a guarded write found the lease stale: keepLeading() ends at once. */
  readonly #lost = new AbortController();
  /** Monotonic time the last successful acquire/renew was sent; undefined when not leading. */
  #renewedAt: number | undefined;
  /** The record as last seen, and when (our clock) it last changed. */
  #observed: { holder: string; renewTime: string; at: number } | undefined;
  #lease: V1Lease | undefined;
  #leading = false;

  constructor(api: LeaseApi, options: LeaderElectionOptions) {
    this.#api = api;
    this.#o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      maxClockRateSkew: 0.1,
      ...options,
      freshnessMarginMs: options.freshnessMarginMs ?? options.retryPeriodMs ?? 2_000,
    };
    this.#clock = options.clock ?? systemClock;
    this.#monotonic = options.monotonicNow ?? monotonicNow;
  }

  /** Whether this replica may act as leader now: it holds the lease and renewed it recently enough. */
  holdsFreshLease(): boolean {
    return (
      this.#leading &&
      leaseIsFresh({
        renewedAt: this.#renewedAt,
        now: this.#monotonic(),
        leaseDurationMs: this.#o.leaseDurationMs,
        maxClockRateSkew: this.#o.maxClockRateSkew,
        marginMs: this.#o.freshnessMarginMs,
      })
    );
  }

  /**
   * Asked before every write a leader makes. Throws LeaseLostError when the lease is not fresh,
   * and then this replica has stopped leading for good: keepLeading() resolves 'lost' at once,
   * and every later guard() throws too.
   */
  guard(): void {
    if (this.holdsFreshLease()) return;
    if (this.#leading || !this.#lost.signal.aborted) {
      const last = this.#renewedAt;
      this.#o.logger.error(
        { sinceRenewalMs: last === undefined ? undefined : Math.round(this.#monotonic() - last) },
        'the lease is no longer fresh; refusing to write and stepping down',
      );
    }
    this.#leading = false;
    this.#renewedAt = undefined;
    this.#lost.abort();
    throw new LeaseLostError('this replica no longer holds a fresh lease; nothing was written');
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /**
   * Campaigns until this replica leads (resolves true) or stop() is called (resolves false).
   * Afterwards, call keepLeading() to renew.
   */
  async acquire(): Promise<boolean> {
    const signal = this.#stop.signal;
    let lastHolder = '';
    while (!signal.aborted) {
      try {
        if (await this.#tryAcquireOrRenew()) {
          this.#leading = true;
          this.#o.logger.info({ lease: this.#leaseName() }, 'became leader');
          return true;
        }
        const holder = this.#observed?.holder ?? '';
        if (holder !== lastHolder)
          this.#o.logger.info({ lease: this.#leaseName(), holder }, 'standing by; another replica leads');
        lastHolder = holder;
      } catch (err) {
        this.#o.logger.warn({ err: (err as Error).message }, 'cannot reach the lease');
      }
      await sleep(this.#clock, this.#o.retryPeriodMs, signal).catch(() => {});
    }
    return false;
  }

  /**
   * Renews the lease every retry period. Resolves when leadership is lost (a renewal could not
   * be made within the renew deadline, or another replica took the lease) or stop() is called.
   * Returns 'lost' or 'stopped'.
   */
  async keepLeading(): Promise<'lost' | 'stopped'> {
    const signal = this.#stop.signal;
    const wake = AbortSignal.any([signal, this.#lost.signal]);
    let lastRenew = this.#clock.now();
    while (!signal.aborted) {
      await sleep(this.#clock, this.#o.retryPeriodMs, wake).catch(() => {});
      if (this.#lost.signal.aborted) return 'lost';
      if (signal.aborted) break;
      try {
        if (await this.#tryAcquireOrRenew()) {
          lastRenew = this.#clock.now();
          continue;
        }
        this.#o.logger.error({ holder: this.#observed?.holder }, 'another replica took the lease');
        this.#leading = false;
        this.#renewedAt = undefined;
        return 'lost';
      } catch (err) {
        this.#o.logger.warn({ err: (err as Error).message }, 'lease renewal failed');
      }
      if (this.#clock.now() - lastRenew > this.#o.renewDeadlineMs) {
        this.#o.logger.error('could not renew the lease within the renew deadline; stepping down');
        this.#leading = false;
        this.#renewedAt = undefined;
        return 'lost';
      }
    }
    return 'stopped';
  }

  /** Stops campaigning/renewing; a leader gives the lease up so a standby takes over at once. */
  async release(): Promise<void> {
    this.#stop.abort();
    if (!this.#leading || this.#lease === undefined) return;
    this.#leading = false;
    try {
      const spec = this.#lease.spec ?? {};
      await this.#api.replace({
        ...this.#lease,
        spec: {
          ...spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(this.#clock.now()),
        },
      });
      this.#o.logger.info({ lease: this.#leaseName() }, 'released the lease');
    } catch (err) {
      this.#o.logger.warn(
        { err: (err as Error).message },
        'could not release the lease; it expires by itself',
      );
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#clock.now();
    // Freshness counts from before the request left, never from its answer.
    const sentAt = this.#monotonic();
    const { name, namespace, identity } = this.#o;
    const leaseSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    const current = await this.#api.read(name, namespace);
    if (current === undefined) {
      this.#lease = await this.#api.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: leaseSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      });
      this.#observe(this.#lease, now);
      this.#renewedAt = sentAt;
      return true;
    }
    this.#observe(current, now);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== identity;
    const observedFor = now - (this.#observed?.at ?? now);
    const holderDuration = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
    if (heldByOther && observedFor < holderDuration) return false;

    const taking = holder !== identity;
    this.#lease = await this.#api.replace({
      ...current,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        renewTime: microTime(now),
        ...(taking && { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    });
    this.#observe(this.#lease, now);
    this.#renewedAt = sentAt;
    return true;
  }

  #observe(lease: V1Lease, now: number): void {
    const holder = lease.spec?.holderIdentity ?? '';
    const renewTime = String(lease.spec?.renewTime ?? '');
    if (
      this.#observed === undefined ||
      this.#observed.holder !== holder ||
      this.#observed.renewTime !== renewTime
    ) {
      this.#observed = { holder, renewTime, at: now };
    }
  }

  #leaseName(): string {
    return `${this.#o.namespace}/${this.#o.name}`;
  }
}

/**
 * MicroTime on the wire needs six fractional digits ("…:05.123000Z"); a Date would be sent as
 * toISOString()'s three, which the API server refuses. V1Lease types it as a Date (client-node's
 * serializer converts); these requests send and receive the API server's strings.
 */
const microTime = (ms: number): Date =>
  new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
