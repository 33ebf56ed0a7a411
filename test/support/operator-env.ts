// A whole operator world for one integration test: the run's real control plane (a fresh
// namespace), the CRD applied as a user would, the RBAC of deploy/ bound to a ServiceAccount
// the operator runs as, a VPS.org simulator on a loopback port with a sped-up clock, and the
// operator itself watching only that namespace. Every log line is captured so tests can assert
// the token never appears. Always stop() it (afterEach), even on failure.
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { loadConfig, type OperatorConfig } from '../../src/config.ts';
import { type ControlPlaneClient, kubectlPath } from '../../src/devcluster/control-plane.ts';
import { createLogger } from '../../src/logging.ts';
import { type RunningOperator, startOperator } from '../../src/operator.ts';
import type { SimulatorOptions } from '../../src/simulator/options.ts';
import { type RunningSimulator, startSimulator } from '../../src/simulator/simulator.ts';
import { GROUP, PLURAL, VERSION } from '../../src/vpsserver/types.ts';

const run = promisify(execFile);

import { sharedControlPlane } from '../controlplane/shared.ts';

export const TOKEN = 'sim-token-7f3a9c2e41b84d55';
const REPO = new URL('../../', import.meta.url);
const OPERATOR_NAMESPACE = 'vps-operator-system';
const OPERATOR_SA = 'vps-operator';

export interface VpsObject extends KubernetesObject {
  spec: Record<string, unknown>;
  status?: {
    serverId?: number;
    state?: string;
    ipAddress?: string;
    lastRebootRequestedAt?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    [k: string]: unknown;
  };
}

export interface EnvOptions {
  simulator?: SimulatorOptions;
  /** Operator flags, as on the command line. */
  operatorArgs?: string[];
  /** Do not start the operator (the test starts it, e.g. after arranging the provider). */
  noOperator?: boolean;
  /** A control plane of the test's own (one it may restart); default the run's shared one. */
  controlPlane?: ControlPlaneClient;
}

export interface OperatorEnv {
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
  /** Creates a VpsServer in the test namespace from a spec (defaults: plan 1, OS 5, us-west). */
  create(
    name: string,
    spec?: Record<string, unknown>,
    metadata?: Record<string, unknown>,
  ): Promise<VpsObject>;
  get(name: string): Promise<VpsObject | undefined>;
  /** JSON merge patch of the object (spec, metadata.annotations…). */
  patch(name: string, body: Record<string, unknown>): Promise<VpsObject>;
  remove(name: string): Promise<void>;
  /** Polls until `check` returns true for the object (undefined = gone), or fails with the last state. */
  waitFor(
    name: string,
    check: (o: VpsObject | undefined) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<VpsObject | undefined>;
  waitReady(name: string, timeoutMs?: number): Promise<VpsObject>;
  /** Events recorded for an object, oldest first. */
  events(name: string): Promise<{ type: string; reason: string; message: string; count: number }[]>;
  createSecret(name: string, data: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export const condition = (o: VpsObject | undefined, type: string) =>
  o?.status?.conditions?.find((c) => c.type === type);
export const isReady = (o: VpsObject | undefined) => condition(o, 'Ready')?.status === 'True';

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

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const clusterSetups = new Map<ControlPlaneClient, Promise<KubeConfig>>();

/** Once per control plane: the CRD and the operator's RBAC, exactly as deploy/ and crds/ have them. */
function setUpCluster(cp: ControlPlaneClient): Promise<KubeConfig> {
  const known = clusterSetups.get(cp);
  if (known !== undefined) return known;
  const setup = (async () => {
    const admin = cp.adminKubeConfig;
    // Applied with kubectl, exactly as a user would: client-node's typed serializer would drop
    // `enum`, `default` and `x-kubernetes-validations` from a plain CRD object.
    const kubectl = (...args: string[]) =>
      run(kubectlPath(), ['--kubeconfig', cp.adminKubeconfigPath, ...args], { timeout: 60_000 });
    await kubectl('apply', '--server-side', '-f', new URL('crds/vpsservers.vps.org.yaml', REPO).pathname);
    if (process.env.VPS_TEST_AS_ADMIN !== '1') {
      await kubectl('create', 'namespace', OPERATOR_NAMESPACE).catch(() => {});
      await kubectl(
        'apply',
        '--server-side',
        '-n',
        OPERATOR_NAMESPACE,
        '-f',
        new URL('deploy/rbac.yaml', REPO).pathname,
      );
    }
    await waitEstablished(admin);
    // Debugging switch only: run the operator as cluster-admin to tell RBAC problems from others.
    if (process.env.VPS_TEST_AS_ADMIN === '1') return admin;
    const sa = await cp.kubeconfigForServiceAccount(OPERATOR_NAMESPACE, OPERATOR_SA);
    return sa.kubeConfig;
  })();
  clusterSetups.set(cp, setup);
  return setup;
}

async function waitEstablished(admin: KubeConfig): Promise<void> {
  const api = admin.makeApiClient(ApiextensionsV1Api);
  for (let i = 0; i < 200; i++) {
    const crd = await api.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('CRD not Established after 10 s');
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
  const custom = admin.makeApiClient(CustomObjectsApi);
  const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace };
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
    async create(name, spec = {}, metadata = {}) {
      const body = {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'VpsServer',
        metadata: { name, ...metadata },
        spec: { planId: 1, osId: 5, location: 'us-west', ...spec },
      };
      return (await custom.createNamespacedCustomObject({ ...ref, body })) as VpsObject;
    },
    async get(name) {
      try {
        return (await custom.getNamespacedCustomObject({ ...ref, name })) as VpsObject;
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
    async patch(name, body) {
      return (await custom.patchNamespacedCustomObject({ ...ref, name, body }, MERGE)) as VpsObject;
    },
    async remove(name) {
      await custom.deleteNamespacedCustomObject({ ...ref, name });
    },
    async waitFor(name, check, what, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: VpsObject | undefined;
      while (Date.now() < deadline) {
        last = await env.get(name);
        if (check(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${name}: ${what}; last seen: ${JSON.stringify(last?.status ?? last ?? 'gone')}`,
      );
    },
    async waitReady(name, timeoutMs) {
      return (await env.waitFor(name, isReady, 'Ready=True', timeoutMs)) as VpsObject;
    },
    async events(name) {
      const list = await core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.name=${name}`,
      });
      return list.items
        .sort((a, b) =>
          String(a.metadata?.creationTimestamp ?? '').localeCompare(
            String(b.metadata?.creationTimestamp ?? ''),
          ),
        )
        .map((e) => ({
          type: e.type ?? '',
          reason: e.reason ?? '',
          message: e.message ?? '',
          count: e.count ?? 1,
        }));
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
