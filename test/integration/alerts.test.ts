// The alert rules (charts/vps-operator/files/alerts.yaml) checked with promtool, built from the
// Prometheus Go module: `promtool check rules`, and `promtool test rules` on input series made from
// /metrics scrapes of operators running against the test control plane and the simulator. Each
// scrape is taken twice; a counter continues at the rate it grew between the two, a gauge stays at
// its value, so the series have the operator's real names, labels and values. The worlds:
//   calm      two replicas with leader election, three servers Ready and one Stalled (no credits)
//   troubled  VPS.org failing 95% of calls (5xx and 429)
//   slow      VPS.org fine, a call budget of one call per 12 s
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  condition,
  isReady,
  type OperatorEnv,
  startEnv,
  testOperatorFlags,
} from '../support/operator-env.ts';
import {
  type OperatorProcess,
  reapOperatorProcesses,
  startOperatorProcess,
} from '../support/operator-process.ts';
import { ensureTool } from '../support/tools.ts';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url);
const RULES = new URL('charts/vps-operator/files/alerts.yaml', REPO).pathname;
const JOB = 'vps-operator-metrics';

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const rules = async (): Promise<Rule[]> =>
  (parse(await readFile(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

let promtool: string;
beforeAll(async () => {
  promtool = await ensureTool('promtool');
}, 1_800_000);

async function promtoolRun(...args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout, stderr } = await run(promtool, args, { timeout: 120_000, maxBuffer: 16 << 20 });
    return { ok: true, out: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? e.message}` };
  }
}

describe('the alert rules', () => {
  it('pass promtool check rules', async () => {
    const { ok, out } = await promtoolRun('check', 'rules', RULES);
    expect(out).toMatch(/SUCCESS: 8 rules found/);
    expect(ok).toBe(true);
  });

  it('are the same in the chart and in deploy/monitoring', async () => {
    const kustomize = parse(
      await readFile(new URL('deploy/monitoring/prometheusrule.yaml', REPO), 'utf8'),
    ) as { spec: unknown };
    expect(kustomize.spec).toEqual(parse(await readFile(RULES, 'utf8')));
  });

  it('each link their own section of docs/runbook.md', async () => {
    const runbook = await readFile(new URL('docs/runbook.md', REPO), 'utf8');
    for (const r of await rules()) {
      expect(r.annotations.runbook_url).toBe(
        `https://github.com/vps-org/vps-operator/blob/main/docs/runbook.md#${r.alert.toLowerCase()}`,
      );
      expect(runbook).toContain(`\n## ${r.alert}\n`);
    }
  });
});

/** One scrape: sample key (name + label set, as exposed) -> value, and metric name -> type. */
interface Scrape {
  samples: Map<string, number>;
  types: Map<string, string>;
}

function parseScrape(text: string): Scrape {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t !== null) types.set(t[1] as string, t[2] as string);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (m !== null) samples.set(m[1] as string, Number(m[2]));
  }
  return { samples, types };
}

