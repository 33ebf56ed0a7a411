// The benchmark's world, shared by every scenario: a real control plane prepared as a user
// would (CRD via kubectl, deploy/rbac.yaml, the operator's ServiceAccount), one namespace of
// VpsServers, the VPS.org simulator in this process (so its request times share our clock),
// the operator as a child process (`vps-operator run`, as deployed; its RSS is readable and
// its CPU is not ours), a watch that timestamps every Ready and every deletion, and bulk
// create/patch/delete with bounded concurrency. Everything started here is stopped by stop(),
// and child processes are killed if this process exits first.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import pino from 'pino';
import type { ControlPlaneClient } from '../src/devcluster/control-plane.ts';
import { Informer, KubeListWatch } from '../src/runtime/index.ts';
import { type RunningSimulator, startSimulator } from '../src/simulator/simulator.ts';
import type { SimulatorStats } from '../src/simulator/stats.ts';
import { GROUP, PLURAL, VERSION } from '../src/vpsserver/types.ts';
import { installOperatorApis, operatorServiceAccount } from '../test/support/cluster.ts';

const REPO = new URL('../', import.meta.url).pathname;
/** The operator as the image runs it: src/ bundled by `make build` (build.ts). */
export const COMPILED_CLI = path.join(REPO, 'dist/cli.js');
const SOURCE_CLI = path.join(REPO, 'src/cli/main.ts');
const EXIT_WITH_PARENT = path.join(REPO, 'bench/exit-with-parent.js');
export const TOKEN = 'bench-token-5d1e8a7c';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Milliseconds on one monotonic clock shared by the bench and the in-process simulator. */
export const now = (): number => performance.now();

export interface VpsObject extends KubernetesObject {
  spec: Record<string, unknown>;
  status?: { serverId?: number; conditions?: { type: string; status: string }[] };
}
export const isReady = (o: VpsObject | undefined): boolean =>
  o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

// ---------------------------------------------------------------------------------------------
// cluster preparation (once per control plane)

/** Applies the CRD and RBAC as deploy/ has them; returns the operator ServiceAccount's kubeconfig path. */
export async function prepareCluster(cp: ControlPlaneClient): Promise<string> {
  await installOperatorApis(cp);
  return (await operatorServiceAccount(cp)).path;
}

// ---------------------------------------------------------------------------------------------
// the simulator, with arrival times of provider requests

export interface Arrival {
  method: string;
  path: string;
  endpoint: string | undefined;
  status: number | undefined;
  /** now() when the request reached the simulator */
  at: number;
}

export interface BenchSimulator {
  sim: RunningSimulator;
  /** Records every provider request's arrival until the returned function is called. */
  recordArrivals(onArrival: (a: Arrival) => void): () => void;
  stats(): SimulatorStats;
  resetStats(): void;
  setRate(perSecond: number | null): void;
}

export async function startBenchSimulator(options: {
  ratePerSecond: number | null;
  timeScale: number;
  provisioningSeconds: number;
  pageSize?: number;
  seed?: number;
}): Promise<BenchSimulator> {
  let listener: ((a: Arrival) => void) | undefined;
  // The simulator logs one line per request when it has answered, with its duration: the
  // arrival is the log time minus that duration, on this process's monotonic clock.
  const logger = pino(
    { level: 'silent', base: null, timestamp: false },
    {
      write(line: string) {
        const at = now();
        if (listener === undefined) return;
        const r = JSON.parse(line) as {
          method: string;
          path: string;
          durationMs: number;
          endpoint?: string;
          status?: number;
        };
        listener({
          method: r.method,
          path: r.path,
          endpoint: r.endpoint,
          status: r.status,
          at: at - r.durationMs,
        });
      },
    },
  );
  const rate = (perSecond: number | null) =>
    perSecond === null ? null : { requests: perSecond, perMs: 1000 };
  const sim = await startSimulator({
    accounts: [{ name: 'bench', token: TOKEN, credits: 1e12 }],
    timeScale: options.timeScale,
    provisioningSeconds: { min: options.provisioningSeconds, max: options.provisioningSeconds },
    rateLimit: rate(options.ratePerSecond),
    pageSize: options.pageSize ?? 100,
    seed: options.seed ?? 9,
    logger,
  });
  return {
    sim,
    recordArrivals(onArrival) {
      listener = onArrival;
      logger.level = 'info';
      return () => {
        listener = undefined;
        logger.level = 'silent';
      };
    },
    stats: () => sim.state.stats(),
    resetStats: () => sim.state.resetStats(),
    setRate: (perSecond) => sim.state.setRateLimit(rate(perSecond)),
  };
}

