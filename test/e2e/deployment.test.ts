// deploy/ as pods on a real one-node cluster (src/devcluster/node.ts): what only a node checks
// (issue 19). The image runs under the Deployment's security context and memory limit, finds
// the API server through its ServiceAccount token (in-cluster config), and two replicas elect
// a leader. The overlay changes only the image, the default credentials Secret and the API URL
// (the simulator, on the node's bridge address). The same with the Helm chart (charts/), whose
// values set the same three. `make e2e` runs it; it skips, saying why,
// where a node cannot run (not root, no containerd/runc/CNI, node binaries not built, no image).
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, kubectlPath, startControlPlane } from '../../src/devcluster/control-plane.ts';
import { NODE_HOST_IP, type Node, nodeUnsupportedReason, startNode } from '../../src/devcluster/node.ts';
import { DEFAULT_TOKEN } from '../../src/simulator/options.ts';
import { type RunningSimulator, startSimulator } from '../../src/simulator/simulator.ts';
import { ensureTool } from '../support/tools.ts';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');
const NS = 'vps-operator-system';
const IMAGE = process.env.VPS_E2E_IMAGE ?? 'localhost/vps-operator:dev';
const MEMORY_LIMIT = 256 * 1024 * 1024;
const SERVERS_AT_SCALE = Number(process.env.VPS_E2E_SERVERS ?? 1000);

