// `vps-operator dev`: the one-command local demo. Starts a real control plane (kube-apiserver +
// etcd built by `make controlplane`), the VPS.org simulator with a sped-up clock, applies the CRD
// and deploy/samples/ with kubectl, runs the operator, and shows the samples converging. The
// demo and the tests share one way to run a cluster (src/devcluster/).
import { execFile } from 'node:child_process';
import process from 'node:process';
import { parseArgs, promisify } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadConfig, parseDuration } from '../config.ts';
import { createLogger } from '../logging.ts';
import { startOperator } from '../operator.ts';
import { REPO_ROOT as REPO } from '../repo-root.ts';
import { kubeRequest } from '../runtime/index.ts';
import { startSimulator } from '../simulator/simulator.ts';
import { GROUP, PLURAL, VERSION } from '../vpsserver/types.ts';
import { type Command, UsageError } from './command.ts';

const run = promisify(execFile);
const DEMO_NAMESPACE = 'demo';
const DEMO_TOKEN = 'dev-demo-token';

const HELP = `Usage: vps-operator dev [flags]

Starts a complete local demo: a real kube-apiserver + etcd on loopback, the VPS.org simulator
(time runs 60x faster, so provisioning takes seconds), the CRD, the sample VpsServers of
deploy/samples/ in namespace "${DEMO_NAMESPACE}", and the operator. Prints a KUBECONFIG to use
with kubectl, then the samples' progress until all are Ready. Ctrl-C stops everything and
deletes the temporary cluster.

Flags:
  --time-scale N        how much faster the simulator's clock runs (default 60)
  --exit-when-ready     stop and exit 0 once every sample is Ready (for tests and CI)
  --timeout duration    with --exit-when-ready: give up (exit 1) after this long (default 3m)
  --log-level level     operator log level, to stderr (default warn)

Build first with \`make controlplane\` (make dev does it for you).`;

interface DevFlags {
  timeScale: number;
  exitWhenReady: boolean;
  timeoutMs: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

function parseFlags(argv: string[]): DevFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'time-scale': { type: 'string' },
        'exit-when-ready': { type: 'boolean' },
        timeout: { type: 'string' },
        'log-level': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; run \`vps-operator dev --help\``);
  }
  const flags: DevFlags = {
    timeScale: 60,
    exitWhenReady: values['exit-when-ready'] === true,
    timeoutMs: 180_000,
    logLevel: 'warn',
  };
  const timeScale = values['time-scale'];
  if (typeof timeScale === 'string') {
    const n = Number(timeScale);
    if (!(n >= 1 && n <= 100_000))
      throw new UsageError('invalid --time-scale: expected a number from 1 to 100000');
    flags.timeScale = n;
  }
  const timeout = values.timeout;
  if (typeof timeout === 'string') {
    try {
      flags.timeoutMs = parseDuration(timeout);
    } catch (err) {
      throw new UsageError(
        `invalid --timeout ${JSON.stringify(timeout)}: expected ${(err as Error).message}`,
      );
    }
  }
  const level = values['log-level'];
  if (typeof level === 'string') {
    const known = LOG_LEVELS.find((l) => l === level);
    if (known === undefined)
      throw new UsageError(
        `invalid --log-level ${JSON.stringify(level)}: expected one of ${LOG_LEVELS.join(', ')}`,
      );
    flags.logLevel = known;
  }
  return flags;
}

export const devCommand: Command = {
  name: 'dev',
  summary: 'local demo: control plane + simulator + operator + samples',
  help: HELP,
  async run(argv) {
    const flags = parseFlags(argv);
    const say = (line: string) => process.stdout.write(`${line}\n`);
    const { startControlPlane, kubectlPath } = await import('../devcluster/control-plane.ts');

    say('Starting a local Kubernetes control plane (kube-apiserver + etcd)…');
    const cp = await startControlPlane();
    const stopAll: (() => Promise<unknown>)[] = [() => cp.stop()];
    const stop = async () => {
      for (const f of stopAll.reverse()) await f().catch(() => {});
    };
    process.once('SIGINT', () => void stop().then(() => process.exit(0)));
    process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
    try {
      const kubectl = (...args: string[]) =>
        run(kubectlPath(), ['--kubeconfig', cp.adminKubeconfigPath, ...args], { timeout: 60_000 });
      const sim = await startDemoSimulator(flags);
      stopAll.push(() => sim.close());
      await prepareCluster(kubectl);
      const config = demoConfig(sim.apiBaseUrl, flags);
      const operator = await startOperator(config, {
        kubeConfig: cp.adminKubeConfig,
        logger: createLogger({ level: config.logLevel, format: 'pretty', destination: process.stderr }),
      });
      stopAll.push(() => operator.stop());
      await kubectl('-n', DEMO_NAMESPACE, 'apply', '-k', new URL('deploy/samples', REPO).pathname);

      say('');
      say(`Kubernetes ${cp.info.kubernetesVersion} is up. In another terminal:`);
      say(`  export KUBECONFIG=${cp.adminKubeconfigPath}`);
      say(`  alias kubectl=${kubectlPath()}`);
      say(`  kubectl -n ${DEMO_NAMESPACE} get vps -w`);
      say(`VPS.org simulator: ${sim.apiBaseUrl} (token ${DEMO_TOKEN}; inspect: ${sim.url}/_sim/servers)`);
      say('');

      const allReady = await watchSamples(cp.adminKubeConfig, say, flags);
      if (flags.exitWhenReady) {
        await stop();
        return allReady ? 0 : 1;
      }
      sayTryIt(say);
      say('Press Ctrl-C to stop everything.');
      await new Promise<never>(() => {});
      return 0;
    } catch (err) {
      await stop();
      throw err;
    }
  },
};

