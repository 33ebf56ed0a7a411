// Starts and stops the engine's parts in the order controller-runtime's manager does: informers
// and the runnables that need no leadership first, then (once every cache is filled, and once
// this replica leads) the controllers; on stop, controllers first (in-flight reconciles get a
// grace period, then their signal aborts), then the watches, then the rest, and the lease last
// so a standby takes over only once this replica has stopped writing. src/operator.ts
// composes one for the operator; leader election plugs in as a LeaderElection.

import type { Logger } from 'pino';
import { type Clock, sleep, systemClock } from './clock.ts';

/** What the manager needs of an informer. */
export interface CacheSource {
  start(): void;
  stop(): Promise<void>;
  waitForCacheSync(signal?: AbortSignal): Promise<boolean>;
}

/** What the manager needs of a controller (or any other part it starts and stops). */
export interface Startable {
  readonly name: string;
  start(): void;
  /** Stop taking work; let in-flight work finish within `graceMs`, then abort it. */
  stop(graceMs: number): Promise<void>;
}

/** What the manager needs of a leader elector (src/runtime/leader-election.ts). */
export interface LeaderElection {
  /** Campaigns until leading (true) or released (false). */
  acquire(): Promise<boolean>;
  /** Renews until leadership is lost or the elector is released. */
  keepLeading(): Promise<'lost' | 'stopped'>;
  /** Stops campaigning; a leader gives the lease up. */
  release(): Promise<void>;
}

/** Says why the process is not ready, or undefined when this check passes. */
export type ReadyCheck = () => string | undefined;

export interface ManagerOptions {
  logger: Logger;
  /** Time in-flight reconciles get to finish on stop before their signal aborts. @default 30000 */
  gracefulShutdownMs?: number;
  /** How long start() waits for every informer's first list. @default 120000 */
  cacheSyncTimeoutMs?: number;
  /**
   * Controllers start only once this replica leads, so a standby keeps warm caches but
   * reconciles nothing. @default none (this replica always leads)
   */
  leaderElection?: LeaderElection;
  /** For tests: controllers start once this resolves (ignored when leaderElection is set). */
  leaderElected?: Promise<void>;
  /** Told when this replica starts or stops leading (a metric). */
  onLeadingChange?: (leading: boolean) => void;
  /** @default systemClock */
  clock?: Clock;
}

export class Manager {
  readonly #log: Logger;
  readonly #gracefulShutdownMs: number;
  readonly #cacheSyncTimeoutMs: number;
  readonly #election: LeaderElection | undefined;
  readonly #leaderElected: Promise<void>;
  readonly #onLeadingChange: (leading: boolean) => void;
  readonly #clock: Clock;
  readonly #informers: CacheSource[] = [];
  readonly #leaderRunnables: Startable[] = [];
  readonly #runnables: Startable[] = [];
  readonly #readyChecks: ReadyCheck[] = [];
  readonly #stopping = new AbortController();
  readonly #synced = Promise.withResolvers<void>();
  readonly #lost = Promise.withResolvers<void>();
  #isSynced = false;
  #stopped: Promise<void> | undefined;
  #controllersStarted = false;

  constructor(options: ManagerOptions) {
    this.#log = options.logger;
    this.#gracefulShutdownMs = options.gracefulShutdownMs ?? 30_000;
    this.#cacheSyncTimeoutMs = options.cacheSyncTimeoutMs ?? 120_000;
    this.#election = options.leaderElection;
    this.#leaderElected = options.leaderElected ?? Promise.resolve();
    this.#onLeadingChange = options.onLeadingChange ?? (() => {});
    this.#clock = options.clock ?? systemClock;
    this.#synced.promise.catch(() => {});
  }

  addInformer(informer: CacheSource): this {
    this.#informers.push(informer);
    return this;
  }

  /** A part that runs only while this replica leads (a controller). */
  addController(controller: Startable): this {
    this.#leaderRunnables.push(controller);
    return this;
  }

  /**
   * A part that runs on every replica, leading or not (controller-runtime's runnable with
   * NeedLeaderElection false): started with the informers, stopped after them.
   */
  addRunnable(runnable: Startable): this {
    this.#runnables.push(runnable);
    return this;
  }

