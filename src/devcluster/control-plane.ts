// A real local Kubernetes control plane for tests and the demo: etcd + kube-apiserver built
// from Go modules by test/controlplane/build.sh (see its README.md), started on free loopback ports with a temporary
// data dir, generated certificates, RBAC and client-certificate / ServiceAccount identities.
//
//   await using cp = await startControlPlane();
//   const api = cp.adminKubeConfig.makeApiClient(CoreV1Api);
//   const bob = await cp.kubeconfigFor({ user: 'bob', groups: ['team-a'] });
//
// Every process it starts is killed, and every data dir deleted, on stop(), on process exit
// and on SIGINT/SIGTERM/SIGHUP; if this process is SIGKILLed, the Go binaries notice their
// parent is gone (CONTROLPLANE_PARENT_PID) and exit, and the next start sweeps the stale dir.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type AuthenticationV1TokenRequest, KubeConfig } from '@kubernetes/client-node';
import { kubeRequest, segment } from '../runtime/index.ts';
import versions from './versions.json' with { type: 'json' };

const execFileAsync = promisify(execFile);

/** The pinned Kubernetes version (src/devcluster/versions.json, the one place it is recorded). */
export const KUBERNETES_VERSION: string = versions.kubernetes;

const BINARIES = ['kube-apiserver', 'etcd', 'kubectl', 'cptool'] as const;
const TMP_PREFIX = 'vps-controlplane-';
const LOG_TAIL_LINES = 30;

/** Where build.sh puts the binaries: $CONTROLPLANE_DIR, else the per-version cache dir. */
export function binDir(): string {
  if (process.env.CONTROLPLANE_DIR) return path.resolve(process.env.CONTROLPLANE_DIR);
  const cache = process.env.VPS_CACHE_DIR || path.join(os.homedir(), '.cache', 'vps-operator');
  return path.join(cache, `controlplane-v${KUBERNETES_VERSION}`);
}

/** The kubectl built from the same Kubernetes release. */
export function kubectlPath(): string {
  return binPath('kubectl');
}

function binPath(name: (typeof BINARIES)[number]): string {
  return path.join(binDir(), name);
}

/** Throws an error that says how to build the binaries when any is missing. */
export function assertBinaries(): void {
  const missing = BINARIES.filter((b) => !fs.existsSync(binPath(b)));
  if (missing.length > 0) {
    throw new Error(
      `control plane binaries missing in ${binDir()} (${missing.join(', ')}): ` +
        'build them with `make controlplane` (bash test/controlplane/build.sh); ' +
        'set CONTROLPLANE_DIR to use another directory',
    );
  }
}

export interface Identity {
  /** user name (certificate CN) */
  user: string;
  /** groups (certificate O) */
  groups?: string[];
  /** default namespace written into the kubeconfig context */
  namespace?: string;
}

export interface Kubeconfig {
  /** a kubeconfig file (JSON, which kubectl and every client read as YAML) */
  path: string;
  /** the same, loaded for @kubernetes/client-node */
  kubeConfig: KubeConfig;
}

/** What a test process needs to use a control plane started by another process (serializable). */
export interface ControlPlaneInfo {
  kubernetesVersion: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** http://127.0.0.1:<port> */
  etcdEndpoint: string;
  adminKubeconfigPath: string;
  binDir: string;
  /** CA, serving, service-account keys; cptool issues client certs from here */
  pkiDir: string;
  dataDir: string;
}

export interface StartOptions {
  /** ms to wait for etcd and the API server to become ready (default 60 s) */
  readyTimeoutMs?: number;
  /** extra kube-apiserver flags, e.g. ['--feature-gates=...'] (later ones win) */
  apiServerArgs?: string[];
  /** copy both processes' output to this process's stderr as well as the log files */
  verbose?: boolean;
  /**
   * Write an audit log (JSON lines, one per finished request that writes: create, update,
   * patch, delete) to `logs.audit`, so a test can tell which identity's writes were accepted.
   */
  auditLog?: boolean;
  /**
   * Serve a node's pods (src/devcluster/node.ts): listen on every address, publish this one as
   * the endpoint of the `kubernetes` Service (pods reach 10.0.0.1 through kube-proxy), and keep
   * the ServiceAccount admission plugin (it mounts the token; kube-controller-manager creates
   * the accounts it needs). Loopback cannot be a Service endpoint, hence a pod-reachable address.
   */
  podReachableAt?: string;
}

