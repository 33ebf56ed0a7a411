// Keeps the benchmark code working: every scenario of `make bench` at N = 20, against the run's
// shared control plane. Timings are printed, never asserted (they depend on the machine);
// what is asserted is what must hold anywhere: all Ready, all gone, no 429 with a correctly
// set budget, no writes at rest or after a restart, one latency sample per change. The operator
// is the bundle the image runs (dist/, built by `make test` before the tests), as in make bench.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { sharedControlPlane } from '../test/controlplane/shared.ts';
import { formatReport } from './report.ts';
import { runSuite, SCENARIOS } from './suite.ts';
import { COMPILED_CLI, prepareCluster } from './world.ts';

const N = 20;

it('runs every benchmark scenario at N = 20', async () => {
  const cp = sharedControlPlane();
  const operatorKubeconfig = await prepareCluster(cp);
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vps-bench-smoke-'));
  const results = await runSuite(
    { cp, operatorKubeconfig, outDir, cli: COMPILED_CLI },
    {
      ns: [N],
      only: new Set(SCENARIOS),
      ratePerSecond: 10,
      timeScale: 60,
      provisioningSeconds: 120,
      pageSize: 10,
      steadyScale: 60,
      steadyMinutes: 3,
      latencyChanges: N,
      freeRatePerSecond: 1000,
      memoryRestMs: 3000,
    },
    (line) => process.stderr.write(`bench smoke: ${line}\n`),
  ).finally(() => fs.rm(outDir, { recursive: true, force: true }));
  process.stderr.write(
    `${formatReport(results, { command: 'vitest bench/smoke.test.ts', started: new Date() })}\n`,
  );

  const [create] = results.convergence;
  const [del] = results.deletes;
  expect(create?.n).toBe(N);
  expect(create?.calls.create).toBe(N);
  expect(create?.throttled).toBe(0);
  expect(create?.retryAfterViolations).toBe(0);
  expect(del?.calls.delete).toBe(N);
  expect(del?.throttled).toBe(0);

  const [steady] = results.steady;
  expect(steady?.readyBefore).toBe(N);
  expect(steady?.readyAfter).toBe(N);
  expect(steady?.perMinute.writes).toBe(0);
  expect(steady?.perMinute.list).toBeGreaterThan(0);

  expect(results.latency[0]?.changes).toBe(N);

  const [restarted] = results.restarts;
  expect(restarted?.writes).toBe(0);
  expect(restarted?.calls.list).toBeGreaterThan(0);
  expect(results.memory.every((m) => m.rssMiB > 0)).toBe(true);
}, 120_000);
