// `make bench`: measures the operator against the provider's physical limit (the simulator at a
// known rate limit R) and against a per-resource poll, on a real control plane it starts itself,
// and writes bench/RESULTS.md. See docs/performance.md for what each figure means.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../src/devcluster/control-plane.ts';
import {
  accountsScenario,
  BUDGET_SCENARIOS,
  type BudgetResults,
  type BudgetScenario,
  type BudgetSettings,
  formatBudgets,
  neighbourScenario,
  shardsScenario,
  stormScenario,
} from './budgets.ts';
import { deploymentEnv } from './deployment-env.ts';
import { formatReport } from './report.ts';
import { mergeReport } from './report-merge.ts';
import { runSuite, SCENARIOS, type Scenario, type SuiteSettings } from './suite.ts';
import { COMPILED_CLI, prepareCluster, startWorld } from './world.ts';

const HELP = `Usage: node bench/run.ts [flags]

Benchmarks vps-operator against a real kube-apiserver + etcd and the VPS.org simulator at a
known rate limit R, and writes the figures to a Markdown file.

Flags:
  --n N[,N…]          numbers of VpsServers, one run each (default 100,1000)
  --long              add N = 10000
  --only a[,b…]       scenarios to run: ${[...SCENARIOS, ...BUDGET_SCENARIOS].join(', ')} (default all);
                      a partial run replaces only its own sections of the report
  --per-account N     servers per account in the accounts scenario (default 500)
  --backlog N         the noisy namespace's servers in the neighbour scenario (default 3000)
  --storm-seconds N   length of the 429 storm (default 60)
  --per-shard N       servers per shard in the shards scenario (default 100)
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
      only: { type: 'string', default: [...SCENARIOS, ...BUDGET_SCENARIOS].join(',') },
      'per-account': { type: 'string', default: '500' },
      backlog: { type: 'string', default: '3000' },
      'storm-seconds': { type: 'string', default: '60' },
      'per-shard': { type: 'string', default: '100' },
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
  const chosen = values.only.split(',').map((x) => x.trim());
  for (const name of chosen) {
    if (
      !(SCENARIOS as readonly string[]).includes(name) &&
      !(BUDGET_SCENARIOS as readonly string[]).includes(name)
    )
      throw new UsageError(
        `--only: unknown scenario "${name}" (${[...SCENARIOS, ...BUDGET_SCENARIOS].join(', ')})`,
      );
  }
  const only = new Set(chosen.filter((x): x is Scenario => (SCENARIOS as readonly string[]).includes(x)));
  const budgetOnly = new Set(
    chosen.filter((x): x is BudgetScenario => (BUDGET_SCENARIOS as readonly string[]).includes(x)),
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
  const worldOptions = {
    cp,
    operatorKubeconfig,
    outDir: workDir,
    cpuProf: values['cpu-prof'],
    nodeOptions,
    operatorEnv,
    cli: COMPILED_CLI,
  };
  const results = only.size > 0 ? await runSuite(worldOptions, settings, log) : undefined;
  let budgetSection: string | undefined;
  if (budgetOnly.size > 0) {
    const b: BudgetSettings = {
      only: budgetOnly,
      ratePerSecond: settings.ratePerSecond,
      provisioningWallMs: (settings.provisioningSeconds * 1000) / settings.timeScale,
      perAccount: positive('per-account', values['per-account']),
      backlog: positive('backlog', values.backlog),
      neighbourSamples: 10,
      stormMs: positive('storm-seconds', values['storm-seconds']) * 1000,
      perShard: positive('per-shard', values['per-shard']),
    };
    budgetSection = formatBudgets(await runBudgets(worldOptions, settings, b, log), b);
  }

  const command = ['node bench/run.ts', ...process.argv.slice(2)].join(' ');
  const fresh =
    results === undefined
      ? ''
      : formatReport(results, { command, started, finished: new Date(), nodeOptions, operatorEnv });
  const previous = existsSync(values.out) ? await fs.readFile(values.out, 'utf8') : '';
  const budgetText =
    budgetSection === undefined
      ? ''
      : `${budgetSection}\nMeasured ${started.toISOString().slice(0, 16)} UTC with \`${command}\`.\n`;
  const report = mergeReport(previous, `${fresh}${fresh === '' ? '' : '\n'}${budgetText}`);
  await fs.writeFile(values.out, report);
  log(`wrote ${values.out}`);
  process.stdout.write(report);
  return 0;
}

/** The budget scenarios, on one world of their own. */
async function runBudgets(
  world: Parameters<typeof runSuite>[0],
  s: SuiteSettings,
  b: BudgetSettings,
  log: (line: string) => void,
): Promise<BudgetResults> {
  const out: BudgetResults = { neighbour: [] };
  await using w = await startWorld({
    ...world,
    ratePerSecond: s.ratePerSecond,
    timeScale: s.timeScale,
    provisioningSeconds: s.provisioningSeconds,
    pageSize: s.pageSize,
  });
  if (b.only.has('neighbour')) {
    out.neighbour.push(await neighbourScenario(w, b, false, log));
    out.neighbour.push(await neighbourScenario(w, b, true, log));
  }
  if (b.only.has('storm')) out.storm = await stormScenario(w, b, log);
  if (b.only.has('accounts')) out.accounts = await accountsScenario(w, b, log);
  if (b.only.has('shards')) out.shards = await shardsScenario(w, b, log);
  return out;
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