/** Client-side view of a control plane: identities, namespaces and compaction. */
export interface ControlPlaneClient {
  readonly info: ControlPlaneInfo;
  readonly adminKubeconfigPath: string;
  readonly adminKubeConfig: KubeConfig;
  /** a kubeconfig with a client certificate for this user and groups (signed by the trusted CA) */
  kubeconfigFor(identity: Identity): Promise<Kubeconfig>;
  /** creates the namespace and ServiceAccount if missing, and returns a kubeconfig with a TokenRequest token */
  kubeconfigForServiceAccount(namespace: string, name: string): Promise<Kubeconfig>;
  /** creates a namespace with a unique name (`<prefix>-<random>`) and returns its name */
  createNamespace(prefix?: string): Promise<string>;
  /** etcd compaction at the current revision; returns that revision */
  compactEtcd(): Promise<number>;
}

/** A control plane owned by this process. */
export interface ControlPlane extends ControlPlaneClient, AsyncDisposable {
  /** ms from startControlPlane() to /readyz ok */
  readonly startDurationMs: number;
  /** stops kube-apiserver (SIGTERM, then SIGKILL after 10 s); etcd and its data stay */
  stopApiServer(): Promise<void>;
  /** starts kube-apiserver again on the same port and etcd, and waits for /readyz */
  startApiServer(): Promise<void>;
  /** kills everything and deletes the data dir; idempotent */
  stop(): Promise<void>;
  /** the log files of etcd and kube-apiserver, and the audit log when `auditLog` was asked for */
  readonly logs: { etcd: string; apiServer: string; audit?: string };
}

/** One entry of the API server's audit log (audit.k8s.io/v1 Event, the fields tests read). */
export interface AuditEntry {
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
}

/** Every entry of an audit log file written with `auditLog: true` (missing file: none). */
export async function readAuditLog(file: string): Promise<AuditEntry[]> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditEntry);
}