  /** A readiness condition beyond "caches synced" (controller-runtime's AddReadyzCheck). */
  addReadyCheck(check: ReadyCheck): this {
    this.#readyChecks.push(check);
    return this;
  }

  /** Whether the controllers are running (caches synced and leadership held). */
  get controllersStarted(): boolean {
    return this.#controllersStarted;
  }

  /** Resolves once every informer has synced (rejects if start() gave up on them). */
  cachesSynced(): Promise<void> {
    return this.#synced.promise;
  }

  /** Resolves when this replica loses its lease; the process should exit and restart as a standby. */
  get leadershipLost(): Promise<void> {
    return this.#lost.promise;
  }

  /** For /readyz: caches synced, then every ready check. */
  ready(): { ready: boolean; reason?: string } {
    if (!this.#isSynced) return { ready: false, reason: 'caches not synced' };
    for (const check of this.#readyChecks) {
      const reason = check();
      if (reason !== undefined) return { ready: false, reason };
    }
    return { ready: true };
  }

  /**
   * Starts informers, waits for their caches, waits for leadership, starts controllers.
   * Resolves once the controllers run, or early if stop() is called meanwhile. Rejects if the
   * caches do not fill within cacheSyncTimeoutMs (the caller should stop() and exit non-zero).
   */
  async start(): Promise<void> {
    const stopping = this.#stopping.signal;
    if (stopping.aborted) return;
    for (const informer of this.#informers) informer.start();
    for (const runnable of this.#runnables) runnable.start();
    try {
      await this.#waitForCaches(stopping);
    } catch (err) {
      this.#synced.reject(err);
      throw err;
    }
    if (stopping.aborted) return;
    this.#isSynced = true;
    this.#synced.resolve();
    this.#log.info({ informers: this.#informers.length }, 'caches synced');
    if (this.#election !== undefined) this.#log.info('waiting for leadership');
    if (!(await this.#becomeLeader(stopping))) return;
    this.#controllersStarted = true;
    this.#onLeadingChange(true);
    for (const controller of this.#leaderRunnables) controller.start();
    this.#log.info({ controllers: this.#leaderRunnables.map((c) => c.name) }, 'controllers started');
    if (this.#election !== undefined) void this.#watchLease(this.#election);
  }

  /** Stops controllers (with the grace period), informers, the rest, then the lease. Idempotent; never rejects. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#log.info({ gracefulShutdownMs: this.#gracefulShutdownMs }, 'stopping');
    this.#stopping.abort();
    await Promise.allSettled(this.#leaderRunnables.map((c) => c.stop(this.#gracefulShutdownMs)));
    await Promise.allSettled(this.#informers.map((i) => i.stop()));
    await Promise.allSettled(this.#runnables.map((r) => r.stop(this.#gracefulShutdownMs)));
    await this.#election?.release().catch(() => {});
    this.#log.info('stopped');
  }

  async #becomeLeader(stopping: AbortSignal): Promise<boolean> {
    const stopped = new Promise<false>((resolve) => stopping.addEventListener('abort', () => resolve(false)));
    const elected =
      this.#election !== undefined ? this.#election.acquire() : this.#leaderElected.then(() => true);
    return (await Promise.race([elected, stopped])) && !stopping.aborted;
  }

  async #watchLease(election: LeaderElection): Promise<void> {
    if ((await election.keepLeading()) !== 'lost') return;
    this.#onLeadingChange(false);
    this.#lost.resolve();
  }

  async #waitForCaches(stopping: AbortSignal): Promise<void> {
    const deadline = new AbortController();
    const expired = sleep(this.#clock, this.#cacheSyncTimeoutMs, deadline.signal).then(
      () => deadline.abort(),
      () => {},
    );
    const giveUp = AbortSignal.any([stopping, deadline.signal]);
    const synced = await Promise.all(this.#informers.map((i) => i.waitForCacheSync(giveUp)));
    const timedOut = deadline.signal.aborted;
    deadline.abort();
    await expired;
    if (!synced.every(Boolean) && timedOut && !stopping.aborted) {
      throw new Error(`caches did not sync within ${this.#cacheSyncTimeoutMs} ms`);
    }
  }
}
