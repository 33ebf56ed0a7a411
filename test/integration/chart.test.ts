// The Helm chart (charts/vps-operator) against the real API server of the run and against the
// kustomize install (deploy/): it lints, its defaults and a values file with everything on render
// and are accepted by `kubectl apply --dry-run=server` (prometheus-operator's CRDs installed first,
// from its Go module), the operator accepts the flags it renders, and it runs the same Deployment
// with the same RBAC as deploy/, so the two installs cannot drift apart.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config.ts';
import { kubectlPath } from '../../src/devcluster/control-plane.ts';
import { sharedControlPlane } from '../controlplane/shared.ts';
import { ensureMonitoringCrds, ensureTool } from '../support/tools.ts';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url);
const CHART = new URL('charts/vps-operator/', REPO).pathname;
const ALL_ON = new URL('ci/all-on-values.yaml', `file://${CHART}`).pathname;
// The version of the API server the manifests are applied to (helm's default is its client-go's).
const KUBE_VERSION = (await readFile(new URL('test/controlplane/VERSION', REPO), 'utf8')).trim();

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read field by field
  [k: string]: any;
}

let helmBin: string;
beforeAll(async () => {
  helmBin = await ensureTool('helm');
}, 1_800_000);

async function helm(...args: string[]): Promise<string> {
  try {
    return (await run(helmBin, args, { timeout: 120_000, maxBuffer: 64 << 20 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')}: ${e.stderr || e.message}`);
  }
}

async function kubectl(args: string[], input?: string): Promise<string> {
  const cp = sharedControlPlane();
  const child = run(kubectlPath(), ['--kubeconfig', cp.adminKubeconfigPath, ...args], {
    timeout: 120_000,
    maxBuffer: 64 << 20,
  });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return (await child).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(' ')}: ${e.stderr || e.message}`);
  }
}

const docs = (text: string): K8sObject[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);

/** `helm template` of the chart as release vps-operator in `namespace`. */
const template = async (namespace: string, ...args: string[]) =>
  helm('template', 'vps-operator', CHART, '--kube-version', KUBE_VERSION, '--namespace', namespace, ...args);

const find = (objs: K8sObject[], kind: string) => {
  const o = objs.find((x) => x.kind === kind);
  if (o === undefined) throw new Error(`no ${kind} rendered`);
  return o;
};

describe('the Helm chart', () => {
  it('passes helm lint with the defaults and with every option on', async () => {
    const lint = (...args: string[]) =>
      helm('lint', '--strict', '--kube-version', KUBE_VERSION, CHART, ...args);
    expect(await lint()).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(await lint('-f', ALL_ON)).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('renders its defaults into manifests the API server accepts (kubectl apply --dry-run=server)', async () => {
    const ns = await sharedControlPlane().createNamespace('chart');
    const text = await template(ns, '--include-crds');
    const kinds = docs(text).map((o) => o.kind);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'CustomResourceDefinition',
        'ServiceAccount',
        'ClusterRole',
        'Role',
        'Deployment',
        'Service',
        'PodDisruptionBudget',
      ]),
    );
    expect(kinds).not.toContain('ServiceMonitor');
    const out = await kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], text);
    expect(out).toMatch(/deployment.apps\/vps-operator created \(server dry run\)/);
  });

  it('renders every option on into manifests the API server accepts, ServiceMonitor and PrometheusRule included', async () => {
    // prometheus-operator's CRDs, from its Go module: the test cluster has none of its own.
    for (const crd of await ensureMonitoringCrds()) {
      await kubectl(['apply', '--server-side', '--force-conflicts', '-f', crd]);
    }
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/servicemonitors.monitoring.coreos.com',
      'crd/prometheusrules.monitoring.coreos.com',
    ]);
    const ns = await sharedControlPlane().createNamespace('chart');
    const text = await template(ns, '-f', ALL_ON);
    const objs = docs(text);
    expect(objs.map((o) => o.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'ConfigMap',
        'Deployment',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'PrometheusRule',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
        'ServiceMonitor',
      ].sort(),
    );
    const rule = find(objs, 'PrometheusRule');
    for (const r of rule.spec.groups[0].rules) {
      expect(r.annotations.runbook_url).toMatch(/^https:\/\/wiki\.example\.com\/vps-operator\/runbook#/);
    }
    const out = await kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], text);
    expect(out).toMatch(/servicemonitor.monitoring.coreos.com\/vps-operator created \(server dry run\)/);
    expect(out).toMatch(/prometheusrule.monitoring.coreos.com\/vps-operator created \(server dry run\)/);
    expect(out).toMatch(/networkpolicy.networking.k8s.io\/vps-operator created \(server dry run\)/);
  });

  it('renders operator flags that the operator accepts, every value reaching its flag', async () => {
    const deployment = find(
      docs(await template('ops', '-f', ALL_ON, '--set', 'operator.claimsNamespace=vps-claims')),
      'Deployment',
    );
    const args: string[] = deployment.spec.template.spec.containers[0].args;
    expect(args[0]).toBe('run');
    const config = loadConfig(args.slice(1), {});
    expect(config).toMatchObject({
      namespaces: ['shop', 'batch'],
      labelSelector: 'shard=a',
      workers: 4,
      apiConcurrency: 2,
      detailReadsPerMinute: 3,
      leaderElect: true,
      leaderElectionId: 'vps-operator-shard-a',
      logLevel: 'info', // extraArgs come last and win
      defaultCredentialsNamespaces: {
        all: false,
        names: ['shop', 'batch'],
        selector: 'vps.org/tenant=trusted',
      },
      adoptionNamespaces: { all: false, names: ['shop'] },
      claimsNamespace: 'vps-claims',
      leakedServers: 'delete',
      leakedServerGraceMs: 7_200_000,
    });
    expect(args).toContain('--default-credentials-secret=ops/vps-token:api-token');
    expect(args).toContain('--metrics-bind-address=:8080');
  });

  it('refuses an old space that does not fit the memory limit, naming both values', async () => {
    await expect(
      template('x', '--set', 'resources.limits.memory=128Mi', '--set', 'nodeHeap.maxOldSpaceSizeMiB=160'),
    ).rejects.toThrow(/nodeHeap.maxOldSpaceSizeMiB \(160\) must be below resources.limits.memory \(128Mi/);
  });

  it('refuses several replicas without leader election', async () => {
    await expect(template('x', '--set', 'leaderElection.enabled=false')).rejects.toThrow(
      /replicaCount > 1 needs leaderElection.enabled=true/,
    );
  });

  it('ships the CRD of crds/ byte for byte', async () => {
    const ours = await readFile(new URL('crds/vpsservers.vps.org.yaml', REPO), 'utf8');
    expect(await readFile(`${CHART}crds/vpsservers.vps.org.yaml`, 'utf8')).toBe(ours);
  });
});

describe('the chart and the kustomization (deploy/)', () => {
  let chart: K8sObject[];
  let kustomize: K8sObject[];
  beforeAll(async () => {
    chart = docs(await template('vps-operator-system'));
    kustomize = docs(await kubectl(['kustomize', new URL('deploy/', REPO).pathname]));
  }, 300_000);

  const pod = (objs: K8sObject[]) => find(objs, 'Deployment').spec.template.spec;
  const container = (objs: K8sObject[]) => pod(objs).containers[0];
  const env = (objs: K8sObject[]) =>
    Object.fromEntries(
      (container(objs).env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [
        e.name,
        e.value ?? e.valueFrom,
      ]),
    );

  it('run the operator with the same arguments', () => {
    expect(container(chart).args).toEqual(container(kustomize).args);
  });

  it('run it with the same security contexts', () => {
    expect(pod(chart).securityContext).toEqual(pod(kustomize).securityContext);
    expect(container(chart).securityContext).toEqual(container(kustomize).securityContext);
  });

  it('give it the same resources, NODE_OPTIONS and environment', () => {
    expect(container(chart).resources).toEqual(container(kustomize).resources);
    expect(env(chart)).toEqual(env(kustomize));
    expect(env(chart).NODE_OPTIONS).toBe('--max-semi-space-size=2 --max-old-space-size=160');
  });

  it('run the same replicas, ports, probes and grace period', () => {
    const pick = (objs: K8sObject[]) => ({
      replicas: find(objs, 'Deployment').spec.replicas,
      strategy: find(objs, 'Deployment').spec.strategy,
      grace: pod(objs).terminationGracePeriodSeconds,
      serviceAccount: pod(objs).serviceAccountName,
      ports: container(objs).ports,
      liveness: container(objs).livenessProbe,
      readiness: container(objs).readinessProbe,
    });
    expect(pick(chart)).toEqual(pick(kustomize));
  });

  it('grant the same RBAC rules', () => {
    const rules = (objs: K8sObject[]) =>
      objs
        .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
        .map((o) => ({ kind: o.kind, rules: o.rules }))
        .sort((a, b) => a.kind.localeCompare(b.kind));
    expect(rules(chart)).toEqual(rules(kustomize));
    expect(rules(chart)).toHaveLength(2);
  });
});