/** Metadata level (no bodies: tokens never land in the log) for writes only; nothing else. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted"]
rules:
  - level: Metadata
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
  - level: None
`;

// ---------------------------------------------------------------------------------------------
// processes

export class ManagedProcess {
  readonly child: ChildProcess;
  readonly tail: string[] = [];
  readonly exited: Promise<void>;
  exitReason: string | undefined;
  private partial = '';

  readonly name: string;
  readonly logPath: string;

  constructor(name: string, bin: string, args: string[], logPath: string, verbose: boolean) {
    this.name = name;
    this.logPath = logPath;
    const log = fs.openSync(logPath, 'a');
    fs.writeSync(log, `\n=== ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
    this.child = spawn(bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CONTROLPLANE_PARENT_PID: String(process.pid) },
    });
    live.add(this);
    const onData = (chunk: Buffer): void => {
      fs.writeSync(log, chunk);
      if (verbose) process.stderr.write(chunk);
      const lines = (this.partial + chunk.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      this.tail.push(...lines);
      if (this.tail.length > LOG_TAIL_LINES) this.tail.splice(0, this.tail.length - LOG_TAIL_LINES);
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.exitReason ??= `could not be started: ${err.message}`;
        live.delete(this);
        resolve();
      });
      this.child.on('close', (code, signal) => {
        this.exitReason ??= signal ? `was killed by ${signal}` : `exited with code ${code}`;
        live.delete(this);
        fs.closeSync(log);
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.exitReason === undefined;
  }

  lastLines(): string {
    return [...this.tail, this.partial].filter((l) => l.length > 0).join('\n');
  }

  /** SIGTERM, then SIGKILL after graceMs */
  async kill(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

// Everything this process has started and not yet seen exit, plus data dirs to delete: the
// exit and signal handlers below act on these synchronously.
const live = new Set<ManagedProcess>();
const dataDirs = new Set<string>();
let handlersInstalled = false;

function cleanupSync(): void {
  for (const p of live) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
  dataDirs.clear();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      cleanupSync();
      process.off(signal, handler);
      // Keep the signal's usual effect (exit) unless someone else handles it too.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/** Deletes data dirs left by harness processes that died without cleaning up (SIGKILL). */
async function sweepStaleDirs(): Promise<void> {
  const tmp = os.tmpdir();
  let entries: string[];
  try {
    entries = await fsp.readdir(tmp);
  } catch {
    return;
  }
  for (const entry of entries.filter((e) => e.startsWith(TMP_PREFIX))) {
    const dir = path.join(tmp, entry);
    try {
      const pid = Number((await fsp.readFile(path.join(dir, 'owner.pid'), 'utf8')).trim());
      if (pid > 0 && pid !== process.pid && !isAlive(pid)) {
        await fsp.rm(dir, { recursive: true, force: true });
      }
    } catch {
      // no owner file (yet): leave it
    }
  }
}

/** Whether process `pid` exists (EPERM: it does, as another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// networking helpers

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function portIsFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

function httpsGet(
  url: string,
  tls: TlsMaterial,
  timeoutMs = 2000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...tls, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function etcdPost(endpoint: string, apiPath: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${endpoint}${apiPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`etcd ${apiPath}: HTTP ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class StartError extends Error {
  readonly portInUse: boolean;
  constructor(message: string, portInUse: boolean) {
    super(message);
    this.portInUse = portInUse;
  }
}

/** Polls `probe` until it returns true; fails early, with the log tail, if the process exits. */
async function waitReady(
  proc: ManagedProcess,
  what: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (!proc.running) break;
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await Promise.race([sleep(100), proc.exited]);
  }
  const lines = proc.lastLines();
  const portInUse = /address already in use|bind: address/i.test(lines);
  const why = proc.running
    ? `did not become ready within ${timeoutMs} ms${lastError ? ` (last probe error: ${lastError})` : ''}`
    : `${proc.exitReason} before it was ready${portInUse ? ' (a port it needs is in use)' : ''}`;
  if (proc.running) await proc.kill(0);
  throw new StartError(
    `${what} ${why}. Last ${LOG_TAIL_LINES} log lines (full log: ${proc.logPath}):\n${lines}`,
    portInUse,
  );
}

// ---------------------------------------------------------------------------------------------
// kubeconfigs and identities

function kubeconfigObject(
  server: string,
  caPEM: string,
  userName: string,
  user: Record<string, string>,
  namespace?: string,
): Record<string, unknown> {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'certificate-authority-data': b64(caPEM) } }],
    users: [{ name: userName, user }],
    contexts: [
      { name: 'local', context: { cluster: 'local', user: userName, ...(namespace ? { namespace } : {}) } },
    ],
    'current-context': 'local',
  };
}

function loadKubeConfig(text: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return kc;
}

let fileCounter = 0;

async function writeKubeconfig(
  dir: string,
  label: string,
  obj: Record<string, unknown>,
): Promise<Kubeconfig> {
  const text = `${JSON.stringify(obj, null, 2)}\n`;
  const safe = label.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60);
  const file = path.join(dir, `${safe}-${++fileCounter}.kubeconfig`);
  await fsp.writeFile(file, text, { mode: 0o600 });
  return { path: file, kubeConfig: loadKubeConfig(text) };
}

function statusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (statusCode(err) !== 409) throw err;
  }
}

