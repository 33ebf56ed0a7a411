// The operator's Prometheus metrics (prom-client, on a registry of its own): the engine's hook
// interfaces implemented with client-go's and controller-runtime's series names, so existing
// dashboards work, plus the provider-facing series this operator adds. docs/metrics.md lists them.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { OperatorMetrics } from './operator.ts';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The operator's instruments plus the registry that /metrics serves. */
export interface OperatorMetricSet extends OperatorMetrics {
  registry: Registry;
}

export function createMetrics(): OperatorMetricSet {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const r = [registry];

  const depth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of the work queue',
    labelNames: ['name'],
    registers: r,
  });
  const adds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Keys added to the work queue',
    labelNames: ['name'],
    registers: r,
  });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Retries (rate-limited re-adds) handled by the work queue',
    labelNames: ['name'],
    registers: r,
  });
  const queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long a key waits in the queue before a worker takes it',
    labelNames: ['name'],
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long a worker spends on a key',
    labelNames: ['name'],
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const reconciles = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Reconcile passes by result',
    labelNames: ['controller', 'result'],
    registers: r,
  });
  const reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Duration of reconcile passes',
    labelNames: ['controller'],
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const providerCalls = new Counter({
    name: 'vps_provider_calls_total',
    help: 'HTTP calls to VPS.org by endpoint and status code (network, timeout or aborted when no answer came)',
    labelNames: ['endpoint', 'code'],
    registers: r,
  });
  const providerLatency = new Histogram({
    name: 'vps_provider_call_duration_seconds',
    help: 'Duration of HTTP calls to VPS.org',
    labelNames: ['endpoint'],
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const throttled = new Counter({
    name: 'vps_provider_throttled_total',
    help: '429 answers received from VPS.org, by account (first 12 hex of SHA-256 of its token)',
    labelNames: ['account'],
    registers: r,
  });
  const budgetWait = new Histogram({
    name: 'vps_provider_budget_wait_seconds',
    help: "Time a provider call waited for its account's call budget",
    labelNames: ['account'],
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const budgetWaiting = new Gauge({
    name: 'vps_provider_budget_waiting',
    help: "Provider calls waiting for their account's call budget",
    labelNames: ['account'],
    registers: r,
  });
  const budgetWaitingByNamespace = new Gauge({
    name: 'vps_provider_budget_namespace_waiting',
    help: 'Provider calls waiting, by account and namespace (the flows the budget serves in turn)',
    labelNames: ['account', 'namespace'],
    registers: r,
  });
  const budgetCalls = new Counter({
    name: 'vps_provider_budget_calls_total',
    help: 'Calls through the budget by account and outcome (ok, error, throttled, aborted)',
    labelNames: ['account', 'outcome'],
    registers: r,
  });
  const budgetRate = new Gauge({
    name: 'vps_provider_budget_rate',
    help: "Calls per second an account's budget allows now (lowered by 429s and shard splits)",
    labelNames: ['account'],
    registers: r,
  });
  const actions = new Counter({
    name: 'vps_reconcile_actions_total',
    help: 'Actions taken by reconcile passes, by action and result',
    labelNames: ['action', 'result'],
    registers: r,
  });
  const leader = new Gauge({
    name: 'vps_operator_leader',
    help: '1 while this replica holds the leader lease (or runs without election)',
    registers: r,
  });
  let serversByState: () => Map<string, number> = () => new Map();
  new Gauge({
    name: 'vps_servers',
    help: 'Servers seen at VPS.org, by state',
    labelNames: ['state'],
    registers: r,
    collect() {
      this.reset();
      for (const [state, n] of serversByState()) this.set({ state }, n);
    },
  });

  // What the resources say (their conditions), not what VPS.org says (vps_servers): the series the
  // "Stalled for 15 minutes" alert and the dashboard's condition panel need. Reasons are a fixed set
  // (README, "Troubleshooting by condition reason"), so the label stays bounded.
  let conditionsSource: () => Iterable<unknown> = () => [];
  new Gauge({
    name: 'vps_resource_conditions',
    help: 'VpsServers in the watched namespaces by condition type, status and reason',
    labelNames: ['type', 'status', 'reason'],
    registers: r,
    collect() {
      this.reset();
      for (const [key, n] of countConditions(conditionsSource())) {
        const [type, status, reason] = key.split('\0') as [string, string, string];
        this.set({ type, status, reason }, n);
      }
    },
  });

  return {
    registry,
    workQueue: (name) => ({
      depth: (n) => depth.set({ name }, n),
      added: () => adds.inc({ name }),
      retried: () => retries.inc({ name }),
      queued: (s) => queueDuration.observe({ name }, s),
      worked: (s) => workDuration.observe({ name }, s),
    }),
    reconcile: (controller) => ({
      reconciled: (result, seconds) => {
        reconciles.inc({ controller, result });
        reconcileTime.observe({ controller }, seconds);
      },
    }),
    budget: (account) => {
      const shown = new Set<string>();
      return {
        waiting: (n) => budgetWaiting.set({ account }, n),
        waited: (s) => budgetWait.observe({ account }, s),
        called: (outcome) => budgetCalls.inc({ account, outcome }),
        rate: (perSecond) => budgetRate.set({ account }, Number.isFinite(perSecond) ? perSecond : -1),
        flows: (waiting) => {
          // A namespace whose line emptied goes back to 0 rather than keeping its last depth.
          for (const namespace of shown)
            if (!waiting.has(namespace)) budgetWaitingByNamespace.set({ account, namespace }, 0);
          for (const [namespace, n] of waiting) {
            shown.add(namespace);
            budgetWaitingByNamespace.set({ account, namespace }, n);
          }
        },
      };
    },
    providerCall: (e, account) => {
      const code =
        e.status !== undefined ? String(e.status) : e.outcome === 'aborted' ? 'aborted' : 'network';
      providerCalls.inc({ endpoint: e.endpoint, code });
      providerLatency.observe({ endpoint: e.endpoint }, e.durationMs / 1000);
      if (e.status === 429) throttled.inc({ account });
    },
    action: (action, ok) => actions.inc({ action, result: ok ? 'ok' : 'error' }),
    setLeader: (leading) => leader.set(leading ? 1 : 0),
    setServersByStateSource: (source) => {
      serversByState = source;
    },
    setResourceConditionsSource: (source) => {
      conditionsSource = source;
    },
  };
}

/**
 * Resources per (type, status, reason), keyed by the three joined with NUL. Each item is one
 * resource's status.conditions as the cache holds it: unvalidated, so anything that is not a list
 * of conditions with string fields is skipped rather than trusted.
 */
export function countConditions(resources: Iterable<unknown>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const conditions of resources) {
    if (!Array.isArray(conditions)) continue;
    for (const c of conditions as { type?: unknown; status?: unknown; reason?: unknown }[]) {
      if (typeof c?.type !== 'string' || typeof c.status !== 'string' || typeof c.reason !== 'string')
        continue;
      const key = `${c.type}\0${c.status}\0${c.reason}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}
