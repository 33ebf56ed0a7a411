// The order the scenarios run in for each N, shared by `make bench` (run.ts) and the smoke test:
// one world per N; apply N at once (measured, or quickly when convergence is not asked for);
// memory at rest and a restart; steady state on a sped-up clock; latency with a free budget;
// finally delete everything at once (measured). Each scenario sets the operator and simulator
// up as it needs them, so any subset can run.
import { type ConvergenceSettings, convergeCreate, convergeDelete, type PhaseResult } from './convergence.ts';
import { type LatencyResult, latency } from './latency.ts';
import { type MemorySample, memorySample, type RestartResult, restart } from './memory-restart.ts';
import { type SteadyResult, steadyState } from './steady-state.ts';
import { counterAtLeast, startWorld, type WorldOptions } from './world.ts';

export const SCENARIOS = ['convergence', 'steady', 'latency', 'memory'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface SuiteSettings {
  ns: number[];
  only: ReadonlySet<Scenario>;
  /** the provider's rate limit R, requests per second (also the operator's --api-rate) */
  ratePerSecond: number;
  /** simulator clock speed-up during convergence (provisioning time shrinks by it) */
  timeScale: number;
  /** simulated seconds from create to active */
  provisioningSeconds: number;
  pageSize: number;
  /** clock speed-up of the steady-state scenario (operator timings ÷, rate limit ×) */
  steadyScale: number;
  steadyMinutes: number;
  latencyChanges: number;
  /** rate limit and --api-rate while measuring latency: far above the load, so the budget is free */
  freeRatePerSecond: number;
  /** how long the operator rests before its resident memory is read (and 3 s after the work) */
  memoryRestMs: number;
}

export interface SuiteResults {
  settings: SuiteSettings;
  convergence: PhaseResult[];
  deletes: PhaseResult[];
  steady: SteadyResult[];
  latency: LatencyResult[];
  memory: MemorySample[];
  restarts: RestartResult[];
}

export async function runSuite(
  world: Omit<WorldOptions, 'ratePerSecond' | 'timeScale' | 'provisioningSeconds' | 'pageSize'>,
  s: SuiteSettings,
  log: (line: string) => void,
): Promise<SuiteResults> {
  const results: SuiteResults = {
    settings: s,
    convergence: [],
    deletes: [],
    steady: [],
    latency: [],
    memory: [],
    restarts: [],
  };
  const conv: ConvergenceSettings = {
    ratePerSecond: s.ratePerSecond,
    pageSize: s.pageSize,
    provisioningWallMs: (s.provisioningSeconds * 1000) / s.timeScale,
  };
  for (const n of s.ns) {
    await using w = await startWorld({
      ...world,
      ratePerSecond: s.ratePerSecond,
      timeScale: s.timeScale,
      provisioningSeconds: s.provisioningSeconds,
      pageSize: s.pageSize,
    });
    const measured = s.only.has('convergence');
    const setupRate = measured ? s.ratePerSecond : s.freeRatePerSecond;
    w.simulator.setRate(setupRate);
    await (await w.restartOperator({ apiRatePerSecond: setupRate })).cachesSyncedAt;

    if (measured) {
      log(`N=${n}: convergence (apply ${n} at once, R=${s.ratePerSecond}/s)…`);
      const r = await convergeCreate(w, n, conv);
      results.convergence.push(r);
      log(
        `N=${n}: all Ready in ${sec(r.totalMs)} (lower bound ${sec(r.lowerBoundMs)}, ${r.ratio.toFixed(2)}×)`,
      );
    } else {
      log(`N=${n}: setting up ${n} Ready VpsServers (unmeasured, free budget)…`);
      await w.createMany(0, n);
      await w.waitUntil(
        () => w.readyAt.size >= n,
        `${n} Ready`,
        600_000,
        () => `${w.readyCount()} Ready`,
      );
    }

    if (s.only.has('memory')) {
      const memory = { restMs: s.memoryRestMs };
      const m = await memorySample(w, n, measured ? 'after convergence' : 'after set-up', memory);
      results.memory.push(m);
      log(
        `N=${n}: operator RSS ${m.soonMiB.toFixed(0)} MiB, ${m.rssMiB.toFixed(0)} MiB at rest (peak ${m.peakMiB.toFixed(0)} MiB)`,
      );
      const r = await restart(w, n, { ratePerSecond: s.ratePerSecond, memory });
      results.restarts.push(r);
      results.memory.push(r.memory);
      log(
        `N=${n}: restart: first reconcile after ${sec(r.firstReconcileMs)}, all after ${sec(r.allReconciledMs)}; ` +
          `calls ${JSON.stringify(nonZero(r.calls))}, writes ${r.writes}`,
      );
    }

    if (s.only.has('steady')) {
      log(`N=${n}: steady state (${s.steadyMinutes} simulated min at ${s.steadyScale}×)…`);
      const r = await steadyState(w, n, {
        ratePerSecond: s.ratePerSecond,
        scale: s.steadyScale,
        minutes: s.steadyMinutes,
      });
      results.steady.push(r);
      log(
        `N=${n}: ${r.perMinute.total.toFixed(1)} provider calls/min (per-resource poll: ${r.perResourcePollPerMinute}/min)`,
      );
    }

    if (s.only.has('latency')) {
      log(`N=${n}: latency (${s.latencyChanges} spec changes)…`);
      const r = await latency(w, n, { changes: s.latencyChanges, freeRatePerSecond: s.freeRatePerSecond });
      results.latency.push(r);
      log(`N=${n}: spec change → provider call p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}`);
    }

    if (measured) {
      w.simulator.setRate(s.ratePerSecond);
      const op = await w.restartOperator({ apiRatePerSecond: s.ratePerSecond });
      await w.waitUntil(counterAtLeast(op.reconciles, n), 'a reconcile of every object', 300_000);
      log(`N=${n}: deleting ${n} at once…`);
      const r = await convergeDelete(w, n, conv);
      results.deletes.push(r);
      log(
        `N=${n}: all gone in ${sec(r.totalMs)} (lower bound ${sec(r.lowerBoundMs)}, ${r.ratio.toFixed(2)}×)`,
      );
    }
  }
  return results;
}

export const sec = (msValue: number): string => `${(msValue / 1000).toFixed(1)} s`;
export const ms = (msValue: number): string => `${msValue.toFixed(1)} ms`;
export const nonZero = <T extends Record<string, number>>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0)) as Partial<T>;