const nameOf = (key: string) => key.replace(/\{.*$/, '');
const familyOf = (name: string, types: Map<string, string>) => {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return types.has(name) ? name : base;
};

async function scrape(port: number): Promise<Scrape> {
  return parseScrape(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
}

/** The metric names the rules read (vps_*, workqueue_*, controller_runtime_*), with histogram suffixes. */
async function ruleMetrics(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const r of await rules()) {
    for (const m of r.expr.matchAll(/\b(vps_[a-z_]+|workqueue_[a-z_]+|controller_runtime_[a-z_]+)\b/g)) {
      names.add(m[1] as string);
    }
  }
  return names;
}

/**
 * promtool input series of one scraped replica over `minutes`: counters (and histogram parts) go
 * on at the rate they grew from `first` to `second`, gauges stay at their value in `second`.
 */
function inputSeries(
  first: Scrape,
  second: Scrape,
  seconds: number,
  instance: string,
  names: Set<string>,
  minutes = 40,
): { series: string; values: string }[] {
  const out: { series: string; values: string }[] = [];
  for (const [key, v2] of second.samples) {
    const name = nameOf(key);
    if (!names.has(name.replace(/_(bucket|sum|count)$/, '')) && !names.has(name)) continue;
    const type = second.types.get(familyOf(name, second.types));
    const labels = `job="${JOB}",instance="${instance}"`;
    const series = key.includes('{') ? key.replace('{', `{${labels},`) : `${key}{${labels}}`;
    if (type === 'counter' || type === 'histogram') {
      const v1 = first.samples.get(key) ?? 0;
      const perMinute = Math.max(0, ((v2 - v1) / seconds) * 60);
      out.push({ series, values: `${v1}+${Number(perMinute.toFixed(6))}x${minutes}` });
    } else {
      out.push({ series, values: `${v2}x${minutes}` });
    }
  }
  return out;
}

/** What promtool must see for `alert` (labels, and the annotations with $labels and $value filled in). */
function expectAlert(rule: Rule, labels: Record<string, string>, value?: string) {
  const all = { ...labels, ...rule.labels };
  const fill = (s: string) =>
    s
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, k: string) => all[k] ?? '')
      .replace(/\{\{ \$value \}\}/g, value ?? '');
  return {
    exp_labels: all,
    exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, fill(v)])),
  };
}

