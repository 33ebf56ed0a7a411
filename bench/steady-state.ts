// Scenario 2, steady state: with N Ready VpsServers and nothing changing, how many provider
// calls a minute does the operator make? List-based observation should make it one paged list
// per account per resting interval plus a fixed allowance of detail reads, whatever N; a
// per-resource 1-minute poll (Crossplane's default) costs N calls a minute. The clock is sped
// up by `scale`: the operator's time-based flags are divided by it, the provider's rate limit
// multiplied by it, and the calls counted over `minutes` simulated minutes.
import type { SimulatorStats } from '../src/simulator/stats.ts';
import { counterAtLeast, sleep, type World, writeCalls } from './world.ts';

export interface SteadyResult {
  n: number;
  scale: number;
  simulatedMinutes: number;
  wallMs: number;
  /** provider calls per simulated minute, by endpoint */
  perMinute: { list: number; get: number; writes: number; total: number };
  /** the same N under a per-resource poll every minute: N GETs a minute */
  perResourcePollPerMinute: number;
  throttled: number;
  readyBefore: number;
  readyAfter: number;
}

/** The operator's defaults (docs/scaling.md) divided by the time scale. */
export function scaledFlags(scale: number): string[] {
  const ms = (v: number) => `${Math.max(1, Math.round(v / scale))}ms`;
  return [
    '--observe-resting-interval',
    ms(60_000),
    '--observe-active-interval',
    ms(5_000),
    '--transitional-wait',
    ms(5_000),
    '--resync-period',
    ms(600_000),
    '--detail-reads-per-minute',
    String(Math.round(6 * scale)),
  ];
}

export async function steadyState(
  world: World,
  n: number,
  opts: { ratePerSecond: number; scale: number; minutes: number },
): Promise<SteadyResult> {
  const { scale, minutes } = opts;
  const minuteMs = 60_000 / scale;
  world.simulator.setRate(opts.ratePerSecond * scale);
  const operator = await world.restartOperator({
    apiRatePerSecond: opts.ratePerSecond * scale,
    extraArgs: scaledFlags(scale),
  });
  // Let the restart's own work (first list, one reconcile per object) finish, then one more
  // resting interval, so only the steady rhythm is counted.
  await operator.cachesSyncedAt;
  await world.waitUntil(counterAtLeast(operator.reconciles, n), 'a reconcile of every object', 120_000);
  await sleep(minuteMs);
  const readyBefore = world.readyCount();
  world.simulator.resetStats();
  const started = performance.now();
  await sleep(minutes * minuteMs);
  const stats: SimulatorStats = world.simulator.stats();
  const wallMs = performance.now() - started;
  const per = (v: number) => v / minutes;
  return {
    n,
    scale,
    simulatedMinutes: minutes,
    wallMs,
    perMinute: {
      list: per(stats.calls.list),
      get: per(stats.calls.get),
      writes: per(writeCalls(stats)),
      total: per(Object.values(stats.calls).reduce((a, b) => a + b, 0)),
    },
    perResourcePollPerMinute: n,
    throttled: stats.throttled,
    readyBefore,
    readyAfter: world.readyCount(),
  };
}
