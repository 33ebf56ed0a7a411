// Starts and stops the engine's parts in the order controller-runtime's manager does: informers
// first, then (once every cache is filled, and once this replica leads) the controllers; on
// stop, controllers first (in-flight reconciles get a grace period, then their signal aborts),
// then the watches. main.ts composes one; leader election plugs in as a promise.

import type { Logger } from 'pino';
import { type Clock, sleep, systemClock } from './clock.ts';

/** What the manager needs of an informer. */
export interface CacheSource {
  start(): void;
  stop(): Promise<void>;
  waitForCacheSync(signal?: AbortSignal): Promise<boolean>;
}

/** What the manager needs of a controller. */
export interface Startable {
  readonly name: string;
  start(): void;
  /** Stop taking work; let in-flight work finish within `graceMs`, then abort it. */
  stop(graceMs: number): Promise<void>;
}

export interface ManagerOptions {
  logger: Logger;
  /** Time in-flight reconciles get to finish on stop before their signal aborts. @default 30000 */
  gracefulShutdownMs?: number;
  /** How long start() waits for every informer's first list. @default 120000 */
  cacheSyncTimeoutMs?: number;
  /**
   * Controllers start only once this resolves: the seam for leader election, so a standby
   * replica keeps warm caches but reconciles nothing. @default resolved (no election)
   */
  leaderElected?: Promise<void>;
  /** @default systemClock */
  clock?: Clock;
}

export class Manager {
  readonly #log: Logger;
  readonly #gracefulShutdownMs: number;
  readonly #cacheSyncTimeoutMs: number;
  readonly #leaderElected: Promise<void>;
  readonly #clock: Clock;
  readonly #informers: CacheSource[] = [];
  readonly #controllers: Startable[] = [];
  readonly #stopping = new AbortController();
  #stopped: Promise<void> | undefined;
  #controllersStarted = false;

  constructor(options: ManagerOptions) {
    this.#log = options.logger;
    this.#gracefulShutdownMs = options.gracefulShutdownMs ?? 30_000;
    this.#cacheSyncTimeoutMs = options.cacheSyncTimeoutMs ?? 120_000;
    this.#leaderElected = options.leaderElected ?? Promise.resolve();
    this.#clock = options.clock ?? systemClock;
  }

  addInformer(informer: CacheSource): this {
    this.#informers.push(informer);
    return this;
  }

  addController(controller: Startable): this {
    this.#controllers.push(controller);
    return this;
  }

  /** Whether the controllers are running (caches synced and leadership held). */
  get controllersStarted(): boolean {
    return this.#controllersStarted;
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
    await this.#waitForCaches(stopping);
    if (stopping.aborted) return;
    this.#log.info('caches synced; waiting for leadership');
    const stopped = new Promise<void>((resolve) => stopping.addEventListener('abort', () => resolve()));
    await Promise.race([this.#leaderElected, stopped]);
    if (stopping.aborted) return;
    this.#controllersStarted = true;
    for (const controller of this.#controllers) controller.start();
    this.#log.info({ controllers: this.#controllers.map((c) => c.name) }, 'controllers started');
  }

  /** Stops controllers (with the grace period), then informers. Idempotent; never rejects. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#log.info({ gracefulShutdownMs: this.#gracefulShutdownMs }, 'stopping');
    this.#stopping.abort();
    await Promise.allSettled(this.#controllers.map((c) => c.stop(this.#gracefulShutdownMs)));
    await Promise.allSettled(this.#informers.map((i) => i.stop()));
    this.#log.info('stopped');
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
