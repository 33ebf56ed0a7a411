// The shipped image, run as deploy/deployment.yaml runs it: built (or reused: it is tagged by a
// content hash of its inputs) by scripts/image.sh, started with podman as the Deployment's user,
// with a read-only root filesystem, no capabilities, the Deployment's env (NODE_OPTIONS…) and
// args, and an in-cluster ServiceAccount mount pointing at the test control plane. It must
// reconcile a sample to Ready, answer /readyz and /metrics, and exit 0 on SIGTERM within the
// grace period. The flags, user and env are read from the manifest, so a change there is tested.
// And what the image holds: no trace of the build-time CA bundle, no shell or npm, a size budget.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type OperatorEnv, startEnv, TOKEN, testOperatorFlags } from '../support/operator-env.ts';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;
// crun (podman's default) fails on this kernel's hybrid cgroup layout and on raising rlimits.
const PODMAN_RUN = [
  'run',
  '--runtime',
  'runc',
  '--ulimit',
  'nofile=1024:1024',
  '--ulimit',
  'nproc=1024:1024',
];

const PODMAN = spawnSync('podman', ['--version']).status === 0;
if (!PODMAN) {
  process.stderr.write(
    '\n!!! test/integration/image.test.ts SKIPPED: podman is not installed, so the image is not built or run.\n' +
      '!!! `make test` installs it (make image-tools); run that, or apt-get install podman buildah runc debootstrap.\n\n',
  );
}

interface Container {
  name: string;
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  args: string[];
  securityContext: {
    allowPrivilegeEscalation: boolean;
    readOnlyRootFilesystem: boolean;
    capabilities: { drop: string[] };
  };
}
interface Deployment {
  metadata: { namespace: string };
  spec: {
    template: {
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: { runAsUser: number; runAsGroup: number };
        containers: Container[];
      };
    };
  };
}

const deployment = parse(fs.readFileSync(path.join(REPO, 'deploy/deployment.yaml'), 'utf8')) as Deployment;
const pod = deployment.spec.template.spec;
const container = pod.containers[0] as Container;

/** `podman run` flags that reproduce the Deployment's pod and container security settings. */
function securityFlags(): string[] {
  const sc = container.securityContext;
  const flags = ['--user', `${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`];
  // Kubernetes gives a read-only root no writable /tmp or /run; podman would mount tmpfs there.
  if (sc.readOnlyRootFilesystem) flags.push('--read-only', '--read-only-tmpfs=false');
  if (!sc.allowPrivilegeEscalation) flags.push('--security-opt', 'no-new-privileges');
  for (const cap of sc.capabilities.drop) flags.push('--cap-drop', cap);
  return flags;
}