function imageMissing(): string | undefined {
  try {
    execFileSync('podman', ['image', 'exists', IMAGE], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `image ${IMAGE} not in podman's store: run \`make image\` (or set VPS_E2E_IMAGE)`;
  }
}

const skipReason = nodeUnsupportedReason() ?? imageMissing();
if (skipReason) {
  // Loud on purpose: a skipped e2e must not read as a pass.
  console.warn(`\n*** e2e SKIPPED: ${skipReason} ***\n`);
}

type Installer = 'kustomize' | 'helm';
const INSTALLERS: { installer: Installer; what: string }[] = [
  { installer: 'kustomize', what: 'deploy/ (kustomize)' },
  { installer: 'helm', what: 'the Helm chart' },
];

describe.skipIf(skipReason !== undefined).each(INSTALLERS)('$what on a one-node cluster', ({ installer }) => {
  let cp: ControlPlane;
  let node: Node;
  let sim: RunningSimulator;
  let work: string;

  const kubectl = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await run(kubectlPath(), ['--kubeconfig', cp.adminKubeconfigPath, ...args], {
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(' ')}: ${e.stderr || e.message}`);
    }
  };
  const json = async <T>(...args: string[]): Promise<T> =>
    JSON.parse(await kubectl(...args, '-o', 'json')) as T;

  const eventually = async <T>(
    what: string,
    timeoutMs: number,
    probe: () => Promise<T | undefined>,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const v = await probe();
        if (v !== undefined) return v;
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const pods = await kubectl('-n', NS, 'get', 'pods', '-o', 'wide').catch((e) => String(e));
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}\n${pods}`,
    );
  };

  interface Pod {
    metadata: { name: string; uid: string; deletionTimestamp?: string };
    status?: { phase?: string; conditions?: { type: string; status: string }[] };
  }
  const operatorPods = async (): Promise<Pod[]> =>
    (await json<{ items: Pod[] }>('-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/name=vps-operator'))
      .items;
  const readyPods = async (): Promise<Pod[]> =>
    (await operatorPods()).filter(
      (p) =>
        !p.metadata.deletionTimestamp &&
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
  const leaderPod = async (): Promise<string | undefined> => {
    const lease = await json<{ spec?: { holderIdentity?: string } }>(
      '-n',
      NS,
      'get',
      'lease',
      'vps-operator',
    );
    // identity = `${hostname}-${8 hex}`; a pod's hostname is its name
    return lease.spec?.holderIdentity?.replace(/-[0-9a-f]{8}$/, '');
  };
  const vpsReady = async (namespace: string, name: string): Promise<boolean> => {
    const o = await json<{ status?: { conditions?: { type: string; status: string }[] } }>(
      '-n',
      namespace,
      'get',
      'vpsserver',
      name,
    );
    return o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  };
  const notReadyCount = async (namespace: string): Promise<number> => {
    const list = await json<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>(
      '-n',
      namespace,
      'get',
      'vpsservers',
    );
    return list.items.filter(
      (o) => !o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
  };

  const applyKustomization = async (repo: string, tag: string): Promise<void> => {
    fs.writeFileSync(
      path.join(work, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ${path.relative(work, path.join(REPO, 'deploy'))}
images:
  - name: ghcr.io/vps-org/vps-operator
    newName: ${repo}
    newTag: ${tag}
secretGenerator:
  - name: vps-org-credentials
    namespace: ${NS}
    literals: [token=${DEFAULT_TOKEN}]
    options: {disableNameSuffixHash: true}
patches:
  - target: {kind: Deployment, name: vps-operator}
    patch: |
      - {op: add, path: /spec/template/spec/containers/0/imagePullPolicy, value: Never}
      - {op: add, path: /spec/template/spec/containers/0/args/-, value: "--api-url=${sim.apiBaseUrl}"}
`,
    );
    await kubectl('apply', '--server-side', '-k', work);
  };
  const installChart = async (repo: string, tag: string): Promise<void> => {
    await kubectl('create', 'namespace', NS);
    await kubectl(
      '-n',
      NS,
      'create',
      'secret',
      'generic',
      'vps-org-credentials',
      `--from-literal=token=${DEFAULT_TOKEN}`,
    );
    const helm = await ensureTool('helm');
    await run(
      helm,
      [
        'install',
        'vps-operator',
        path.join(REPO, 'charts/vps-operator'),
        '--kubeconfig',
        cp.adminKubeconfigPath,
        '--namespace',
        NS,
        '--set',
        `image.repository=${repo}`,
        '--set',
        `image.tag=${tag}`,
        '--set',
        'image.pullPolicy=Never',
        '--set',
        `operator.apiUrl=${sim.apiBaseUrl}`,
      ],
      { timeout: 180_000 },
    ).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`helm install: ${err.stderr || err.message}`);
    });
  };

  beforeAll(async () => {
    const t0 = Date.now();
    cp = await startControlPlane({ podReachableAt: NODE_HOST_IP });
    node = await startNode(cp);
    console.log(`node Ready ${Date.now() - t0} ms after start`);
    await node.importImage(IMAGE);
    // Servers take 2-5 s to provision: long enough to delete a leader mid-create.
    sim = await startSimulator({ host: NODE_HOST_IP, timeScale: 60 });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vps-e2e-'));
    const [repo, tag] = [IMAGE.slice(0, IMAGE.lastIndexOf(':')), IMAGE.slice(IMAGE.lastIndexOf(':') + 1)];
    if (installer === 'helm') await installChart(repo, tag);
    else await applyKustomization(repo, tag);
  }, 600_000);

  afterAll(async () => {
    await node?.stop();
    await sim?.close();
    await cp?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('runs both replicas as Ready pods under the Deployment security context', async () => {
    const ready = await eventually('2 Ready operator pods', 240_000, async () => {
      const r = await readyPods();
      return r.length === 2 ? r : undefined;
    });
    expect(ready).toHaveLength(2);
    const pod = await json<{ spec: { containers: { securityContext: Record<string, unknown> }[] } }>(
      '-n',
      NS,
      'get',
      'pod',
      ready[0]?.metadata.name ?? '',
    );
    expect(pod.spec.containers[0]?.securityContext).toMatchObject({ readOnlyRootFilesystem: true });
  });

  it('lets exactly one pod hold the Lease', async () => {
    const leader = await eventually('a Lease holder', 60_000, leaderPod);
    const names = (await readyPods()).map((p) => p.metadata.name);
    expect(names).toContain(leader);
  });

  it('brings a sample VpsServer to Ready through the in-cluster ServiceAccount token', async () => {
    await kubectl('create', 'namespace', 'e2e-sample');
    const before = sim.state.servers().length;
    await kubectl('-n', 'e2e-sample', 'apply', '-f', path.join(REPO, 'deploy/samples/running.yaml'));
    await eventually('web-01 Ready', 120_000, async () =>
      (await vpsReady('e2e-sample', 'web-01')) ? true : undefined,
    );
    expect(sim.state.servers().length - before).toBe(1);
  });

  it('leaves exactly one server when the leader pod is deleted mid-create', async () => {
    await kubectl('create', 'namespace', 'e2e-failover');
    const before = sim.state.servers().length;
    const leader = await eventually('a Lease holder', 60_000, leaderPod);
    const manifest = fs
      .readFileSync(path.join(REPO, 'deploy/samples/running.yaml'), 'utf8')
      .replace('web-01', 'failover-01');
    fs.writeFileSync(path.join(work, 'failover.yaml'), manifest);
    await kubectl('-n', 'e2e-failover', 'apply', '-f', path.join(work, 'failover.yaml'));
    await eventually('the create to reach the provider', 60_000, async () =>
      sim.state.servers().length > before ? true : undefined,
    );
    await kubectl('-n', NS, 'delete', 'pod', leader ?? '', '--wait=false');
    await eventually('failover-01 Ready after the take-over', 180_000, async () =>
      (await vpsReady('e2e-failover', 'failover-01')) ? true : undefined,
    );
    const newLeader = await eventually('a new Lease holder', 60_000, async () => {
      const l = await leaderPod();
      return l && l !== leader ? l : undefined;
    });
    expect(newLeader).not.toBe(leader);
    expect(sim.state.servers().length - before).toBe(1);
  });

  it('keeps every VpsServer Ready through a rollout restart', async () => {
    await kubectl('-n', NS, 'rollout', 'restart', 'deployment/vps-operator');
    await kubectl('-n', NS, 'rollout', 'status', 'deployment/vps-operator', '--timeout=300s');
    for (const [ns, name] of [
      ['e2e-sample', 'web-01'],
      ['e2e-failover', 'failover-01'],
    ] as const) {
      expect(await vpsReady(ns, name)).toBe(true);
    }
    await eventually('2 Ready pods after the restart', 120_000, async () =>
      (await readyPods()).length === 2 ? true : undefined,
    );
  });

  // Once is enough (the chart's pod spec is checked against deploy/'s by test/integration/chart.test.ts).
  it.skipIf(installer === 'helm')(
    `keeps the leader's peak memory (cgroup) under its 256 MiB limit at ${SERVERS_AT_SCALE} VpsServers`,
    async () => {
      await kubectl('create', 'namespace', 'e2e-scale');
      const docs = Array.from(
        { length: SERVERS_AT_SCALE },
        (_, i) => `apiVersion: vps.org/v1alpha1
kind: VpsServer
metadata: {name: s-${i}}
spec: {planId: 1, osId: 5, location: us-west, hostname: s-${i}.example.com}
`,
      );
      fs.writeFileSync(path.join(work, 'scale.yaml'), docs.join('---\n'));
      await kubectl('-n', 'e2e-scale', 'create', '-f', path.join(work, 'scale.yaml'));
      await eventually(`${SERVERS_AT_SCALE} VpsServers Ready`, 900_000, async () =>
        (await notReadyCount('e2e-scale')) === 0 ? true : undefined,
      );
      const leader = await eventually('a Lease holder', 60_000, leaderPod);
      const pods = await operatorPods();
      const uid = pods.find((p) => p.metadata.name === leader)?.metadata.uid ?? '';
      const peak = node.podMemoryPeakBytes(uid);
      console.log(
        `leader pod peak memory at ${SERVERS_AT_SCALE} VpsServers: ${(peak / 2 ** 20).toFixed(1)} MiB`,
      );
      expect(peak).toBeLessThan(MEMORY_LIMIT);
      // No restart means the limit never killed it (OOM).
      const restarts = await kubectl(
        '-n',
        NS,
        'get',
        'pod',
        leader ?? '',
        '-o',
        'jsonpath={.status.containerStatuses[0].restartCount}',
      );
      expect(restarts.trim()).toBe('0');
    },
    1_200_000,
  );
});