describe('the alerts on series scraped from running operators', () => {
  const envs: OperatorEnv[] = [];
  const procs: OperatorProcess[] = [];
  afterAll(async () => {
    await reapOperatorProcesses();
    for (const e of envs) await e.stop();
  });

  async function operator(
    env: OperatorEnv,
    extra: string[],
  ): Promise<{ proc: OperatorProcess; port: number }> {
    const kubeconfig = (await env.cp.kubeconfigForServiceAccount('vps-operator-system', 'vps-operator')).path;
    const proc = startOperatorProcess([
      'run',
      '--kubeconfig',
      kubeconfig,
      ...testOperatorFlags(env.namespace, env.sim.apiBaseUrl),
      '--metrics-bind-address',
      '127.0.0.1:0',
      ...extra,
    ]);
    procs.push(proc);
    const port = (await proc.logged('serving /metrics')).port as number;
    return { proc, port };
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const WINDOW_S = 10;

  it('fire as their rules say, and only then, on the series of a calm and a troubled world (promtool test rules)', async () => {
    const names = await ruleMetrics();
    const byName = new Map((await rules()).map((r) => [r.alert, r]));
    const rule = (a: string) => byName.get(a) as Rule;

    // The calm world: a leader and a standby, three servers Ready, one Stalled for want of credits.
    const calm = await startEnv({ noOperator: true });
    envs.push(calm);
    const election = [
      '--leader-elect',
      '--leader-election-namespace',
      'vps-operator-system',
      '--leader-election-id',
      `alerts-${calm.namespace}`,
    ];
    const a = await operator(calm, election);
    await a.proc.logged('caches synced');
    const b = await operator(calm, election);
    await b.proc.logged('caches synced');
    for (const n of ['web-01', 'web-02', 'web-03']) await calm.create(n);
    for (const n of ['web-01', 'web-02', 'web-03']) await calm.waitFor(n, isReady, 'Ready', 60_000);
    calm.sim.state.setCredits('team', 0);
    await calm.create('big-01');
    await calm.waitFor('big-01', (o) => condition(o, 'Stalled')?.status === 'True', 'Stalled', 60_000);
    const calmFirst = [await scrape(a.port), await scrape(b.port)];
    await sleep(WINDOW_S * 1000);
    const calmSecond = [await scrape(a.port), await scrape(b.port)];
    const leaderIdx = calmSecond.findIndex((s) => s.samples.get('vps_operator_leader') === 1);
    expect(leaderIdx, 'one replica leads').toBeGreaterThanOrEqual(0);
    const standbyIdx = 1 - leaderIdx;
    expect(calmSecond[standbyIdx]?.samples.get('vps_operator_leader')).toBe(0);
    const stalledKey = 'vps_resource_conditions{type="Stalled",status="True",reason="InsufficientCredits"}';
    expect(calmSecond[leaderIdx]?.samples.get(stalledKey)).toBe(1);

    // Every metric the rules and the dashboard read is one the operator exposes.
    // (declared with # TYPE, or sampled: a labelled gauge has no sample until first set)
    const leaderScrape = calmSecond[leaderIdx] as Scrape;
    const exposed = new Set(
      [...leaderScrape.samples.keys()].map(nameOf).concat([...leaderScrape.types.keys()]),
    );
    const dashboard = await readFile(new URL('charts/vps-operator/files/dashboard.json', REPO), 'utf8');
    const dashboardNames = [
      ...dashboard.matchAll(/\b((?:vps|workqueue|controller_runtime|process)_[a-z_]+)\{/g),
    ].map((m) => m[1] as string);
    expect(dashboardNames.length).toBeGreaterThan(10);
    for (const n of [...names, ...dashboardNames]) expect(exposed, `the operator exposes ${n}`).toContain(n);

    // The troubled world: 95% of calls fail (5xx, some 429). The slow world: VPS.org is fine but
    // the budget lets one call through every 12 s. Both run at once, to keep the test short.
    const troubled = await startEnv({
      noOperator: true,
      simulator: { faults: { errorRate: 0.95, errorStatuses: [500, 502, 503, 429] }, seed: 11 },
    });
    envs.push(troubled);
    const slow = await startEnv({ noOperator: true });
    envs.push(slow);
    const t = await operator(troubled, []);
    const w = await operator(slow, ['--api-rate', '1/12s', '--api-concurrency', '1']);
    await t.proc.logged('caches synced');
    await w.proc.logged('caches synced');
    for (let i = 10; i < 16; i++) await troubled.create(`app-${i}`);
    for (let i = 10; i < 16; i++) await slow.create(`app-${i}`);
    await sleep(10_000);
    const troubledFirst = await scrape(t.port);
    const slowFirst = await scrape(w.port);
    await sleep(WINDOW_S * 1000 * 3);
    const troubledSecond = await scrape(t.port);
    const slowSecond = await scrape(w.port);
    // Summed over the label sets of the name (counters may carry an account label).
    const total = (sc: Scrape, name: string) =>
      [...sc.samples].filter(([k]) => nameOf(k) === name).reduce((n, [, v]) => n + v, 0);
    const grew = (name: string) => total(troubledSecond, name) - total(troubledFirst, name);
    expect(grew('vps_provider_throttled_total'), '429s while troubled').toBeGreaterThan(0);

    const calmSeries = [
      ...inputSeries(
        calmFirst[leaderIdx] as Scrape,
        calmSecond[leaderIdx] as Scrape,
        WINDOW_S,
        '10.0.0.1:8080',
        names,
      ),
      ...inputSeries(
        calmFirst[standbyIdx] as Scrape,
        calmSecond[standbyIdx] as Scrape,
        WINDOW_S,
        '10.0.0.2:8080',
        names,
      ),
    ];
    const standbySeries = inputSeries(
      calmFirst[standbyIdx] as Scrape,
      calmSecond[standbyIdx] as Scrape,
      WINDOW_S,
      '10.0.0.2:8080',
      names,
    );
    const troubledSeries = inputSeries(troubledFirst, troubledSecond, WINDOW_S * 3, '10.0.0.3:8080', names);
    const slowSeries = inputSeries(slowFirst, slowSecond, WINDOW_S * 3, '10.0.0.4:8080', names);
    const job = { job: JOB };
    const none = (alertname: string, eval_time: string) => ({ eval_time, alertname, exp_alerts: [] });
    const alertNames = [...byName.keys()];

    const tests = [
      {
        name: 'calm: only the stalled resource alerts, after 15 minutes',
        interval: '1m',
        input_series: calmSeries,
        alert_rule_test: [
          none('VpsServerStalled', '14m'),
          {
            eval_time: '16m',
            alertname: 'VpsServerStalled',
            exp_alerts: [
              expectAlert(rule('VpsServerStalled'), { ...job, reason: 'InsufficientCredits' }, '1'),
            ],
          },
          ...alertNames.filter((n) => n !== 'VpsServerStalled').map((n) => none(n, '30m')),
        ],
      },
      {
        name: 'troubled: unreachable and throttled',
        interval: '1m',
        input_series: troubledSeries,
        alert_rule_test: [
          none('VpsProviderUnreachable', '9m'),
          {
            eval_time: '12m',
            alertname: 'VpsProviderUnreachable',
            exp_alerts: [expectAlert(rule('VpsProviderUnreachable'), job)],
          },
          none('VpsProviderThrottled', '14m'),
          {
            eval_time: '30m',
            alertname: 'VpsProviderThrottled',
            exp_alerts: [expectAlert(rule('VpsProviderThrottled'), job)],
          },
          none('VpsOperatorNoLeader', '30m'),
          none('VpsOperatorAbsent', '30m'),
        ],
      },
      {
        name: 'slow budget: long budget waits, and nothing else',
        interval: '1m',
        input_series: slowSeries,
        alert_rule_test: [
          none('VpsProviderBudgetWaitHigh', '14m'),
          {
            eval_time: '30m',
            alertname: 'VpsProviderBudgetWaitHigh',
            exp_alerts: [expectAlert(rule('VpsProviderBudgetWaitHigh'), job)],
          },
          ...alertNames.filter((n) => n !== 'VpsProviderBudgetWaitHigh').map((n) => none(n, '30m')),
        ],
      },
      {
        name: 'the leader gone: the standby alone says no leader after 5 minutes',
        interval: '1m',
        input_series: standbySeries,
        alert_rule_test: [
          none('VpsOperatorNoLeader', '4m'),
          {
            eval_time: '6m',
            alertname: 'VpsOperatorNoLeader',
            exp_alerts: [expectAlert(rule('VpsOperatorNoLeader'), job)],
          },
        ],
      },
      {
        // No world of this test leaks a server (test/integration/vpsserver-leaks.test.ts makes
        // one): the series is the operator's gauge as it reads while a resource lists one.
        name: 'a leaked server reported: the alert fires after 10 minutes, naming the namespace',
        interval: '1m',
        input_series: [
          ...calmSeries,
          {
            series: `vps_leaked_servers{job="${JOB}",instance="10.0.0.1:8080",namespace="shop"}`,
            values: '1x40',
          },
          {
            series: `vps_leaked_servers{job="${JOB}",instance="10.0.0.2:8080",namespace="shop"}`,
            values: '1x40',
          },
        ],
        alert_rule_test: [
          none('VpsLeakedServers', '9m'),
          {
            eval_time: '11m',
            alertname: 'VpsLeakedServers',
            exp_alerts: [expectAlert(rule('VpsLeakedServers'), { ...job, namespace: 'shop' }, '1')],
          },
        ],
      },
      {
        name: 'nothing scraped: the operator is absent after 10 minutes',
        interval: '1m',
        input_series: [{ series: 'up{job="something-else"}', values: '1x40' }],
        alert_rule_test: [
          none('VpsOperatorAbsent', '9m'),
          {
            eval_time: '11m',
            alertname: 'VpsOperatorAbsent',
            exp_alerts: [expectAlert(rule('VpsOperatorAbsent'), {})],
          },
        ],
      },
    ];

    const dir = await mkdtemp(join(tmpdir(), 'promtool-'));
    try {
      const file = join(dir, 'alerts.test.yaml');
      await writeFile(file, stringify({ rule_files: [RULES], evaluation_interval: '1m', tests }));
      const { ok, out } = await promtoolRun('test', 'rules', file);
      expect(out, out).toMatch(/SUCCESS/);
      expect(ok, out).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