/** Provider calls that change something (everything but list and get). */
export function writeCalls(stats: SimulatorStats): number {
  const { list: _list, get: _get, ...writes } = stats.calls;
  return Object.values(writes).reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------------------------------------
// the operator as a child process

export interface OperatorSettings {
  /** --api-rate, calls per second */
  apiRatePerSecond: number;
  /** extra flags (time-based settings of a scaled run, etc.) */
  extraArgs?: string[];
  /** write a V8 CPU profile into this directory when the process exits */
  cpuProfDir?: string;
  /** Node/V8 flags placed before the script, e.g. --max-old-space-size=160 */
  nodeOptions?: string[];
  /** @default src/cli/main.ts */
  cli?: string;
  env?: Record<string, string>;
  /** called with every line the process logs */
  onLine?: (line: string) => void;
}

export interface OperatorProcess {
  readonly pid: number;
  readonly startedAt: number;
  /** now() when the log said "caches synced" */
  readonly cachesSyncedAt: Promise<number>;
  /** VmRSS and VmHWM (peak) in MiB, from /proc/<pid>/status */
  memory(): { rssMiB: number; peakMiB: number };
  /** sum of controller_runtime_reconcile_total over results */
  reconciles(): Promise<number>;
  /** SIGTERM, then SIGKILL after 20 s; resolves when it has exited */
  stop(): Promise<void>;
  /** SIGKILL (a shard that dies); resolves when it has exited */
  kill(): Promise<void>;
}

const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of liveChildren) c.kill('SIGKILL');
});

