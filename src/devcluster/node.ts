// A one-node cluster beside the local control plane: containerd + runc (Debian packages), the
// CNI bridge plugin (Debian), and kubelet, kube-controller-manager, kube-scheduler and
// kube-proxy built from the same Kubernetes module as the API server (test/node/build.sh). It
// exists so deploy/ runs as real pods: security context, cgroup memory limit, probes, the
// ServiceAccount token, leader election across pods, rolling updates (issue 19).
//
//   const cp = await startControlPlane({ podReachableAt: NODE_HOST_IP });
//   const node = await startNode(cp);            // throws with the reason if unsupported
//   await node.importImage('localhost/vps-operator:dev');
//   ... kubectl apply -k ...; node.podMemoryPeakBytes(uid) ...
//   await node.stop();                            // also on exit and signals
//
// One node per machine (it owns a bridge, /sys/fs/cgroup/*/kubepods and kube-proxy's chains):
// a lock in $TMPDIR serializes runs, and every start first tears down what a killed run left.
// Teardown is synchronous so the exit handler can run it: kill the node's processes, the
// containers (by cgroup) and their shims, unmount everything under the node's dir, remove the
// pod cgroups, kube-proxy's iptables chains and the bridge, delete the dir.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { kubeRequest } from '../runtime/kube-request.ts';
import { type ControlPlane, freePort, isAlive, KUBERNETES_VERSION, ManagedProcess } from './control-plane.ts';
import {
  cniConfig,
  containerdConfig,
  containerdSocket,
  kubeletConfig,
  kubeProxyConfig,
  type NodeLayout,
} from './node-config.ts';

export const NODE_NAME = 'vps-node';
/** The node's address: the pods' gateway, the kubelet's InternalIP, the host as pods see it. */
export const NODE_HOST_IP = '10.244.0.1';
const POD_CIDR = '10.244.0.0/24';
const BRIDGE = 'vpsnode0';
const SANDBOX_IMAGE = 'registry.k8s.io/pause:3.10';
const NODE_BINARIES = [
  'kubelet',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'pause',
] as const;
/** From Debian: containerd 1.6 (kubelet 1.36 still falls back to its own cgroupDriver when the
 * runtime lacks the RuntimeConfig call), runc, CNI plugins, iptables and conntrack. */
const HOST_TOOLS = {
  containerd: '/usr/bin/containerd',
  ctr: '/usr/bin/ctr',
  runc: '/usr/sbin/runc',
  cniBridge: '/usr/lib/cni/bridge',
  iptables: '/usr/sbin/iptables',
  conntrack: '/usr/sbin/conntrack',
  ip: '/usr/sbin/ip',
} as const;
const APT_PACKAGES = 'containerd runc containernetworking-plugins iptables conntrack';

export function nodeBinDir(): string {
  const cache = process.env.VPS_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'vps-operator');
  return process.env.NODE_DIR ?? path.join(cache, `node-v${KUBERNETES_VERSION}`);
}

const nodeDir = (): string => process.env.VPS_NODE_STATE_DIR ?? path.join(os.tmpdir(), 'vps-node');
const lockPath = (): string => `${nodeDir()}.lock`;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Removes what a node run that was killed left on this machine (see the header); no-op when
 * none did. Refuses while another live process holds the node lock. */
export function cleanupNode(): void {
  acquireLock();
  try {
    teardownSync(nodeDir());
  } finally {
    releaseLock();
  }
}

/** Why a node cannot run on this machine, or undefined when it can. */
export function nodeUnsupportedReason(): string | undefined {
  if (process.platform !== 'linux') return `a node needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0)
    return 'a node needs root (kubelet, containerd and CNI manage cgroups, mounts and links)';
  const missingBins = NODE_BINARIES.filter((b) => !isExecutable(path.join(nodeBinDir(), b)));
  if (missingBins.length > 0) {
    return `${missingBins.join(', ')} not built in ${nodeBinDir()}: run \`make node\``;
  }
  const missingTools = Object.values(HOST_TOOLS).filter((t) => !isExecutable(t));
  if (missingTools.length > 0) {
    return `${missingTools.join(', ')} missing: apt-get install ${APT_PACKAGES}`;
  }
  const memcg = fs.existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes') || cgroup2Has('memory');
  if (!memcg) return 'no memory cgroup controller (neither /sys/fs/cgroup/memory nor cgroup v2 with memory)';
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function cgroup2Has(controller: string): boolean {
  try {
    return fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/).includes(controller);
  } catch {
    return false;
  }
}

