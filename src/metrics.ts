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

/** Instruments on one registry, all latency histograms with the same buckets. */
function instruments(registry: Registry) {
  const registers = [registry];
  return {
    counter: <T extends string>(name: string, help: string, labelNames: readonly T[]) =>
      new Counter<T>({ name, help, labelNames, registers }),
    gauge: <T extends string>(name: string, help: string, labelNames: readonly T[]) =>
      new Gauge<T>({ name, help, labelNames, registers }),
    histogram: <T extends string>(name: string, help: string, labelNames: readonly T[]) =>
      new Histogram<T>({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers }),
    /** A gauge set afresh from `read()` at each scrape. */
    collected: <T extends string>(
      name: string,
      help: string,
      labelNames: readonly T[],
      read: () => Iterable<[Partial<Record<T, string>>, number]>,
    ) =>
      new Gauge<T>({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const [labels, n] of read()) this.set(labels, n);
        },
      }),
  };
}
type Instruments = ReturnType<typeof instruments>;

/** client-go's work-queue and controller-runtime's reconcile series. */
function engineHooks(m: Instruments): Pick<OperatorMetrics, 'workQueue' | 'reconcile'> {
  const depth = m.gauge('workqueue_depth', 'Current depth of the work queue', ['name']);
  const adds = m.counter('workqueue_adds_total', 'Keys added to the work queue', ['name']);
  const retries = m.counter(
    'workqueue_retries_total',
    'Retries (rate-limited re-adds) handled by the work queue',
    ['name'],
  );
  const queueDuration = m.histogram(
    'workqueue_queue_duration_seconds',
    'How long a key waits in the queue before a worker takes it',
    ['name'],
  );
  const workDuration = m.histogram('workqueue_work_duration_seconds', 'How long a worker spends on a key', [
    'name',
  ]);
  const reconciles = m.counter('controller_runtime_reconcile_total', 'Reconcile passes by result', [
    'controller',
    'result',
  ]);
  const reconcileTime = m.histogram(
    'controller_runtime_reconcile_time_seconds',
    'Duration of reconcile passes',
    ['controller'],
  );
  return {
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
  };
}

/** The calls to VPS.org: by endpoint and code, and each account's budget. */
function providerHooks(m: Instruments): Pick<OperatorMetrics, 'providerCall' | 'budget'> {
  const calls = m.counter(
    'vps_provider_calls_total',
    'HTTP calls to VPS.org by endpoint and status code (network, timeout or aborted when no answer came)',
    ['endpoint', 'code'],
  );
  const latency = m.histogram('vps_provider_call_duration_seconds', 'Duration of HTTP calls to VPS.org', [
    'endpoint',
  ]);
  const throttled = m.counter(
    'vps_provider_throttled_total',
    '429 answers received from VPS.org, by account (first 12 hex of SHA-256 of its token)',
    ['account'],
  );
  return {
    providerCall: (e, account) => {
      const code =
        e.status !== undefined ? String(e.status) : e.outcome === 'aborted' ? 'aborted' : 'network';
      calls.inc({ endpoint: e.endpoint, code });
      latency.observe({ endpoint: e.endpoint }, e.durationMs / 1000);
      if (e.status === 429) throttled.inc({ account });
    },
    budget: budgetHooks(m),
  };
}

