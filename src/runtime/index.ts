// The controller engine's public surface, in one import for main.ts and the domain
// controllers: everything else in src/runtime is an implementation detail of these.

export { CallBudget, type CallBudgetOptions, type CallOptions, callPriority } from './call-budget.ts';
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
export {
  type ApiStatus,
  isExpired,
  KubeStatusError,
  type ListWatchClient,
  type ObjectList,
  objectKey,
  type WatchEvent,
} from './list-watch.ts';
export { type CacheSource, Manager, type ManagerOptions, type Startable } from './manager.ts';
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
export { done, type Reconciler, type Result, requeueAfter } from './reconciler.ts';
export { type RunOptions, runUntilSignalled, type SignalSource } from './signals.ts';
export { WorkQueue, type WorkQueueOptions } from './work-queue.ts';
