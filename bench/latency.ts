// Scenario 3, latency: how long from a user's spec change (a JSON merge patch, as `kubectl
// patch` sends) until the provider receives the call that carries it out. Measured from just
// before the patch is sent to the request's arrival at the simulator (same process, same
// monotonic clock), one change at a time over rotating resources, with the call budget free
// (rate limit far above the load) so what is measured is the operator's own path: watch →
// queue → reconcile → budget → HTTP.
import { percentile } from './convergence.ts';
import { counterAtLeast, now, sleep, type World } from './world.ts';

export interface LatencyResult {
  n: number;
  changes: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export async function latency(
  world: World,
  n: number,
  opts: { changes: number; freeRatePerSecond: number },
): Promise<LatencyResult> {
  world.simulator.setRate(opts.freeRatePerSecond);
  const operator = await world.restartOperator({ apiRatePerSecond: opts.freeRatePerSecond });
  await operator.cachesSyncedAt;
  await world.waitUntil(counterAtLeast(operator.reconciles, n), 'a reconcile of every object', 120_000);
  await sleep(1000);

  const servers = world
    .objects()
    .map((o) => ({ name: o.metadata?.name as string, id: o.status?.serverId }))
    .filter((s): s is { name: string; id: number } => s.id !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
  if (servers.length < n) throw new Error(`only ${servers.length} of ${n} VpsServers have a server id`);

  // One waiter at a time: the PATCH of server <id> that the current change must cause.
  let waiting: { path: string; resolve: (at: number) => void } | undefined;
  const stopRecording = world.simulator.recordArrivals((a) => {
    if (waiting !== undefined && a.method === 'PATCH' && a.path === waiting.path) waiting.resolve(a.at);
  });
  const samples: number[] = [];
  try {
    for (let i = 0; i < opts.changes; i++) {
      const server = servers[i % servers.length] as { name: string; id: number };
      const arrived = Promise.withResolvers<number>();
      waiting = { path: `/api/v1/servers/${server.id}/`, resolve: arrived.resolve };
      const timeout = setTimeout(
        () =>
          arrived.reject(new Error(`change ${i} of ${server.name}: no PATCH reached the provider in 10 s`)),
        10_000,
      );
      const sent = now();
      await world.patch(server.name, { spec: { hostname: `c${i}.bench.example` } });
      const at = await arrived.promise.finally(() => clearTimeout(timeout));
      samples.push(at - sent);
      waiting = undefined;
    }
  } finally {
    stopRecording();
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n,
    changes: samples.length,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? 0,
    meanMs: samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length),
  };
}
