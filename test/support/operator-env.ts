// A whole operator world for one integration test: the run's real control plane (a fresh
// namespace), the CRD applied as a user would, the RBAC of deploy/ bound to a ServiceAccount
// the operator runs as, a VPS.org simulator on a loopback port with a sped-up clock, and the
// operator itself watching only that namespace. Every log line is captured so tests can assert
// the token never appears. Always stop() it (afterEach), even on failure.
import { Writable } from 'node:stream';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { loadConfig, type OperatorConfig } from '../../src/config.ts';
import type { ControlPlaneClient } from '../../src/devcluster/control-plane.ts';
import { createLogger } from '../../src/logging.ts';
import { type RunningOperator, startOperator } from '../../src/operator.ts';
import type { SimulatorOptions } from '../../src/simulator/options.ts';
import { type RunningSimulator, startSimulator } from '../../src/simulator/simulator.ts';
import { sharedControlPlane } from '../controlplane/shared.ts';
import { installOperatorApis, operatorServiceAccount } from './cluster.ts';
import { type VpsObject, type VpsResources, vpsResources } from './vps-resources.ts';

export const TOKEN = 'sim-token-7f3a9c2e41b84d55';

export type { VpsObject } from './vps-resources.ts';

export interface EnvOptions {
  simulator?: SimulatorOptions;
  /** Operator flags, as on the command line. */
  operatorArgs?: string[];
  /** Do not start the operator (the test starts it, e.g. after arranging the provider). */
  noOperator?: boolean;
  /** A control plane of the test's own (one it may restart); default the run's shared one. */
  controlPlane?: ControlPlaneClient;
}

/** The world; its VpsResources are the test namespace's. */
export interface OperatorEnv extends VpsResources {
  cp: ControlPlaneClient;
  namespace: string;
  sim: RunningSimulator;
  admin: KubeConfig;
  operator: RunningOperator | undefined;
  config: OperatorConfig;
  /** Every line the operator logged. */
  logs: string[];
  startOperator(): Promise<RunningOperator>;
  stopOperator(): Promise<void>;
  waitReady(name: string, timeoutMs?: number): Promise<VpsObject>;
  createSecret(name: string, data: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export const condition = (o: VpsObject | undefined, type: string) =>
  o?.status?.conditions?.find((c) => c.type === type);
export const isReady = (o: VpsObject | undefined) => condition(o, 'Ready')?.status === 'True';

/**
 * Creates a server straight at the simulator's API, as someone outside Kubernetes would (or a
 * create whose answer was lost leaves one), finished provisioning; returns its id.
 */
export async function serverMadeOutside(
  env: OperatorEnv,
  name: string,
  body: Record<string, unknown> = {},
): Promise<number> {
  const res = await fetch(`${env.sim.apiBaseUrl}/servers/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, plan_id: 1, os_id: 5, location: 'us-west', ...body }),
  });
  if (res.status !== 201)
    throw new Error(`creating ${name} at the simulator: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: number };
  env.sim.state.finishTransitions();
  return id;
}

/**
 * The operator flags every test world uses: the test namespace and its `vps-token` Secret, the
 * simulator, and intervals short enough for a sped-up clock. Later flags override these.
 */
export function testOperatorFlags(namespace: string, apiBaseUrl: string): string[] {
  return [
    '--namespaces',
    namespace,
    '--default-credentials-secret',
    `${namespace}/vps-token`,
    '--api-url',
    apiBaseUrl,
    '--api-rate',
    '50/s',
    '--observe-active-interval',
    '200ms',
    '--observe-resting-interval',
    '2s',
    '--transitional-wait',
    '200ms',
    '--request-timeout',
    '2s',
    '--metrics-bind-address',
    '0',
    '--health-probe-bind-address',
    '0',
  ];
}

const clusterSetups = new Map<ControlPlaneClient, Promise<KubeConfig>>();

/** Once per control plane: the CRD and the operator's RBAC, exactly as deploy/ and crds/ have them. */
function setUpCluster(cp: ControlPlaneClient): Promise<KubeConfig> {
  const known = clusterSetups.get(cp);
  if (known !== undefined) return known;
  const setup = (async () => {
    // VPS_TEST_AS_ADMIN=1 is a debugging switch only: the operator runs as cluster-admin, to
    // tell RBAC problems from others.
    const asAdmin = process.env.VPS_TEST_AS_ADMIN === '1';
    await installOperatorApis(cp, { rbac: !asAdmin });
    return asAdmin ? cp.adminKubeConfig : (await operatorServiceAccount(cp)).kubeConfig;
  })();
  clusterSetups.set(cp, setup);
  return setup;
}

export async function startEnv(options: EnvOptions = {}): Promise<OperatorEnv> {
  const cp = options.controlPlane ?? sharedControlPlane();
  const operatorKc = await setUpCluster(cp);
  const admin = cp.adminKubeConfig;
  const namespace = await cp.createNamespace('vps');
  const sim = await startSimulator({
    accounts: [{ name: 'team', token: TOKEN, credits: 100_000 }],
    timeScale: 600,
    inspect: true,
    ...options.simulator,
  });
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'vps-token' }, stringData: { token: TOKEN } },
  });

  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line !== '') logs.push(line);
      cb();
    },
  });
  const config = loadConfig(
    [
      ...testOperatorFlags(namespace, sim.apiBaseUrl),
      '--detail-reads-per-minute',
      '600',
      '--log-level',
      'debug',
      ...(options.operatorArgs ?? []),
    ],
    {},
  );

  const env: OperatorEnv = {
    cp,
    namespace,
    sim,
    admin,
    operator: undefined,
    config,
    logs,
    async startOperator() {
      env.operator = await startOperator(config, {
        kubeConfig: operatorKc,
        logger: createLogger({ level: config.logLevel, format: 'json', destination: sink }),
      });
      return env.operator;
    },
    async stopOperator() {
      await env.operator?.stop();
      env.operator = undefined;
    },
    ...vpsResources(admin, namespace),
    async waitReady(name, timeoutMs) {
      return (await env.waitFor(name, isReady, 'Ready=True', timeoutMs)) as VpsObject;
    },
    async createSecret(name, data) {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: data } });
    },
    async stop() {
      await env.stopOperator().catch(() => {});
      await sim.close();
      await core.deleteNamespace({ name: namespace }).catch(() => {});
    },
  };
  if (!options.noOperator) await env.startOperator();
  return env;
}
