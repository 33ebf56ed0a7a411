// What the engine reports about itself, as small interfaces the metrics module implements
// later (prom-client), so src/runtime never imports a metrics library. The names in the TSDoc
// are the client-go / controller-runtime series each hook is meant to feed.

/** One work queue's instruments; the implementation binds the queue's name as a label. */
export interface WorkQueueMetrics {
  /** Keys waiting to be handed out now. → workqueue_depth */
  depth(n: number): void;
  /** A key became due (deduplicated adds do not count). → workqueue_adds_total */
  added(): void;
  /** A key was scheduled for a retry after a failure. → workqueue_retries_total */
  retried(): void;
  /** Time from a key becoming due to a worker taking it. → workqueue_queue_duration_seconds */
  queued(seconds: number): void;
  /** Time a worker spent on a key. → workqueue_work_duration_seconds */
  worked(seconds: number): void;
}

/** How one reconcile pass ended, with controller-runtime's label values. */
export type ReconcileOutcome = 'success' | 'requeue_after' | 'error';

/** One controller's instruments; the implementation binds the controller name as a label. */
export interface ReconcileMetrics {
  /**
   * A pass finished. → controller_runtime_reconcile_total{result} and
   * controller_runtime_reconcile_time_seconds
   */
  reconciled(outcome: ReconcileOutcome, seconds: number): void;
}

/** How a call through the provider budget ended. */
export type CallOutcome = 'ok' | 'error' | 'throttled' | 'aborted';

/** The provider call budget's instruments. */
export interface CallBudgetMetrics {
  /** Calls waiting for their turn. */
  waiting(n: number): void;
  /** Time a call waited before it started. */
  waited(seconds: number): void;
  /** A call finished (or was abandoned while waiting: `aborted`). */
  called(outcome: CallOutcome, seconds: number): void;
  /** The calls per second the budget allows now (it moves with throttles and shard splits). */
  rate?(perSecond: number): void;
  /** Calls waiting, by flow (namespace); a flow that is not listed has none. */
  flows?(waiting: ReadonlyMap<string, number>): void;
  /**
   * A caller did not queue its call because the wait was long (longWait), and comes back after
   * `seconds`: the change it carries is that late all the same.
   */
  deferred?(seconds: number): void;
}

export const noWorkQueueMetrics: WorkQueueMetrics = {
  depth() {},
  added() {},
  retried() {},
  queued() {},
  worked() {},
};

export const noReconcileMetrics: ReconcileMetrics = { reconciled() {} };

export const noCallBudgetMetrics: CallBudgetMetrics = { waiting() {}, waited() {}, called() {} };
