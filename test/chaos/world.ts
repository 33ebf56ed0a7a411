// The world a chaos trial runs in: a namespace on a real API server, the simulator in this
// process (so the test can read its servers and write log directly), and the operator as child
// processes that can be killed with SIGKILL at any moment, armed at named crash points through
// a file, and restarted. Every line any operator process wrote is kept for the token sweep.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlaneClient } from '../../src/devcluster/control-plane.ts';
import type { CrashPoint } from '../../src/vpsserver/crash-points.ts';
import { type EnvOptions, type OperatorEnv, startEnv, testOperatorFlags } from '../support/operator-env.ts';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.ts';

export interface ChaosWorld {
  env: OperatorEnv;
  /** The operator process started last (the leader's, for two replicas: see `replicas`). */
  readonly operator: OperatorProcess | undefined;
  /** Every operator process started, dead or alive, in order. */
  readonly processes: OperatorProcess[];
  /** Operator processes that died of SIGKILL (crash points and test kills). */
  readonly deaths: number;
  /** Arms the running operator: it kills (or, with `pause`, stops) itself at the first `point` it reaches. */
  arm(point: CrashPoint, how?: 'kill' | 'pause'): void;
  disarm(): void;
  /** Starts one operator process (as another identity: `kubeconfig`) and waits until its caches are synced. */
  start(extraArgs?: string[], options?: { kubeconfig?: string }): Promise<OperatorProcess>;
  /** If the operator died, disarms and starts a new one; true when it had to. */
  ensureRunning(): Promise<boolean>;
  /** SIGKILL to the current operator, as `kill -9`. */
  kill(): Promise<void>;
  /** Every line every operator process wrote. */
  allLines(): string[];
  stop(): Promise<void>;
}

export interface ChaosWorldOptions extends EnvOptions {
  /** Flags added to every operator process. */
  operatorArgs?: string[];
  controlPlane?: ControlPlaneClient;
}

export async function startChaosWorld(options: ChaosWorldOptions = {}): Promise<ChaosWorld> {
  const env = await startEnv({ ...options, noOperator: true });
  const kubeconfig = (await env.cp.kubeconfigForServiceAccount('vps-operator-system', 'vps-operator')).path;
  const dir = mkdtempSync(join(tmpdir(), 'vps-chaos-'));
  const armFile = join(dir, 'crash-points');
  writeFileSync(armFile, '');
  const processes: OperatorProcess[] = [];
  let current: OperatorProcess | undefined;
  let deaths = 0;

  const args = (extra: string[], asIdentity = kubeconfig) => [
    'run',
    '--kubeconfig',
    asIdentity,
    ...testOperatorFlags(env.namespace, env.sim.apiBaseUrl),
    // Hung requests (provider-faults) must give up quickly.
    '--request-timeout',
    '1s',
    ...(options.operatorArgs ?? []),
    ...extra,
  ];

  const world: ChaosWorld = {
    env,
    get operator() {
      return current;
    },
    processes,
    get deaths() {
      return deaths;
    },
    arm(point, how = 'kill') {
      writeFileSync(armFile, `${point}:1:${how}`);
    },
    disarm() {
      writeFileSync(armFile, '');
    },
    async start(extra = [], options = {}) {
      const p = startOperatorProcess(args(extra, options.kubeconfig), {
        VPS_OPERATOR_CRASH_POINTS_FILE: armFile,
      });
      processes.push(p);
      void p.exited.then(() => {
        if (p.child.signalCode === 'SIGKILL') deaths++;
      });
      current = p;
      // 90 s, not 30: `node src/cli/main.ts` loads src/ and client-node before its first line, and
      // in a loaded make test (load 30 on 2 cores) that alone once took more than 30 s.
      await p.logged('caches synced', 90_000);
      return p;
    },
    async ensureRunning() {
      if (current?.running() ?? false) return false;
      await current?.exited;
      world.disarm();
      await world.start();
      return true;
    },
    async kill() {
      await current?.kill();
    },
    allLines: () => processes.flatMap((p) => p.lines),
    async stop() {
      await Promise.all(processes.map((p) => p.kill()));
      await env.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}
