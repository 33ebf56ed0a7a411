// One kill trial: two VpsServers taken through their whole life (create, update and power off,
// power on with a reboot, delete with policies Delete and Orphan) while the operator is killed
// once in one phase: at a named crash point, after a random delay, or right after a create
// whose reply was lost. After every phase the world must converge with no invariant broken.
import type { CrashPoint } from '../../src/vpsserver/crash-points.ts';
import { converge, type Ledger, listResources, noteReboot } from './invariants.ts';
import type { ChaosWorld } from './world.ts';

export const PHASES = ['create', 'update', 'reboot', 'delete'] as const;
export type Phase = (typeof PHASES)[number];

export type Kill =
  | { kind: 'point'; point: CrashPoint }
  | { kind: 'delay'; ms: number }
  /** Every create's reply lost, and the operator killed as soon as the provider made the server. */
  | { kind: 'lostCreate' };

export interface TrialPlan {
  phase: Phase;
  kill: Kill;
}

export interface TrialResult {
  index: number;
  plan: TrialPlan;
  /** Whether the kill happened (a crash point not reached in its phase leaves this false). */
  killed: boolean;
  /** Operator restarts the trial needed. */
  restarts: number;
  /** ms from the start of each phase's changes to convergence. */
  phaseMs: Record<Phase, number>;
}

/** The named points and the phase in which each is reached. */
const POINT_PLANS: TrialPlan[] = [
  { phase: 'create', kill: { kind: 'point', point: 'before-create' } },
  { phase: 'create', kill: { kind: 'point', point: 'after-create' } },
  { phase: 'create', kill: { kind: 'point', point: 'before-status' } },
  { phase: 'update', kill: { kind: 'point', point: 'before-status' } },
  { phase: 'reboot', kill: { kind: 'point', point: 'before-reboot' } },
  { phase: 'reboot', kill: { kind: 'point', point: 'after-reboot' } },
  { phase: 'delete', kill: { kind: 'point', point: 'after-delete' } },
  { phase: 'create', kill: { kind: 'lostCreate' } },
];

/** Trial `i`'s plan: the named points in turn, alternating with random-delay kills in every phase. */
export function planTrial(i: number, random: () => number): TrialPlan {
  if (i % 2 === 0) return POINT_PLANS[(i / 2) % POINT_PLANS.length] as TrialPlan;
  const phase = PHASES[Math.floor(i / 2) % PHASES.length] as Phase;
  // Within the time a phase takes to converge here, so most delays land mid-work.
  const within = phase === 'create' ? 900 : 350;
  return { phase, kill: { kind: 'delay', ms: Math.round(random() * within) } };
}

export async function runTrial(world: ChaosWorld, ledger: Ledger, index: number, plan: TrialPlan) {
  const { env } = world;
  const a = `t${index}-a`;
  const b = `t${index}-b`;
  // A kill from the previous trial's last moment must not eat this trial's arming.
  await world.ensureRunning();
  const deathsBefore = world.deaths;
  const startsBefore = world.processes.length;
  const phaseMs = {} as Record<Phase, number>;
  let killed = false;

  const changes: Record<Phase, () => Promise<void>> = {
    create: async () => {
      await env.create(a, { deletionPolicy: 'Delete' });
      await env.create(b, { deletionPolicy: 'Orphan', name: `srv-${b}`, hostname: `${b}.example.com` });
    },
    update: async () => {
      await env.patch(a, { spec: { name: `${a}-renamed`, powerState: 'Stopped' } });
      await env.patch(b, { spec: { hostname: `${b}-2.example.com` } });
    },
    reboot: async () => {
      const at = new Date().toISOString();
      noteReboot(ledger, a, at);
      noteReboot(ledger, b, at);
      await env.patch(a, { spec: { powerState: 'Running', rebootRequestedAt: at } });
      await env.patch(b, { spec: { rebootRequestedAt: at } });
    },
    delete: async () => {
      const orphan = (await listResources(env)).find((r) => r.metadata?.name === b)?.status?.serverId;
      if (orphan !== undefined) ledger.orphaned.add(orphan);
      await env.remove(a);
      await env.remove(b);
    },
  };

  for (const phase of PHASES) {
    const armed = plan.phase === phase;
    let timer: NodeJS.Timeout | undefined;
    let watcher: Promise<void> | undefined;
    if (armed && plan.kill.kind === 'point') world.arm(plan.kill.point);
    if (armed && plan.kill.kind === 'delay')
      timer = setTimeout(() => {
        killed = true;
        void world.kill();
      }, plan.kill.ms);
    if (armed && plan.kill.kind === 'lostCreate') {
      env.sim.state.setFaults({ lostResponseRate: 1, endpoints: ['create'] });
      watcher = killAfterFirstCreate(world).then((k) => {
        killed = k;
        env.sim.state.setFaults(null);
      });
    }
    const started = Date.now();
    try {
      await changes[phase]();
      phaseMs[phase] = await converge(env, ledger, async () => {
        if (await world.ensureRunning()) killed = true;
      });
    } finally {
      clearTimeout(timer);
      await watcher;
      world.disarm();
    }
    phaseMs[phase] = Date.now() - started;
  }

  // The orphan is the user's now; remove it so later trials start from a clean account.
  for (const id of ledger.orphaned) env.sim.state.deleteServer(id);
  ledger.orphaned.clear();
  const restarts = world.processes.length - startsBefore;
  return {
    index,
    plan,
    killed: killed || world.deaths > deathsBefore,
    restarts,
    phaseMs,
  } satisfies TrialResult;
}

/** Waits for the provider to carry out a create, then kills the operator; false if none came. */
async function killAfterFirstCreate(world: ChaosWorld): Promise<boolean> {
  const creates = () => world.env.sim.state.writes().filter((w) => w.endpoint === 'create').length;
  const before = creates();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (creates() > before) {
      await world.kill();
      return true;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}