async function spawnOperator(
  kubeconfig: string,
  namespace: string,
  apiUrl: string,
  settings: OperatorSettings,
  logFile: string,
): Promise<OperatorProcess> {
  const nodeArgs = [...(settings.nodeOptions ?? []), '--import', EXIT_WITH_PARENT];
  if (settings.cpuProfDir !== undefined) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${settings.cpuProfDir}`);
  const args = [
    ...nodeArgs,
    settings.cli ?? SOURCE_CLI,
    'run',
    '--kubeconfig',
    kubeconfig,
    '--namespaces',
    namespace,
    '--default-credentials-secret',
    `${namespace}/vps-token`,
    '--api-url',
    apiUrl,
    '--api-rate',
    `${settings.apiRatePerSecond}/s`,
    '--metrics-bind-address',
    '127.0.0.1:0',
    '--health-probe-bind-address',
    '0',
    '--shutdown-grace-period',
    '5s',
    ...(settings.extraArgs ?? []),
  ];
  const startedAt = now();
  const log = fs.openSync(logFile, 'a');
  fs.writeSync(log, `\n=== ${new Date().toISOString()} node ${args.join(' ')}\n`);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...settings.env, KUBECONFIG: '' },
  });
  liveChildren.add(child);
  const exited = once(child, 'exit').then(() => {
    liveChildren.delete(child);
    fs.closeSync(log);
  });
  const synced = Promise.withResolvers<number>();
  const metricsPort = Promise.withResolvers<number>();
  let partial = '';
  const onData = (chunk: Buffer): void => {
    fs.writeSync(log, chunk);
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      settings.onLine?.(line);
      if (line.includes('"caches synced"')) synced.resolve(now());
      else if (line.includes('"serving /metrics"'))
        metricsPort.resolve((JSON.parse(line) as { port: number }).port);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  void exited.then(() => {
    const err = new Error(`operator exited early (code ${child.exitCode}); log: ${logFile}`);
    synced.reject(err);
    metricsPort.reject(err);
  });
  synced.promise.catch(() => {});
  const port = await metricsPort.promise;

  const readStatus = (field: string): number => {
    try {
      const text = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
      return m === null ? 0 : Number(m[1]) / 1024;
    } catch {
      return 0;
    }
  };
  return {
    pid: child.pid ?? 0,
    startedAt,
    cachesSyncedAt: synced.promise,
    memory: () => ({ rssMiB: readStatus('VmRSS'), peakMiB: readStatus('VmHWM') }),
    async reconciles() {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      let total = 0;
      for (const m of text.matchAll(/^controller_runtime_reconcile_total\{[^}]*\} (\d+)/gm))
        total += Number(m[1]);
      return total;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the world

export interface WorldOptions {
  cp: ControlPlaneClient;
  /** the operator ServiceAccount's kubeconfig (prepareCluster) */
  operatorKubeconfig: string;
  /** the provider's physical limit R, requests per second */
  ratePerSecond: number;
  /** how much faster the simulator's clock runs than wall time */
  timeScale: number;
  /** simulated seconds from create to active (fixed, so the lower bound is exact) */
  provisioningSeconds: number;
  /** servers per page of GET /servers/ */
  pageSize: number;
  /** where the operator's logs (and profiles) go */
  outDir: string;
  cpuProf?: boolean;
  /** Node/V8 flags for the operator processes, as a container's NODE_OPTIONS would give them */
  nodeOptions?: string[];
  /** the operator's entry point: COMPILED_CLI (what ships) or, by default, src/cli/main.ts */
  cli?: string;
  /** extra environment of the operator processes (the Deployment's, e.g. MALLOC_ARENA_MAX) */
  operatorEnv?: Record<string, string>;
}

export interface World extends AsyncDisposable {
  readonly namespace: string;
  readonly options: WorldOptions;
  readonly simulator: BenchSimulator;
  readonly operator: OperatorProcess | undefined;
  readonly logFile: string;
  /** Stops any running operator and starts one with these settings. */
  restartOperator(settings: OperatorSettings): Promise<OperatorProcess>;
  /** Starts one more operator beside any running one (a shard); stopOperator stops it too. */
  startShard(settings: OperatorSettings): Promise<OperatorProcess>;
  stopOperator(): Promise<void>;
  /** Creates VpsServers bench-00000… (20 requests in flight); returns their names. */
  createMany(from: number, count: number): Promise<string[]>;
  /** JSON merge patch of one VpsServer. */
  patch(name: string, body: Record<string, unknown>): Promise<void>;
  /**
   * Deletes every VpsServer of the namespace as `kubectl delete vps --all` does: one DELETE per
   * object (20 in flight). Not one DELETE collection: at 10,000 objects that single request
   * outlasts the API server's 60 s request timeout (504).
   */
  deleteAll(): Promise<void>;
  /** The watched objects (bench-side informer cache). */
  objects(): VpsObject[];
  readyCount(): number;
  /** now() when each object first became Ready / disappeared */
  readyAt: Map<string, number>;
  goneAt: Map<string, number>;
  /** Polls `check` every 50 ms until true; fails with `what` and the progress after `timeoutMs`. */
  waitUntil(check: () => boolean, what: string, timeoutMs: number, progress?: () => string): Promise<void>;
  stop(): Promise<void>;
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const { cp } = options;
  const admin: KubeConfig = cp.adminKubeConfig;
  const namespace = await cp.createNamespace('bench');
  const core = admin.makeApiClient(CoreV1Api);
  const custom = admin.makeApiClient(CustomObjectsApi);
  const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace };
  await fsp.mkdir(options.outDir, { recursive: true });
  const logFile = path.join(options.outDir, `operator-${namespace}.log`);

  const simulator = await startBenchSimulator({
    ratePerSecond: options.ratePerSecond,
    timeScale: options.timeScale,
    provisioningSeconds: options.provisioningSeconds,
    pageSize: options.pageSize,
  });
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'vps-token' }, stringData: { token: TOKEN } },
  });

  const readyAt = new Map<string, number>();
  const goneAt = new Map<string, number>();
  const informer = new Informer<VpsObject>({
    listWatch: new KubeListWatch<VpsObject>({
      kubeConfig: admin,
      path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    }),
    logger: pino({ level: 'silent' }),
    resyncPeriodMs: 0,
  });
  const keyOf = (o: VpsObject) => o.metadata?.name ?? '';
  const seen = (o: VpsObject): void => {
    if (isReady(o) && !readyAt.has(keyOf(o))) readyAt.set(keyOf(o), now());
  };
  informer.addEventHandler({
    onAdd: seen,
    onUpdate: (_old, o) => seen(o),
    onDelete: (o) => goneAt.set(keyOf(o), now()),
  });
  informer.start();
  await informer.waitForCacheSync();

  let operator: OperatorProcess | undefined;
  const shards = new Set<OperatorProcess>();
  const spawn = (settings: OperatorSettings) =>
    spawnOperator(
      options.operatorKubeconfig,
      namespace,
      simulator.sim.apiBaseUrl,
      {
        ...settings,
        ...(options.cpuProf && { cpuProfDir: path.join(options.outDir, 'profiles') }),
        ...(options.nodeOptions !== undefined && { nodeOptions: options.nodeOptions }),
        ...(options.cli !== undefined && { cli: options.cli }),
        ...(options.operatorEnv !== undefined && { env: options.operatorEnv }),
      },
      logFile,
    );
  const world: World = {
    namespace,
    options,
    simulator,
    get operator() {
      return operator;
    },
    logFile,
    async restartOperator(settings) {
      await world.stopOperator();
      operator = await spawn(settings);
      return operator;
    },
    async startShard(settings) {
      const shard = await spawn(settings);
      shards.add(shard);
      return shard;
    },
    async stopOperator() {
      await Promise.all([operator?.stop(), ...[...shards].map((p) => p.stop())]);
      shards.clear();
      operator = undefined;
    },
    async createMany(from, count) {
      const names = Array.from({ length: count }, (_, i) => `bench-${String(from + i).padStart(5, '0')}`);
      await inParallel(names, 20, async (name) => {
        const body = {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'VpsServer',
          metadata: { name },
          spec: { planId: 1, osId: 5, location: 'us-west' },
        };
        await custom.createNamespacedCustomObject({ ...ref, body });
      });
      return names;
    },
    async patch(name, body) {
      await custom.patchNamespacedCustomObject({ ...ref, name, body }, MERGE);
    },
    async deleteAll() {
      const names = informer.list().map((o) => o.metadata?.name ?? '');
      await inParallel(names, 20, async (name) => {
        await custom.deleteNamespacedCustomObject({ ...ref, name }).catch((err: unknown) => {
          if ((err as { code?: number }).code !== 404) throw err;
        });
      });
    },
    objects: () => informer.list(),
    readyCount: () => {
      let n = 0;
      for (const o of informer.list()) if (isReady(o)) n++;
      return n;
    },
    readyAt,
    goneAt,
    async waitUntil(check, what, timeoutMs, progress) {
      const deadline = now() + timeoutMs;
      while (!check()) {
        if (now() > deadline)
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}${progress ? ` (${progress()})` : ''}`,
          );
        await sleep(50);
      }
    },
    async stop() {
      await world.stopOperator().catch(() => {});
      await informer.stop();
      await simulator.sim.close();
      // Objects still carrying the finalizer would keep the namespace Terminating: let them go.
      for (const o of informer.list()) {
        if ((o.metadata?.finalizers?.length ?? 0) === 0) continue;
        await custom
          .patchNamespacedCustomObject(
            { ...ref, name: keyOf(o), body: { metadata: { finalizers: null } } },
            MERGE,
          )
          .catch(() => {});
      }
      await core.deleteNamespace({ name: namespace }).catch(() => {});
    },
    [Symbol.asyncDispose]: () => world.stop(),
  };
  return world;
}

/** Runs `fn` over `items` with at most `limit` in flight; fails with the first error. */
export async function inParallel<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * A synchronous check over an async counter for World.waitUntil: polls `read` in the background
 * and is true once it has returned at least `atLeast`.
 */
export function counterAtLeast(read: () => Promise<number>, atLeast: number): () => boolean {
  let value = 0;
  let inFlight = false;
  return () => {
    if (!inFlight) {
      inFlight = true;
      read()
        .then((v) => {
          value = v;
        })
        .catch(() => {})
        .finally(() => {
          inFlight = false;
        });
    }
    return value >= atLeast;
  };
}