export interface Node {
  readonly name: string;
  readonly dir: string;
  /** log files by component */
  readonly logs: Record<string, string>;
  /** loads a podman image (podman save | ctr import), or a docker-archive tar given by path */
  importImage(refOrTar: string): Promise<void>;
  /** the pod's peak memory from its cgroup (v1 memory.max_usage_in_bytes, v2 memory.peak) */
  podMemoryPeakBytes(podUid: string): number;
  stop(): Promise<void>;
}

export interface NodeOptions {
  verbose?: boolean;
  /** ms to wait for the Node to be Ready (default 120 s) */
  readyTimeoutMs?: number;
}

export async function startNode(cp: ControlPlane, opts: NodeOptions = {}): Promise<Node> {
  const reason = nodeUnsupportedReason();
  if (reason) throw new Error(`cannot start a node: ${reason}`);
  acquireLock();
  const dir = nodeDir();
  const procs: ManagedProcess[] = [];
  const { teardown, unhook } = teardownOnExit(dir, procs);
  try {
    teardownSync(dir); // what a killed run left
    for (const d of ['containerd/cni', 'manifests', 'kubeconfigs', 'logs', 'images']) {
      fs.mkdirSync(path.join(dir, d), { recursive: true });
    }
    const layout = await nodeLayout(dir, cp);
    // The bridge exists before anything starts: the kubelet's node IP and the API server's
    // advertised address live on it.
    run(HOST_TOOLS.ip, ['link', 'add', BRIDGE, 'type', 'bridge']);
    run(HOST_TOOLS.ip, ['addr', 'add', `${NODE_HOST_IP}/24`, 'dev', BRIDGE]);
    run(HOST_TOOLS.ip, ['link', 'set', BRIDGE, 'up']);

    const logs: Record<string, string> = {};
    const start: Starter = (name, bin, args) => {
      logs[name] = path.join(dir, 'logs', `${name}.log`);
      const p = new ManagedProcess(name, bin, args, logs[name], opts.verbose ?? false);
      procs.push(p);
      return p;
    };
    await startContainerd(layout, start);
    const kubelet = await startKubeComponents(cp, layout, start);
    await waitFor('the Node to be Ready', opts.readyTimeoutMs ?? 120_000, kubelet, async () => {
      for (const p of procs) {
        if (!p.running) throw new Error(`${p.name} ${p.exitReason}:\n${p.lastLines()}`);
      }
      return await nodeReady(cp);
    });
    return {
      name: NODE_NAME,
      dir,
      logs,
      importImage: async (refOrTar) => importImage(layout, refOrTar),
      podMemoryPeakBytes: (podUid: string) => podMemoryPeakBytes(podUid),
      async stop(): Promise<void> {
        unhook();
        for (const p of [...procs].reverse()) await p.kill(5_000);
        teardown();
      },
    };
  } catch (err) {
    unhook();
    teardown();
    throw err;
  }
}

/** Starts one node process, logging to logs/<name>.log. */
type Starter = (name: string, bin: string, args: string[]) => ManagedProcess;

/**
 * Kills the node's processes and removes what they made, once: on exit, and on a signal after
 * the control plane's handler has killed our processes (then the signal's usual exit follows,
 * as control-plane.ts does it). `unhook` takes the handlers away again.
 */