/** The Deployment's env, with the downward-API namespace filled in as the kubelet would. */
function envFlags(): string[] {
  return (container.env ?? []).flatMap((e) => {
    const value =
      e.value ??
      (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace' ? deployment.metadata.namespace : '');
    return ['--env', `${e.name}=${value}`];
  });
}

describe.skipIf(!PODMAN)('the operator image (podman, as deploy/deployment.yaml runs it)', () => {
  let image: string;
  let env: OperatorEnv;
  let saDir: string;
  const containerName = `vps-operator-test-${process.pid}`;
  let child: ChildProcess | undefined;
  const lines: string[] = [];

  beforeAll(async () => {
    // Builds only when Dockerfile, lockfile, build.ts or src/ changed since the last build.
    const built = await run('bash', [path.join(REPO, 'scripts/image.sh'), 'build'], {
      cwd: REPO,
      timeout: 20 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    image = built.stdout.trim().split('\n').pop() as string;
    env = await startEnv({ noOperator: true });
    // What the kubelet mounts for the pod's ServiceAccount; client-node's in-cluster config reads it.
    const sa = await env.cp.kubeconfigForServiceAccount('vps-operator-system', 'vps-operator');
    const kc = sa.kubeConfig;
    saDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vps-image-sa-'));
    fs.chmodSync(saDir, 0o755);
    fs.writeFileSync(path.join(saDir, 'token'), kc.getCurrentUser()?.token ?? '', { mode: 0o644 });
    fs.writeFileSync(
      path.join(saDir, 'ca.crt'),
      Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64'),
      { mode: 0o644 },
    );
    fs.writeFileSync(path.join(saDir, 'namespace'), deployment.metadata.namespace, { mode: 0o644 });
  }, 25 * 60_000);

  // The image's filesystem, exported once (podman create + export) and listed with tar.
  const exported = path.join(os.tmpdir(), `vps-image-${process.pid}.tar`);
  let listing: Promise<{ name: string; size: number }[]> | undefined;
  const imageFiles = () => {
    listing ??= (async () => {
      const created = (await run('podman', ['create', '--runtime', 'runc', image])).stdout.trim();
      try {
        await run('podman', ['export', '--output', exported, created]);
      } finally {
        await run('podman', ['rm', created]);
      }
      const out = (await run('tar', ['-tvf', exported], { maxBuffer: 256 * 1024 * 1024 })).stdout;
      return out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split(/\s+/))
        .map((f) => ({
          name: f
            .slice(5)
            .join(' ')
            .replace(/ -> .*$/, ''),
          size: Number(f[2]),
        }));
    })();
    return listing;
  };

  afterAll(async () => {
    fs.rmSync(exported, { force: true });
    await run('podman', ['rm', '--force', '--time', '0', containerName]).catch(() => {});
    await env?.stop();
    if (saDir) fs.rmSync(saDir, { recursive: true, force: true });
  });

  it('keeps the build-time CA bundle out of the final image (no file, no env)', async () => {
    const ca = process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt';
    const inspect = JSON.parse((await run('podman', ['image', 'inspect', image])).stdout) as {
      Config: { Env?: string[] };
    }[];
    const imageEnv = inspect[0]?.Config.Env ?? [];
    expect(imageEnv.filter((e) => /CA_CERTS|SSL_CERT|secrets/i.test(e))).toEqual([]);
    if (!fs.existsSync(ca)) return;
    const bundle = fs.readFileSync(ca);
    const digest = createHash('sha256').update(bundle).digest('hex');
    const files = await imageFiles();
    expect(files.filter((f) => /run\/secrets/.test(f.name))).toEqual([]);
    // Every file of the image the size of the bundle, hashed: none may be it.
    for (const f of files.filter((f) => f.size === bundle.length)) {
      const content = (
        await run('tar', ['-xOf', exported, f.name], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 })
      ).stdout;
      expect(createHash('sha256').update(content).digest('hex'), f.name).not.toBe(digest);
    }
  });

  it('is distroless-style: node and its libraries, no shell, package manager or npm, under 200 MB', async () => {
    const names = (await imageFiles()).map((f) => f.name.replace(/^\.?\//, ''));
    expect(names).toContain('usr/local/bin/node');
    expect(names).toContain('app/dist/cli.js');
    const unwanted = names.filter((n) =>
      /^(usr\/)?s?bin\/(sh|bash|dash|apt|apt-get|dpkg)$|^usr\/local\/lib\/node_modules\/npm\/|^app\/node_modules\/(@kubernetes|typescript|vitest|esbuild|@biomejs)\//.test(
        n,
      ),
    );
    expect(unwanted).toEqual([]);
    // 356 MB before the cut (Debian base with npm, every production package); docs/shipping.md.
    const size = Number((await run('podman', ['image', 'inspect', '--format', '{{.Size}}', image])).stdout);
    expect(size).toBeLessThan(200 * 1000 * 1000);
  });

  it('reconciles a VpsServer to Ready as the Deployment runs it, serves /readyz and /metrics, and exits 0 on SIGTERM within the grace period', async () => {
    const [host, port] = new URL(env.cp.info.server).host.split(':') as [string, string];
    const args = [
      ...container.args,
      // The test's world, after the Deployment's flags (later flags win): its namespace and
      // token Secret, the simulator, ephemeral ports (the container shares the host's network).
      ...testOperatorFlags(env.namespace, env.sim.apiBaseUrl),
      '--leader-election-id',
      `vps-image-${env.namespace}`,
      '--metrics-bind-address',
      '127.0.0.1:0',
      '--health-probe-bind-address',
      '127.0.0.1:0',
    ];
    child = spawn(
      'podman',
      [
        ...PODMAN_RUN,
        '--rm',
        '--name',
        containerName,
        '--network',
        'host',
        ...securityFlags(),
        ...envFlags(),
        '--env',
        `KUBERNETES_SERVICE_HOST=${host}`,
        '--env',
        `KUBERNETES_SERVICE_PORT=${port}`,
        '--volume',
        `${saDir}:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
        image,
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (chunk: Buffer) =>
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l !== ''),
      );
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    const logged = async (msg: string, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const line = lines.find((l) => l.includes(msg));
        if (line !== undefined) return JSON.parse(line) as Record<string, unknown>;
        if (child?.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no "${msg}" in the container's output:\n${lines.slice(-30).join('\n')}`);
    };

    const metricsPort = (await logged('serving /metrics')).port as number;
    const healthPort = (await logged('serving /healthz')).port as number;
    await logged('caches synced');
    await env.create('image-1');
    await env.waitReady('image-1', 60_000);
    expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/vps_provider_calls_total\{endpoint="create",code="201"\} 1/);
    expect(metrics).toMatch(/vps_servers\{state="active"\} 1/);
    expect(metrics).toMatch(/vps_operator_leader 1/);

    // `podman stop -t N` is what the kubelet does: SIGTERM, then SIGKILL (exit 137) after N s.
    const grace = pod.terminationGracePeriodSeconds;
    const started = Date.now();
    await run('podman', ['stop', '--time', String(grace), containerName]);
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(grace * 1000);
    expect(lines.join('\n')).not.toContain(TOKEN);
  });
});
