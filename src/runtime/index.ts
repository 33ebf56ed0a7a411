// The controller engine's public surface: code outside src/runtime (the wiring in
// src/operator.ts, the domain, the Kubernetes adapters, the CLI) imports from here only, so
// everything else in src/runtime is an implementation detail of these. Unit tests of a
// runtime module import that module directly.

export {
  type AdaptiveRate,
  CallBudget,
  type CallBudgetOptions,
  type CallOptions,
  callPriority,
} from './call-budget.ts';
export { CallBudgets, type CallBudgetsOptions } from './call-budgets.ts';
export { currentCallFlow, withCallFlow } from './call-flow.ts';
export { ChannelSource, type Source } from './channel-source.ts';
export { type Clock, ManualClock, sleep, systemClock, type Timer } from './clock.ts';
export { Controller, type ControllerOptions } from './controller.ts';
export {
  type EventHandler,
  enqueueKeys,
  Informer,
  type InformerOptions,
  type InformerStats,
  stripManagedFields,
} from './informer.ts';
export { KubeListWatch, type KubeListWatchOptions } from './kube-list-watch.ts';
export { kubeRequest, segment } from './kube-request.ts';
export { type LeaderElectionOptions, LeaderElector, type LeaseApi, leaseApi } from './leader-election.ts';
export {
  type ApiStatus,
  isExpired,
  KubeStatusError,
  type ListWatchClient,
  type ObjectList,
  objectKey,
  type WatchEvent,
} from './list-watch.ts';
export {
  type CacheSource,
  type LeaderElection,
  Manager,
  type ManagerOptions,
  type ReadyCheck,
  type Startable,
} from './manager.ts';
export type {
  CallBudgetMetrics,
  CallOutcome,
  ReconcileMetrics,
  ReconcileOutcome,
  WorkQueueMetrics,
} from './metrics-hooks.ts';
export {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  type ExponentialBackoffOptions,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
} from './rate-limiters.ts';
export { deferred, done, type Reconciler, type Result, requeueAfter, StaleViewError } from './reconciler.ts';
export { LeaseLiveness, ShardSplit, type ShardSplitOptions, shareOf } from './shard-split.ts';
export { type RunOptions, runUntilSignalled, type SignalSource } from './signals.ts';
export { WorkQueue, type WorkQueueOptions } from './work-queue.ts';