/** The simulator with the demo account, and two servers that exist before the demo (for the adopted and observe-only samples, ids 12345 and 12346). */
async function startDemoSimulator(flags: DevFlags) {
  const sim = await startSimulator({
    accounts: [{ name: 'demo', token: DEMO_TOKEN, credits: 10_000 }],
    timeScale: flags.timeScale,
    inspect: true,
  });
  for (const name of ['legacy-db', 'observed-01']) {
    await fetch(`${sim.apiBaseUrl}/servers/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEMO_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, plan_id: 2, os_id: 3, location: 'us-east' }),
    });
  }
  sim.state.finishTransitions();
  return sim;
}

/** The CRD, the demo namespace and its credentials Secret. */
async function prepareCluster(kubectl: (...args: string[]) => Promise<unknown>): Promise<void> {
  await kubectl('apply', '--server-side', '-f', new URL('crds/vpsservers.vps.org.yaml', REPO).pathname);
  await kubectl('wait', '--for=condition=Established', '--timeout=60s', `crd/${PLURAL}.${GROUP}`);
  await kubectl('create', 'namespace', DEMO_NAMESPACE);
  await kubectl(
    '-n',
    DEMO_NAMESPACE,
    'create',
    'secret',
    'generic',
    'vps-org-credentials',
    `--from-literal=token=${DEMO_TOKEN}`,
  );
}

/** The operator's configuration for the demo: short intervals, no ports of its own. */
function demoConfig(apiUrl: string, flags: DevFlags) {
  return loadConfig(
    [
      '--api-url',
      apiUrl,
      '--default-credentials-secret',
      `${DEMO_NAMESPACE}/vps-org-credentials`,
      // The admin's cluster has no operator namespace: server claims live next to the demo.
      '--claims-namespace',
      DEMO_NAMESPACE,
      '--observe-active-interval',
      '1s',
      '--observe-resting-interval',
      '10s',
      '--transitional-wait',
      '1s',
      '--metrics-bind-address',
      '0',
      '--health-probe-bind-address',
      '0',
      '--log-level',
      flags.logLevel,
    ],
    {},
  );
}

function sayTryIt(say: (line: string) => void): void {
  const patch = (body: string) => `  kubectl -n ${DEMO_NAMESPACE} patch vps web-01 --type merge -p '${body}'`;
  say('');
  say('Try it (with the KUBECONFIG above):');
  say(patch('{"spec":{"name":"web-01-renamed"}}'));
  say(patch('{"spec":{"powerState":"Stopped"}}'));
  say(patch(`{"spec":{"rebootRequestedAt":"'$(date -Is)'"}}`));
  say(`  kubectl -n ${DEMO_NAMESPACE} describe vps web-01        # conditions and events`);
  say(`  kubectl -n ${DEMO_NAMESPACE} delete vps web-01`);
}

interface Row {
  name: string;
  serverId: string;
  state: string;
  ip: string;
  ready: string;
  reason: string;
}

/** Prints the samples as a table whenever something changes; resolves when all are Ready (or on timeout). */
async function watchSamples(
  kubeConfig: KubeConfig,
  say: (l: string) => void,
  flags: DevFlags,
): Promise<boolean> {
  const deadline = Date.now() + flags.timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const list = await kubeRequest<{
      items: {
        metadata: { name: string };
        status?: {
          serverId?: number;
          state?: string;
          ipAddress?: string;
          conditions?: { type: string; status: string; reason: string }[];
        };
      }[];
    }>(kubeConfig, {
      method: 'GET',
      path: `/apis/${GROUP}/${VERSION}/namespaces/${DEMO_NAMESPACE}/${PLURAL}`,
    });
    const rows: Row[] = list.items.map((o) => {
      const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
      return {
        name: o.metadata.name,
        serverId: String(o.status?.serverId ?? ''),
        state: o.status?.state ?? '',
        ip: o.status?.ipAddress ?? '',
        ready: ready?.status ?? 'Unknown',
        reason: ready?.reason ?? '',
      };
    });
    const table = formatTable(rows);
    if (table !== last) {
      say(`${new Date().toISOString().slice(11, 19)}\n${table}`);
      last = table;
    }
    if (rows.length > 0 && rows.every((r) => r.ready === 'True')) {
      say('All samples are Ready.');
      return true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  say('Timed out waiting for the samples to become Ready.');
  return false;
}

function formatTable(rows: Row[]): string {
  const header: Row = {
    name: 'NAME',
    serverId: 'SERVER ID',
    state: 'STATE',
    ip: 'IP',
    ready: 'READY',
    reason: 'REASON',
  };
  const all = [header, ...rows];
  const cols = Object.keys(header) as (keyof Row)[];
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...all.map((r) => r[c].length))])) as Record<
    keyof Row,
    number
  >;
  return all
    .map((r) =>
      cols
        .map((c) => r[c].padEnd(width[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
