// `make bench`: measures the operator against the provider's physical limit (the simulator at a
// known rate limit R) and against a per-resource poll, on a real control plane it starts itself,
// and writes bench/RESULTS.md. See docs/performance.md for what each figure means.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../src/devcluster/control-plane.ts';
import { deploymentEnv } from './deployment-env.ts';
import { formatReport } from './report.ts';
import { runSuite, SCENARIOS, type Scenario, type SuiteSettings } from './suite.ts';
import { COMPILED_CLI, prepareCluster } from './world.ts';

const HELP = `Usage: node bench/run.ts [flags]

Benchmarks vps-operator against a real kube-apiserver + etcd and the VPS.org simulator at a
known rate limit R, and writes the figures to a Markdown file.

Flags:
  --n N[,N…]          numbers of VpsServers, one run each (default 100,1000)
  --long              add N = 10000
  --only a[,b…]       scenarios to run: ${SCENARIOS.join(', ')} (default all)
  --rate N            the provider's rate limit R and the operator's --api-rate, per second (default 10)
  --time-scale N      simulator clock speed-up during convergence (default 60)
  --steady-scale N    clock speed-up of the steady-state scenario (default 20)
  --steady-minutes N  simulated minutes counted in steady state (default 10)
  --changes N         spec changes timed by the latency scenario (default 1000)
  --out path          where to write the report (default bench/RESULTS.md)
  --node-options "…"  Node/V8 flags for the operator processes (default: the NODE_OPTIONS of
                      deploy/deployment.yaml, whose other env values the operator also gets,
                      so the figures are those of what ships)
  --cpu-prof          write V8 CPU profiles of the operator processes to <work dir>/profiles
  --work-dir path     operator logs and profiles (default a new directory under the temp dir)
  --help              this text

Example:
  node bench/run.ts --n 1000 --only convergence --cpu-prof
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '100,1000' },
      long: { type: 'boolean', default: false },
      only: { type: 'string', default: SCENARIOS.join(',') },
      rate: { type: 'string', default: '10' },
      'time-scale': { type: 'string', default: '60' },
      'steady-scale': { type: 'string', default: '20' },
      'steady-minutes': { type: 'string', default: '10' },
      changes: { type: 'string', default: '1000' },
      out: { type: 'string', default: 'bench/RESULTS.md' },
      'cpu-prof': { type: 'boolean', default: false },
      'node-options': { type: 'string' },
      'work-dir': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const positive = (flag: string, raw: string): number => {
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 1)
      throw new UsageError(`--${flag}: expected a whole number ≥ 1, got "${raw}"`);
    return v;
  };
  const ns = values.n.split(',').map((x) => positive('n', x.trim()));
  if (values.long && !ns.includes(10_000)) ns.push(10_000);
  const only = new Set(
    values.only.split(',').map((x) => {
      const name = x.trim() as Scenario;
      if (!SCENARIOS.includes(name))
        throw new UsageError(`--only: unknown scenario "${x}" (${SCENARIOS.join(', ')})`);
      return name;
    }),
  );
  const settings: SuiteSettings = {
    ns,
    only,
    ratePerSecond: positive('rate', values.rate),
    timeScale: positive('time-scale', values['time-scale']),
    provisioningSeconds: 120,
    pageSize: 100,
    steadyScale: positive('steady-scale', values['steady-scale']),
    steadyMinutes: positive('steady-minutes', values['steady-minutes']),
    latencyChanges: positive('changes', values.changes),
    freeRatePerSecond: 1000,
    memoryRestMs: 30_000,
  };
  const { NODE_OPTIONS = '', ...operatorEnv } = await deploymentEnv();
  const nodeOptions = (values['node-options'] ?? NODE_OPTIONS).split(/\s+/).filter(Boolean);
  if (!existsSync(COMPILED_CLI))
    throw new UsageError(`${COMPILED_CLI} is missing: run \`make build\` first (\`make bench\` does)`);
  const workDir = values['work-dir'] ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'vps-bench-')));
  const started = new Date();
  const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  log(`operator logs${values['cpu-prof'] ? ' and CPU profiles' : ''} in ${workDir}`);

  await using cp = await startControlPlane();
  log(`control plane up in ${cp.startDurationMs} ms at ${cp.info.server}`);
  const operatorKubeconfig = await prepareCluster(cp);
  const results = await runSuite(
    {
      cp,
      operatorKubeconfig,
      outDir: workDir,
      cpuProf: values['cpu-prof'],
      nodeOptions,
      operatorEnv,
      cli: COMPILED_CLI,
    },
    settings,
    log,
  );

  const command = ['node bench/run.ts', ...process.argv.slice(2)].join(' ');
  const report = formatReport(results, { command, started, finished: new Date(), nodeOptions, operatorEnv });
  await fs.writeFile(values.out, report);
  log(`wrote ${values.out}`);
  process.stdout.write(report);
  return 0;
}

class UsageError extends Error {}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