/** Use a control plane described by `info` (e.g. one provided by the vitest global setup). */
export function connectControlPlane(info: ControlPlaneInfo): ControlPlaneClient {
  const caPEM = fs.readFileSync(path.join(info.pkiDir, 'ca.crt'), 'utf8');
  const adminKubeConfig = loadKubeConfig(fs.readFileSync(info.adminKubeconfigPath, 'utf8'));
  const kubeconfigDir = path.join(info.dataDir, 'kubeconfigs');
  const cptool = path.join(info.binDir, 'cptool');

  return {
    info,
    adminKubeconfigPath: info.adminKubeconfigPath,
    adminKubeConfig,

    async kubeconfigFor({ user, groups = [], namespace }: Identity): Promise<Kubeconfig> {
      const { stdout } = await execFileAsync(cptool, ['client-cert', info.pkiDir, user, ...groups]);
      const { cert, key } = JSON.parse(stdout) as { cert: string; key: string };
      const b64 = (s: string): string => Buffer.from(s).toString('base64');
      const obj = kubeconfigObject(
        info.server,
        caPEM,
        user,
        { 'client-certificate-data': b64(cert), 'client-key-data': b64(key) },
        namespace,
      );
      return await writeKubeconfig(kubeconfigDir, user, obj);
    },

    kubeconfigForServiceAccount: (namespace: string, name: string) =>
      serviceAccountKubeconfig(info, adminKubeConfig, caPEM, namespace, name),

    async createNamespace(prefix = 'test'): Promise<string> {
      const name = `${prefix}-${randomBytes(4).toString('hex')}`;
      await kubeRequest(adminKubeConfig, {
        method: 'POST',
        path: '/api/v1/namespaces',
        body: { metadata: { name } },
      });
      return name;
    },

    compactEtcd: () => compactEtcd(info.etcdEndpoint),
  };
}

