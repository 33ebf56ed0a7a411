// Scenario 1, convergence: N VpsServers applied at once, timed to all-Ready, and deleted at
// once, timed to all-gone, each against the provider's physical lower bound at its rate limit
// R: every create (or delete) one call at R, plus the provisioning time of the last server,
// plus the list calls that must see it. Also what the provider saw: calls by endpoint, 429s
// and Retry-After violations. The operator runs with its defaults and --api-rate = R.
import type { SimulatorStats } from '../src/simulator/stats.ts';
import { now, type World } from './world.ts';

export interface PhaseResult {
  n: number;
  /** ms from the first request to the API server until every object was Ready (or gone) */
  totalMs: number;
  /** ms until every object had been accepted by the API server */
  appliedMs: number;
  /** ms until the last create (or delete) call reached the provider */
  lastWriteMs: number;
  lowerBoundMs: number;
  ratio: number;
  /** per-object time to Ready (or gone), ms */
  p50Ms: number;
  calls: SimulatorStats['calls'];
  throttled: number;
  retryAfterViolations: number;
}

export interface ConvergenceSettings {
  ratePerSecond: number;
  pageSize: number;
  /** wall ms from create to active at the simulator's time scale */
  provisioningWallMs: number;
  timeoutMs?: number;
}

const pages = (n: number, pageSize: number) => Math.max(1, Math.ceil(n / pageSize));

/** Lower bound of applying n: n creates at R, the last one's provisioning, one full list at R. */
export function createLowerBoundMs(n: number, s: ConvergenceSettings): number {
  return ((n + pages(n, s.pageSize)) / s.ratePerSecond) * 1000 + s.provisioningWallMs;
}

/** Lower bound of deleting n: n deletes at R, then one list (of what is left: one page) that lacks them. */
export function deleteLowerBoundMs(n: number, s: ConvergenceSettings): number {
  return ((n + 1) / s.ratePerSecond) * 1000;
}

/** Applies n VpsServers at once (the operator must be running with --api-rate R) and waits for all Ready. */
export async function convergeCreate(world: World, n: number, s: ConvergenceSettings): Promise<PhaseResult> {
  const lowerBoundMs = createLowerBoundMs(n, s);
  world.simulator.resetStats();
  let lastWrite = 0;
  const stopRecording = world.simulator.recordArrivals((a) => {
    if (a.endpoint === 'create') lastWrite = a.at;
  });
  try {
    const t0 = now();
    const names = await world.createMany(0, n);
    const appliedMs = now() - t0;
    await world.waitUntil(
      () => names.every((name) => world.readyAt.has(name)),
      `${n} VpsServers Ready`,
      s.timeoutMs ?? lowerBoundMs * 3 + 60_000,
      () => `${world.readyCount()} Ready; provider calls ${JSON.stringify(world.simulator.stats().calls)}`,
    );
    const times = names.map((name) => (world.readyAt.get(name) as number) - t0);
    return phaseResult(n, times, appliedMs, lastWrite - t0, lowerBoundMs, world.simulator.stats());
  } finally {
    stopRecording();
  }
}

/** Deletes every VpsServer at once (operator running with --api-rate R) and waits until all are gone. */
export async function convergeDelete(world: World, n: number, s: ConvergenceSettings): Promise<PhaseResult> {
  const lowerBoundMs = deleteLowerBoundMs(n, s);
  const names = world.objects().map((o) => o.metadata?.name as string);
  world.simulator.resetStats();
  let lastWrite = 0;
  const stopRecording = world.simulator.recordArrivals((a) => {
    if (a.endpoint === 'delete') lastWrite = a.at;
  });
  try {
    const t0 = now();
    await world.deleteAll();
    const appliedMs = now() - t0;
    await world.waitUntil(
      () => names.every((name) => world.goneAt.has(name)),
      `${n} VpsServers gone`,
      s.timeoutMs ?? lowerBoundMs * 3 + 60_000,
      () => `${world.objects().length} left; provider calls ${JSON.stringify(world.simulator.stats().calls)}`,
    );
    const times = names.map((name) => (world.goneAt.get(name) as number) - t0);
    return phaseResult(n, times, appliedMs, lastWrite - t0, lowerBoundMs, world.simulator.stats());
  } finally {
    stopRecording();
  }
}

function phaseResult(
  n: number,
  times: number[],
  appliedMs: number,
  lastWriteMs: number,
  lowerBoundMs: number,
  stats: SimulatorStats,
): PhaseResult {
  const sorted = [...times].sort((a, b) => a - b);
  const totalMs = sorted.at(-1) ?? 0;
  return {
    n,
    totalMs,
    appliedMs,
    lastWriteMs,
    lowerBoundMs,
    ratio: totalMs / lowerBoundMs,
    p50Ms: percentile(sorted, 50),
    calls: stats.calls,
    throttled: stats.throttled,
    retryAfterViolations: stats.retryAfterViolations,
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
