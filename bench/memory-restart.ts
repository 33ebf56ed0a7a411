// Scenario 4, memory and restart: the operator's resident memory with N resources (read from
// /proc/<pid>/status of the operator process: VmRSS now, VmHWM the peak), twice: right after the
// work (the tail of its garbage) and after a rest long enough for V8's memory reducer, which
// gives back heap only after some seconds without allocation. And what a restart
// with N Ready resources costs: how soon the new process has its cache and reconciles, and
// which provider calls it makes (a few list pages and detail reads; zero writes).
import type { SimulatorStats } from '../src/simulator/stats.ts';
import { counterAtLeast, now, sleep, type World, writeCalls } from './world.ts';

export interface MemorySample {
  n: number;
  /** when the sample was taken, e.g. "after convergence" */
  when: string;
  /** VmRSS `soonMs` after the work */
  soonMiB: number;
  /** VmRSS after `restMs` at rest: the resident size with N resources */
  rssMiB: number;
  /** VmHWM: the most the process ever held */
  peakMiB: number;
  restMs: number;
}

export interface MemoryTiming {
  /** @default 3000 */
  soonMs?: number;
  /** @default 30000 */
  restMs?: number;
}

export interface RestartResult {
  n: number;
  /** ms from spawning the process until its informer cache was synced */
  cachesSyncedMs: number;
  firstReconcileMs: number;
  /** ms until as many reconciles had run as there are objects */
  allReconciledMs: number;
  /** provider calls from spawn until `windowMs` after all were reconciled */
  calls: SimulatorStats['calls'];
  writes: number;
  throttled: number;
  windowMs: number;
  memory: MemorySample;
}

/** Reads the running operator's memory `soonMs` and `restMs` after now. */
export async function memorySample(
  world: World,
  n: number,
  when: string,
  timing: MemoryTiming = {},
): Promise<MemorySample> {
  const { soonMs = 3000, restMs = 30_000 } = timing;
  const operator = world.operator;
  if (operator === undefined) throw new Error('no operator is running');
  await sleep(soonMs);
  const soonMiB = operator.memory().rssMiB;
  await sleep(Math.max(0, restMs - soonMs));
  return { n, when, soonMiB, restMs, ...operator.memory() };
}

/** Stops the operator and starts it again with `ratePerSecond` (its defaults otherwise). */
export async function restart(
  world: World,
  n: number,
  opts: { ratePerSecond: number; windowMs?: number; memory?: MemoryTiming },
): Promise<RestartResult> {
  const windowMs = opts.windowMs ?? 5000;
  await world.stopOperator();
  world.simulator.setRate(opts.ratePerSecond);
  world.simulator.resetStats();
  const operator = await world.restartOperator({ apiRatePerSecond: opts.ratePerSecond });
  const cachesSyncedMs = (await operator.cachesSyncedAt) - operator.startedAt;
  const first = counterAtLeast(operator.reconciles, 1);
  await world.waitUntil(first, 'a first reconcile after restart', 120_000);
  const firstReconcileMs = now() - operator.startedAt;
  await world.waitUntil(counterAtLeast(operator.reconciles, n), 'a reconcile of every object', 300_000);
  const allReconciledMs = now() - operator.startedAt;
  const memory = memorySample(world, n, 'after restart', opts.memory);
  await sleep(windowMs);
  const stats = world.simulator.stats();
  return {
    n,
    cachesSyncedMs,
    firstReconcileMs,
    allReconciledMs,
    calls: stats.calls,
    writes: writeCalls(stats),
    throttled: stats.throttled,
    windowMs,
    memory: await memory,
  };
}