/** A kubeconfig with a fresh token of the ServiceAccount (made, with its namespace, if missing). */
async function serviceAccountKubeconfig(
  info: ControlPlaneInfo,
  adminKubeConfig: KubeConfig,
  caPEM: string,
  namespace: string,
  name: string,
): Promise<Kubeconfig> {
  // Raw requests (kube-request.ts), not client-node's generated CoreV1Api: `make dev` runs this
  // from the bundled operator too, which then would carry every generated API.
  const post = <T>(path: string, body: unknown) =>
    kubeRequest<T>(adminKubeConfig, { method: 'POST', path, body });
  const ns = `/api/v1/namespaces/${segment(namespace)}`;
  await ignoreConflict(post('/api/v1/namespaces', { metadata: { name: namespace } }));
  await ignoreConflict(post(`${ns}/serviceaccounts`, { metadata: { name } }));
  const tr = await post<AuthenticationV1TokenRequest>(`${ns}/serviceaccounts/${segment(name)}/token`, {
    spec: { audiences: [], expirationSeconds: 7 * 24 * 3600 },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  const userName = `system:serviceaccount:${namespace}:${name}`;
  const obj = kubeconfigObject(info.server, caPEM, userName, { token }, namespace);
  return await writeKubeconfig(path.join(info.dataDir, 'kubeconfigs'), `sa-${namespace}-${name}`, obj);
}

/** Compacts etcd at its current revision (etcd's gRPC-JSON gateway); returns the revision. */
async function compactEtcd(endpoint: string): Promise<number> {
  const range = await etcdPost(endpoint, '/v3/kv/range', {
    key: Buffer.from('/registry/').toString('base64'),
    count_only: true,
  });
  const revision = Number((range.header as { revision?: string } | undefined)?.revision);
  if (!Number.isFinite(revision) || revision <= 0)
    throw new Error(`etcd returned no revision: ${JSON.stringify(range)}`);
  await etcdPost(endpoint, '/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}

// ---------------------------------------------------------------------------------------------
// start

/** The processes of one control plane, set as each starts (so a failed start can kill them). */
interface Processes {
  etcd?: ManagedProcess;
  apiServer?: ManagedProcess;
}

/** Starts etcd and kube-apiserver and waits until /readyz is ok. */
export async function startControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  const started = performance.now();
  assertBinaries();
  installExitHandlers();
  void sweepStaleDirs();
  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  const verbose = opts.verbose ?? process.env.CONTROLPLANE_VERBOSE === '1';
  const { dataDir, pkiDir, logs } = await makeDataDir(opts);
  const procs: Processes = {};
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all([procs.apiServer?.kill(0), procs.etcd?.kill(0)]);
    await fsp.rm(dataDir, { recursive: true, force: true });
    dataDirs.delete(dataDir);
  };

  try {
    const tls = await initPki(pkiDir);
    const etcdEndpoint = await startEtcd(procs, path.join(dataDir, 'etcd'), logs.etcd, verbose, timeoutMs);
    const securePort = await freePort();
    const server = `https://127.0.0.1:${securePort}`;
    const at = { etcdEndpoint, securePort, server, pkiDir, dataDir, auditLog: logs.audit };
    const args = apiServerArgs(opts, at);
    const api = { port: securePort, server, args, tls, log: logs.apiServer, verbose, timeoutMs };
    const startApi = () => startApiServer(procs, api);
    await startApi();

    const info: ControlPlaneInfo = {
      kubernetesVersion: KUBERNETES_VERSION,
      server,
      etcdEndpoint,
      adminKubeconfigPath: await writeAdminKubeconfig(dataDir, server, tls),
      binDir: binDir(),
      pkiDir,
      dataDir,
    };
    return {
      ...connectControlPlane(info),
      startDurationMs: Math.round(performance.now() - started),
      logs,
      async stopApiServer(): Promise<void> {
        await procs.apiServer?.kill(10_000);
      },
      async startApiServer(): Promise<void> {
        if (stopped) throw new Error('control plane was stopped');
        if (procs.apiServer?.running) throw new Error('kube-apiserver is already running');
        await startApi();
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    stopped = true;
    await keepLogsOnly(procs, dataDir, pkiDir);
    throw err;
  }
}

/** kube-apiserver on `port` (refused if another process took it), ready once /readyz is ok. */
async function startApiServer(
  procs: Processes,
  o: {
    port: number;
    server: string;
    args: string[];
    tls: TlsMaterial;
    log: string;
    verbose: boolean;
    timeoutMs: number;
  },
): Promise<void> {
  if (!(await portIsFree(o.port))) {
    throw new Error(`cannot start kube-apiserver: port 127.0.0.1:${o.port} is in use by another process`);
  }
  const apiServer = new ManagedProcess('kube-apiserver', binPath('kube-apiserver'), o.args, o.log, o.verbose);
  procs.apiServer = apiServer;
  await waitReady(apiServer, 'kube-apiserver', o.timeoutMs, async () => {
    const res = await httpsGet(`${o.server}/readyz`, o.tls);
    return res.status === 200;
  });
}

/**
 * After a failed start: the processes and the bulky data go now, the logs the error points at
 * stay until a later start finds this process gone (sweepStaleDirs).
 */
async function keepLogsOnly(procs: Processes, dataDir: string, pkiDir: string): Promise<void> {
  await Promise.all([procs.apiServer?.kill(0), procs.etcd?.kill(0)]);
  dataDirs.delete(dataDir);
  await fsp.rm(path.join(dataDir, 'etcd'), { recursive: true, force: true });
  await fsp.rm(pkiDir, { recursive: true, force: true });
}

/** A fresh data dir marked with this process's pid (sweepStaleDirs removes it if we die). */
async function makeDataDir(opts: StartOptions) {
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), TMP_PREFIX));
  dataDirs.add(dataDir);
  await fsp.writeFile(path.join(dataDir, 'owner.pid'), `${process.pid}\n`);
  await fsp.mkdir(path.join(dataDir, 'kubeconfigs'), { recursive: true });
  const logs = {
    etcd: path.join(dataDir, 'etcd.log'),
    apiServer: path.join(dataDir, 'kube-apiserver.log'),
    ...(opts.auditLog === true && { audit: path.join(dataDir, 'audit.log') }),
  };
  if (logs.audit !== undefined) await fsp.writeFile(path.join(dataDir, 'audit-policy.yaml'), AUDIT_POLICY);
  return { dataDir, pkiDir: path.join(dataDir, 'pki'), logs };
}

/** The CA, serving, service-account and admin certificates (cptool), and the admin's TLS. */
async function initPki(pkiDir: string): Promise<TlsMaterial> {
  try {
    await execFileAsync(binPath('cptool'), ['init', pkiDir]);
  } catch (err) {
    throw new Error(`cptool init failed: ${(err as { stderr?: string }).stderr || (err as Error).message}`);
  }
  return {
    ca: await fsp.readFile(path.join(pkiDir, 'ca.crt'), 'utf8'),
    cert: await fsp.readFile(path.join(pkiDir, 'admin.crt'), 'utf8'),
    key: await fsp.readFile(path.join(pkiDir, 'admin.key'), 'utf8'),
  };
}

/** etcd on two free ports, retried on a port race with another process; returns its endpoint. */
async function startEtcd(
  procs: Processes,
  etcdDir: string,
  log: string,
  verbose: boolean,
  timeoutMs: number,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const endpoint = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const etcd = new ManagedProcess(
      'etcd',
      binPath('etcd'),
      [
        '--name=default',
        `--data-dir=${etcdDir}`,
        `--listen-client-urls=${endpoint}`,
        `--advertise-client-urls=${endpoint}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=default=${peer}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      log,
      verbose,
    );
    procs.etcd = etcd;
    try {
      await waitReady(etcd, 'etcd', timeoutMs, async () => {
        const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
        return res.ok && ((await res.json()) as { health?: string }).health === 'true';
      });
      return endpoint;
    } catch (err) {
      if (!(err instanceof StartError && err.portInUse && attempt < 3)) throw err;
    }
  }
}

/** kube-apiserver's flags: RBAC, no priority and fairness, no endpoint reconciler unless pods run. */
function apiServerArgs(
  opts: StartOptions,
  at: {
    etcdEndpoint: string;
    securePort: number;
    server: string;
    pkiDir: string;
    dataDir: string;
    auditLog?: string;
  },
): string[] {
  const pki = (f: string): string => path.join(at.pkiDir, f);
  return [
    `--etcd-servers=${at.etcdEndpoint}`,
    `--secure-port=${at.securePort}`,
    `--bind-address=${opts.podReachableAt ? '0.0.0.0' : '127.0.0.1'}`,
    `--advertise-address=${opts.podReachableAt ?? '127.0.0.1'}`,
    `--cert-dir=${at.pkiDir}`,
    `--tls-cert-file=${pki('serving.crt')}`,
    `--tls-private-key-file=${pki('serving.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    '--authorization-mode=RBAC',
    `--service-account-issuer=${at.server}`,
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    // No controller-manager runs: pods would need a "default" ServiceAccount nobody creates.
    ...(opts.podReachableAt ? [] : ['--disable-admission-plugins=ServiceAccount']),
    // Faster start, and no request throttling in tests.
    '--enable-priority-and-fairness=false',
    // Nothing can reach 127.0.0.1 as a Service endpoint: skip the endpoint reconciler.
    `--endpoint-reconciler-type=${opts.podReachableAt ? 'lease' : 'none'}`,
    '--profiling=false',
    ...(at.auditLog === undefined
      ? []
      : [
          `--audit-policy-file=${path.join(at.dataDir, 'audit-policy.yaml')}`,
          `--audit-log-path=${at.auditLog}`,
          // Written before the answer is sent, so a test reading it after a reply sees the entry.
          '--audit-log-mode=blocking',
          '--audit-log-maxsize=0',
        ]),
    ...(opts.apiServerArgs ?? []),
  ];
}

/** admin.kubeconfig (mode 600) with the admin's client certificate; returns its path. */
async function writeAdminKubeconfig(dataDir: string, server: string, tls: TlsMaterial): Promise<string> {
  const adminKubeconfigPath = path.join(dataDir, 'admin.kubeconfig');
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const obj = kubeconfigObject(server, tls.ca, 'admin', {
    'client-certificate-data': b64(tls.cert),
    'client-key-data': b64(tls.key),
  });
  await fsp.writeFile(adminKubeconfigPath, `${JSON.stringify(obj, null, 2)}\n`, { mode: 0o600 });
  return adminKubeconfigPath;
}