function teardownOnExit(dir: string, procs: ManagedProcess[]): { teardown: () => void; unhook: () => void } {
  let stopped = false;
  const teardown = (): void => {
    if (stopped) return;
    stopped = true;
    for (const p of procs) p.child.kill('SIGKILL');
    teardownSync(dir);
    releaseLock();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    teardown();
    for (const s of SIGNALS) process.off(s, onSignal);
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const unhook = (): void => {
    process.off('exit', teardown);
    for (const s of SIGNALS) process.off(s, onSignal);
  };
  process.on('exit', teardown);
  for (const s of SIGNALS) process.on(s, onSignal);
  return { teardown, unhook };
}

async function nodeLayout(dir: string, cp: ControlPlane): Promise<NodeLayout> {
  return {
    dir,
    nodeName: NODE_NAME,
    hostIP: NODE_HOST_IP,
    podCIDR: POD_CIDR,
    bridge: BRIDGE,
    kubeletPort: await freePort(),
    kubeletHealthzPort: await freePort(),
    caFile: path.join(cp.info.pkiDir, 'ca.crt'),
    sandboxImage: SANDBOX_IMAGE,
    cniBinDir: path.dirname(HOST_TOOLS.cniBridge),
    // VPS_NODE_RUNC: e.g. a wrapper that adds --debug, to see why a container does not start
    runcPath: process.env.VPS_NODE_RUNC ?? HOST_TOOLS.runc,
  };
}

/** containerd with the node's CNI config, and the pause image imported. */
async function startContainerd(layout: NodeLayout, start: Starter): Promise<void> {
  const { dir } = layout;
  fs.writeFileSync(path.join(dir, 'containerd', 'config.toml'), containerdConfig(layout));
  fs.writeFileSync(path.join(dir, 'containerd', 'cni', '10-vps-node.conflist'), cniConfig(layout));
  const containerd = start('containerd', HOST_TOOLS.containerd, [
    '--config',
    path.join(dir, 'containerd', 'config.toml'),
  ]);
  await waitFor('containerd', 30_000, containerd, () => ctrOk(layout));
  ctr(layout, ['images', 'import', pauseImageTar(dir)]);
}

/** kube-controller-manager, kube-scheduler, kube-proxy and the kubelet; returns the kubelet. */
async function startKubeComponents(
  cp: ControlPlane,
  layout: NodeLayout,
  start: Starter,
): Promise<ManagedProcess> {
  const { dir } = layout;
  const kc = async (user: string, groups: string[]): Promise<string> =>
    (await cp.kubeconfigFor({ user, groups })).path;
  // The kubelet and the controller-manager act as cluster admins: the API server runs RBAC
  // only (no Node authorizer), and a test node needs no least privilege of its own.
  const kubeletKc = await kc(`system:node:${NODE_NAME}`, ['system:nodes', 'system:masters']);
  const kcmKc = await kc('system:kube-controller-manager', ['system:masters']);
  const schedKc = await kc('system:kube-scheduler', []);
  const proxyKc = await kc('system:kube-proxy', []);
  const bin = (b: string): string => path.join(nodeBinDir(), b);
  const pki = (f: string): string => path.join(cp.info.pkiDir, f);

  start('kube-controller-manager', bin('kube-controller-manager'), [
    `--kubeconfig=${kcmKc}`,
    `--authentication-kubeconfig=${kcmKc}`,
    `--authorization-kubeconfig=${kcmKc}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${await freePort()}`,
    '--leader-elect=false',
    `--service-account-private-key-file=${pki('sa.key')}`,
    `--root-ca-file=${pki('ca.crt')}`,
    '--controllers=*',
    '--v=1',
  ]);
  start('kube-scheduler', bin('kube-scheduler'), [
    `--kubeconfig=${schedKc}`,
    `--authentication-kubeconfig=${schedKc}`,
    `--authorization-kubeconfig=${schedKc}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${await freePort()}`,
    '--leader-elect=false',
    '--v=1',
  ]);
  const proxyConfig = path.join(dir, 'kube-proxy.yaml');
  fs.writeFileSync(
    proxyConfig,
    stringify(kubeProxyConfig(layout, proxyKc, await freePort(), await freePort())),
  );
  start('kube-proxy', bin('kube-proxy'), [`--config=${proxyConfig}`, '--v=1']);
  const kubeletConfigPath = path.join(dir, 'kubelet.yaml');
  fs.writeFileSync(kubeletConfigPath, stringify(kubeletConfig(layout)));
  return start('kubelet', bin('kubelet'), [
    `--config=${kubeletConfigPath}`,
    `--kubeconfig=${kubeletKc}`,
    `--hostname-override=${NODE_NAME}`,
    `--node-ip=${NODE_HOST_IP}`,
    `--root-dir=${path.join(dir, 'kubelet')}`,
    '--v=1',
  ]);
}

/** Loads a podman image (podman save, then ctr import), or a docker-archive tar given by path. */
function importImage(layout: NodeLayout, refOrTar: string): void {
  let tar = refOrTar;
  if (!fs.existsSync(refOrTar)) {
    const name = `${createHash('sha256').update(refOrTar).digest('hex').slice(0, 12)}.tar`;
    tar = path.join(layout.dir, 'images', name);
    run('podman', ['save', '--format', 'docker-archive', '-o', tar, refOrTar]);
  }
  ctr(layout, ['images', 'import', tar]);
}

// ---------------------------------------------------------------------------------------------

function run(bin: string, args: string[], timeoutMs = 60_000): string {
  try {
    return execFileSync(bin, args, {
      encoding: 'utf8',
      timeout: timeoutMs,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
}

function ctr(l: NodeLayout, args: string[]): string {
  return run(HOST_TOOLS.ctr, ['--address', containerdSocket(l), '--namespace', 'k8s.io', ...args], 300_000);
}

function ctrOk(l: NodeLayout): boolean {
  try {
    ctr(l, ['version']);
    return true;
  } catch {
    return false;
  }
}

async function nodeReady(cp: ControlPlane): Promise<boolean> {
  try {
    const node = await kubeRequest<{ status?: { conditions?: { type: string; status: string }[] } }>(
      cp.adminKubeConfig,
      { method: 'GET', path: `/api/v1/nodes/${NODE_NAME}` },
    );
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  } catch {
    return false;
  }
}

async function waitFor(
  what: string,
  timeoutMs: number,
  proc: ManagedProcess,
  ready: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.running)
      throw new Error(`${proc.name} ${proc.exitReason} (log: ${proc.logPath}):\n${proc.lastLines()}`);
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}; ${proc.name}'s last lines:\n${proc.lastLines()}`,
  );
}

/** The sandbox image, made here from the pause binary of test/node (no registry to pull from):
 * a docker-archive with one layer, which `ctr images import` reads. */
function pauseImageTar(dir: string): string {
  const work = path.join(dir, 'images', 'pause');
  fs.mkdirSync(path.join(work, 'rootfs'), { recursive: true });
  fs.copyFileSync(path.join(nodeBinDir(), 'pause'), path.join(work, 'rootfs', 'pause'));
  fs.chmodSync(path.join(work, 'rootfs', 'pause'), 0o755);
  const out = path.join(work, 'image');
  fs.mkdirSync(out, { recursive: true });
  run('tar', [
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-C',
    path.join(work, 'rootfs'),
    '-cf',
    path.join(out, 'layer.tar'),
    '.',
  ]);
  const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Entrypoint: ['/pause'], User: '65535:65535' },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha(fs.readFileSync(path.join(out, 'layer.tar')))}`] },
  });
  fs.writeFileSync(path.join(out, `${sha(config)}.json`), config);
  fs.writeFileSync(
    path.join(out, 'manifest.json'),
    JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: [SANDBOX_IMAGE], Layers: ['layer.tar'] }]),
  );
  const tar = path.join(dir, 'images', 'pause.tar');
  run('tar', ['-C', out, '-cf', tar, '.']);
  return tar;
}

// ---------------------------------------------------------------------------------------------
// cgroups

function kubepodsRoots(): string[] {
  const roots: string[] = [];
  for (const base of ['/sys/fs/cgroup', ...safeReaddir('/sys/fs/cgroup').map((d) => `/sys/fs/cgroup/${d}`)]) {
    const r = path.join(base, 'kubepods');
    if (fs.existsSync(r)) roots.push(r);
  }
  return roots;
}

function safeReaddir(d: string): string[] {
  try {
    return fs.readdirSync(d);
  } catch {
    return [];
  }
}

function subdirsDeepestFirst(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  try {
    walk(root);
  } catch {
    // raced with removal
  }
  return out;
}

export function podMemoryPeakBytes(podUid: string): number {
  const want = `pod${podUid}`;
  for (const root of kubepodsRoots()) {
    for (const d of subdirsDeepestFirst(root)) {
      if (path.basename(d) !== want) continue;
      for (const f of ['memory.max_usage_in_bytes', 'memory.peak']) {
        const p = path.join(d, f);
        if (fs.existsSync(p)) return Number(fs.readFileSync(p, 'utf8').trim());
      }
    }
  }
  throw new Error(
    `no memory cgroup for pod ${podUid} under ${kubepodsRoots().join(', ') || '/sys/fs/cgroup/*/kubepods'}`,
  );
}

// ---------------------------------------------------------------------------------------------
// lock and teardown

function acquireLock(): void {
  const lock = lockPath();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return;
    } catch {
      const owner = Number(fs.readFileSync(lock, 'utf8').trim());
      if (owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new Error(`cannot start a node: process ${owner} runs one on this machine (lock ${lock})`);
      }
      fs.rmSync(lock, { force: true });
    }
  }
  throw new Error(`cannot take the node lock ${lock}`);
}

function releaseLock(): void {
  try {
    if (Number(fs.readFileSync(lockPath(), 'utf8').trim()) === process.pid) fs.rmSync(lockPath());
  } catch {
    // not ours or gone
  }
}

/** Processes whose command line names the node's dir (containerd, its shims, the Kubernetes
 * binaries) plus every process in a pod cgroup. */
function nodePids(dir: string): number[] {
  const pids = new Set<number>();
  for (const e of safeReaddir('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${dir}/`)) pids.add(pid);
    } catch {
      // gone
    }
  }
  for (const root of kubepodsRoots()) {
    for (const d of subdirsDeepestFirst(root)) {
      try {
        for (const l of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n'))
          if (l) pids.add(Number(l));
      } catch {
        // gone
      }
    }
  }
  return [...pids];
}

