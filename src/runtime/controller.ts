// N workers that take keys from a WorkQueue and run a Reconciler on each, mapping the result
// to the queue the way controller-runtime's reconcileHandler does: done → forget, requeueAfter →
// forget + addAfter, thrown → log with the key + addRateLimited; and deferred (the pass gave its
// worker back untried) → addAfter with the backoff kept. A failing reconcile never escapes a
// worker, so one bad object cannot crash the process or stall other keys.

import type { Logger } from 'pino';
import type { Source } from './channel-source.ts';
import { type Clock, sleep, systemClock } from './clock.ts';
import {
  noReconcileMetrics,
  type ReconcileMetrics,
  type ReconcileOutcome,
  type WorkQueueMetrics,
} from './metrics-hooks.ts';
import type { RateLimiter } from './rate-limiters.ts';
import { type Reconciler, StaleViewError } from './reconciler.ts';
import { WorkQueue } from './work-queue.ts';

export interface ControllerOptions {
  /** Names the controller in logs and metrics. */
  name: string;
  reconciler: Reconciler;
  logger: Logger;
  /** Keys reconciled at the same time (never the same key twice). @default 1 */
  workers?: number;
  /** Retry policy for failed keys. @default defaultControllerRateLimiter() */
  rateLimiter?: RateLimiter;
  /** @default no metrics */
  metrics?: { queue?: WorkQueueMetrics; reconcile?: ReconcileMetrics };
  /** @default systemClock */
  clock?: Clock;
  /** Due keys of different flows (e.g. namespaces) take turns; see WorkQueueOptions.flowOf. @default FIFO */
  flowOf?: (key: string) => string;
}

export class Controller {
  readonly name: string;
  /** Feed it keys (informer handlers, other controllers); the workers drain it. */
  readonly queue: WorkQueue;
  readonly #reconciler: Reconciler;
  readonly #log: Logger;
  readonly #workerCount: number;
  readonly #metrics: ReconcileMetrics;
  readonly #clock: Clock;
  /** Aborted when the grace period of stop() runs out; every reconcile gets its signal. */
  readonly #abort = new AbortController();
  readonly #inFlight = new Set<string>();
  #workers: Promise<void>[] | undefined;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#reconciler = options.reconciler;
    this.#log = options.logger.child({ controller: options.name });
    this.#workerCount = Math.max(1, options.workers ?? 1);
    this.#metrics = options.metrics?.reconcile ?? noReconcileMetrics;
    this.#clock = options.clock ?? systemClock;
    this.queue = new WorkQueue({
      clock: this.#clock,
      ...(options.rateLimiter === undefined ? {} : { rateLimiter: options.rateLimiter }),
      ...(options.metrics?.queue === undefined ? {} : { metrics: options.metrics.queue }),
      ...(options.flowOf === undefined ? {} : { flowOf: options.flowOf }),
    });
  }

  /** Enqueues the keys `source` produces (changes from outside Kubernetes, see channel-source.ts). */
  watch(source: Source): this {
    source.bind((key) => this.queue.add(key));
    return this;
  }

  /** Starts the workers; calling it again does nothing. */
  start(): void {
    if (this.#workers !== undefined) return;
    this.#log.info({ workers: this.#workerCount }, 'starting workers');
    this.#workers = Array.from({ length: this.#workerCount }, () => this.#work());
  }

  /**
   * Stops taking keys and waits up to `graceMs` for in-flight reconciles to finish; then aborts
   * their signal and waits `abortWaitMs` more for them to notice. Resolves in all cases, so a
   * reconcile that ignores its signal cannot hold the process hostage.
   */
  async stop(graceMs = 30_000, abortWaitMs = 1_000): Promise<void> {
    this.queue.shutDown();
    if (!(await this.#drainedWithin(graceMs))) {
      this.#log.warn({ keys: [...this.#inFlight] }, 'grace period over; aborting in-flight reconciles');
      this.#abort.abort(new Error(`controller ${this.name} is stopping`));
      if (!(await this.#drainedWithin(abortWaitMs))) {
        this.#log.error({ keys: [...this.#inFlight] }, 'reconciles ignored the abort; leaving them behind');
        return;
      }
    }
    await Promise.all(this.#workers ?? []);
    this.#log.info('stopped');
  }

  async #drainedWithin(ms: number): Promise<boolean> {
    const timeout = new AbortController();
    const drained = this.queue.drain().then(() => true);
    const expired = sleep(this.#clock, ms, timeout.signal).then(
      () => false,
      () => true,
    );
    const result = await Promise.race([drained, expired]);
    timeout.abort();
    return result;
  }

  async #work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      await this.#reconcileOne(key);
    }
  }

  async #reconcileOne(key: string): Promise<void> {
    const startedAt = this.#clock.now();
    let outcome: ReconcileOutcome = 'success';
    this.#inFlight.add(key);
    try {
      const result = await this.#reconciler.reconcile(key, this.#abort.signal);
      // Success of any kind resets the key's backoff: the next failure starts again from base.
      // A deferred pass did not try, so it leaves the backoff alone.
      if (result.kind !== 'deferred') this.queue.forget(key);
      if (result.kind !== 'done') {
        outcome = 'requeue_after';
        this.queue.addAfter(key, result.ms);
      }
    } catch (err) {
      outcome = 'error';
      this.#reportFailure(key, err);
      this.queue.addRateLimited(key);
    } finally {
      this.#inFlight.delete(key);
      this.#metrics.reconciled(outcome, (this.#clock.now() - startedAt) / 1000);
      this.queue.done(key);
    }
  }

  #reportFailure(key: string, err: unknown): void {
    if (this.#abort.signal.aborted) {
      this.#log.info({ key, err }, 'reconcile ended by shutdown');
      return;
    }
    if (err instanceof StaleViewError) {
      this.#log.debug({ key, reason: err.message }, 'reconcile based on a stale view; retrying');
      return;
    }
    // numRequeues counts earlier failures; this one is the next attempt's reason.
    this.#log.error({ key, err, failures: this.queue.numRequeues(key) + 1 }, 'reconcile failed; backing off');
  }
}