function budgetHooks(m: Instruments): OperatorMetrics['budget'] {
  const wait = m.histogram(
    'vps_provider_budget_wait_seconds',
    "Time a provider call waited for its account's call budget",
    ['account'],
  );
  const waiting = m.gauge(
    'vps_provider_budget_waiting',
    "Provider calls waiting for their account's call budget",
    ['account'],
  );
  const waitingByNamespace = m.gauge(
    'vps_provider_budget_namespace_waiting',
    'Provider calls waiting, by account and namespace (the flows the budget serves in turn)',
    ['account', 'namespace'],
  );
  const calls = m.counter(
    'vps_provider_budget_calls_total',
    'Calls through the budget by account and outcome (ok, error, throttled, aborted)',
    ['account', 'outcome'],
  );
  const rate = m.gauge(
    'vps_provider_budget_rate',
    "Calls per second an account's budget allows now (lowered by 429s and shard splits)",
    ['account'],
  );
  const deferred = m.counter(
    'vps_provider_budget_deferred_total',
    "Reconcile passes that gave their worker back instead of waiting long in the account's call budget (requeued for when it is ready)",
    ['account'],
  );
  return (account) => {
    const shown = new Set<string>();
    return {
      waiting: (n) => waiting.set({ account }, n),
      waited: (s) => wait.observe({ account }, s),
      called: (outcome) => calls.inc({ account, outcome }),
      rate: (perSecond) => rate.set({ account }, Number.isFinite(perSecond) ? perSecond : -1),
      // The wait histogram counts the deferred wait too: a pass held outside the budget is as
      // late as one held inside it, and VpsProviderBudgetWaitHigh must still see it.
      deferred: (seconds) => {
        deferred.inc({ account });
        wait.observe({ account }, seconds);
      },
      flows: (lines) => {
        // A namespace whose line emptied goes back to 0 rather than keeping its last depth.
        for (const namespace of shown)
          if (!lines.has(namespace)) waitingByNamespace.set({ account, namespace }, 0);
        for (const [namespace, n] of lines) {
          shown.add(namespace);
          waitingByNamespace.set({ account, namespace }, n);
        }
      },
    };
  };
}

export function createMetrics(): OperatorMetricSet {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const m = instruments(registry);
  const actions = m.counter(
    'vps_reconcile_actions_total',
    'Actions taken by reconcile passes, by action and result',
    ['action', 'result'],
  );
  const leader = m.gauge(
    'vps_operator_leader',
    '1 while this replica holds the leader lease (or runs without election)',
    [],
  );
  let serversByState: () => Map<string, number> = () => new Map();
  m.collected('vps_servers', 'Servers seen at VPS.org, by state', ['state'], function* () {
    for (const [state, n] of serversByState()) yield [{ state }, n];
  });
  // What the resources say (their conditions), not what VPS.org says (vps_servers): the series the
  // "Stalled for 15 minutes" alert and the dashboard's condition panel need. Reasons are a fixed set
  // (README, "Troubleshooting by condition reason"), so the label stays bounded.
  let conditionsSource: () => Iterable<unknown> = () => [];
  m.collected(
    'vps_resource_conditions',
    'VpsServers in the watched namespaces by condition type, status and reason',
    ['type', 'status', 'reason'],
    function* () {
      for (const [key, n] of countConditions(conditionsSource())) {
        const [type, status, reason] = key.split('\0') as [string, string, string];
        yield [{ type, status, reason }, n];
      }
    },
  );
  // Servers that look like lost duplicate creates (status.leakedServerIds): billed, owned by no
  // one. From the caches, so every replica reports it; the VpsLeakedServers alert fires on it.
  let leakSource: () => Iterable<unknown> = () => [];
  m.collected(
    'vps_leaked_servers',
    'Servers at VPS.org with a VpsServer name and shape that no VpsServer owns, by namespace of the resource reporting them',
    ['namespace'],
    () => countLeaks(leakSource()),
  );
  return {
    registry,
    ...engineHooks(m),
    ...providerHooks(m),
    action: (action, ok) => actions.inc({ action, result: ok ? 'ok' : 'error' }),
    setLeader: (leading) => leader.set(leading ? 1 : 0),
    setServersByStateSource: (source) => {
      serversByState = source;
    },
    setResourceConditionsSource: (source) => {
      conditionsSource = source;
    },
    setLeakedServersSource: (source) => {
      leakSource = source;
    },
  };
}

/** Leaked server ids per namespace, each id once, from unvalidated VpsServers as the cache holds them. */
export function countLeaks(resources: Iterable<unknown>): [{ namespace: string }, number][] {
  const byNamespace = new Map<string, Set<unknown>>();
  for (const o of resources as Iterable<{
    metadata?: { namespace?: unknown };
    status?: { leakedServerIds?: unknown };
  }>) {
    const ids = o?.status?.leakedServerIds;
    const namespace = o?.metadata?.namespace;
    if (!Array.isArray(ids) || ids.length === 0 || typeof namespace !== 'string') continue;
    const seen = byNamespace.get(namespace) ?? new Set();
    for (const id of ids) if (typeof id === 'number') seen.add(id);
    byNamespace.set(namespace, seen);
  }
  return [...byNamespace].map(([namespace, ids]) => [{ namespace }, ids.size]);
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