function teardownSync(dir: string): void {
  for (let i = 0; i < 50; i++) {
    const pids = nodePids(dir);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    execFileSync('sleep', ['0.1']);
  }
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => m?.startsWith(`${dir}/`) ?? false)
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // already unmounted with its parent
    }
  }
  for (const root of kubepodsRoots()) {
    for (const d of subdirsDeepestFirst(root)) {
      try {
        fs.rmdirSync(d);
      } catch {
        // busy for a moment after its last process died; the next start retries
      }
    }
  }
  removeKubeChains();
  try {
    execFileSync(HOST_TOOLS.ip, ['link', 'del', BRIDGE], { stdio: 'ignore' });
  } catch {
    // not there
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Deletes every KUBE-* chain (kube-proxy's services, the kubelet's KUBE-FIREWALL and canaries)
 * and the jumps to them, in every table of iptables and ip6tables. Nothing else on these
 * machines makes KUBE-* chains; `kube-proxy --cleanup` would leave the kubelet's and took ~40 s. */
function removeKubeChains(): void {
  for (const tool of [HOST_TOOLS.iptables, HOST_TOOLS.iptables.replace('iptables', 'ip6tables')]) {
    let dump: string;
    try {
      dump = execFileSync(`${tool}-save`, [], { encoding: 'utf8', timeout: 20_000 });
    } catch {
      continue;
    }
    if (!dump.includes('KUBE-')) continue;
    // One restore per table, without flushing what is not ours: remove jumps from other chains,
    // then flush and delete our chains.
    let script = '';
    for (const block of dump.split(/^\*/m).slice(1)) {
      const lines = block.split('\n');
      const table = lines[0]?.trim();
      const chains = lines.filter((l) => l.startsWith(':KUBE-')).map((l) => l.slice(1).split(' ')[0] ?? '');
      if (!table || chains.length === 0) continue;
      script += `*${table}\n`;
      for (const l of lines) {
        const m = /^-A (\S+) (.*-j KUBE-\S+.*)$/.exec(l);
        if (m && !m[1]?.startsWith('KUBE-')) script += `-D ${m[1]} ${m[2]}\n`;
      }
      for (const c of chains) script += `-F ${c}\n`;
      for (const c of chains) script += `-X ${c}\n`;
      script += 'COMMIT\n';
    }
    try {
      execFileSync(`${tool}-restore`, ['--noflush'], {
        input: script,
        stdio: ['pipe', 'ignore', 'ignore'],
        timeout: 20_000,
      });
    } catch {
      // best effort; the next start tries again
    }
  }
}
