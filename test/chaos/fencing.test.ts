// Fencing (issue 16): two replicas with leader election; the leader is PAUSED (SIGSTOP, as a
// frozen VM or a long GC would) at a named crash point or after a random delay, the standby
// takes over and converges, and only then is the old leader woken (SIGCONT). It wakes believing
// it leads, in the middle of a write; the lease guard must refuse every write it would make. The
// two replicas run as different ServiceAccounts so the API server's audit log tells whose writes
// were accepted; the simulator's write log shows every provider write after the wake-up (the new
// leader has converged and makes none). No duplicate server, no lost status.serverId, no second
// reboot, and 0 writes accepted from the woken process.
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, readAuditLog, startControlPlane } from '../../src/devcluster/control-plane.ts';
import { seededRandom } from '../../src/simulator/random.ts';
import type { CrashPoint } from '../../src/vpsserver/crash-points.ts';
import type { OperatorProcess } from '../support/operator-process.ts';
import { converge, type Ledger, listResources, newLedger, noteReboot } from './invariants.ts';
import { recordResults } from './results.ts';
import { type ChaosWorld, startChaosWorld } from './world.ts';

const LONG = process.env.CHAOS_LONG === '1';
const PAUSES: (CrashPoint | 'delay')[] = [
  'before-create',
  'after-create',
  'before-status',
  'after-delete',
  'before-reboot',
  'after-reboot',
  'delay',
];
/** One trial per pause in the short form; 15 rounds of all 7 (105 trials) in the long one. */
const TRIALS = LONG ? PAUSES.length * 15 : PAUSES.length;
const SYSTEM_NS = 'vps-operator-system';
const IDENTITIES = ['vps-operator-a', 'vps-operator-b'];

interface Trial {
  pause: CrashPoint | 'delay';
  tookOverMs: number;
  /** Writes by the woken process that the API server accepted (2xx) / refused. */
  staleAccepted: number;
  staleRefused: number;
  /** Provider writes carried out between the wake-up and the woken process's exit. */
  providerWritesAfterWake: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** A ServiceAccount bound exactly as deploy/rbac.yaml binds the operator's; its kubeconfig path. */
async function operatorIdentity(cp: ControlPlane, name: string): Promise<string> {
  const kubeconfig = await cp.kubeconfigForServiceAccount(SYSTEM_NS, name);
  const rbac = cp.adminKubeConfig.makeApiClient(RbacAuthorizationV1Api);
  const subjects = [{ kind: 'ServiceAccount', name, namespace: SYSTEM_NS }];
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: `fencing-${name}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'vps-operator' },
      subjects,
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: SYSTEM_NS,
    body: {
      metadata: { name: `fencing-${name}` },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'vps-operator-leader-election',
      },
      subjects,
    },
  });
  return kubeconfig.path;
}

describe('a paused leader that wakes after the standby took over', () => {
  let cp: ControlPlane;
  let world: ChaosWorld;
  let kubeconfigs: string[];
  let leaderArgs: string[];
  beforeAll(async () => {
    cp = await startControlPlane({ auditLog: true });
    world = await startChaosWorld({ controlPlane: cp });
    kubeconfigs = await Promise.all(IDENTITIES.map((n) => operatorIdentity(cp, n)));
    leaderArgs = [
      '--leader-elect',
      '--leader-election-namespace',
      SYSTEM_NS,
      '--leader-election-id',
      `fencing-${world.env.namespace}`,
      '--lease-duration',
      '3s',
    ];
  }, 180_000);
  afterAll(async () => {
    await world?.stop();
    await cp?.stop();
  });

  const random = seededRandom(16);

  /** The resources the trial acts on: new ones for a create, Ready ones for a reboot or delete. */
  async function act(i: number, pause: CrashPoint | 'delay', leader: OperatorProcess, ledger: Ledger) {
    const { env } = world;
    const names = [0, 1].map((j) => `fence-${i}-${j}`);
    const creates = pause === 'before-create' || pause === 'after-create' || pause === 'before-status';
    if (!creates && pause !== 'delay') {
      await Promise.all(names.map((n) => env.create(n)));
      await converge(env, ledger, async () => {});
    }
    if (pause === 'delay') setTimeout(() => leader.pause(), Math.round(random() * 600));
    else world.arm(pause, 'pause');
    if (pause === 'after-delete') {
      await Promise.all(names.map((n) => env.remove(n)));
    } else if (pause === 'before-reboot' || pause === 'after-reboot') {
      const at = new Date().toISOString();
      for (const n of names) noteReboot(ledger, n, at);
      await Promise.all(names.map((n) => env.patch(n, { spec: { rebootRequestedAt: at } })));
    } else {
      await Promise.all(names.map((n) => env.create(n)));
    }
  }

  it(
    `writes nothing once woken, in ${TRIALS} trials (no duplicate, no lost serverId, no second reboot)`,
    async () => {
      const { env } = world;
      const ledger = newLedger();
      const trials: Trial[] = [];
      let who = 0;
      let leader = await world.start(leaderArgs, { kubeconfig: kubeconfigs[who] });
      await leader.logged('became leader');
      for (let i = 0; i < TRIALS; i++) {
        const pause = PAUSES[i % PAUSES.length] as CrashPoint | 'delay';
        const standby = await world.start(leaderArgs, { kubeconfig: kubeconfigs[1 - who] });
        await standby.logged('standing by');
        const started = Date.now();
        await act(i, pause, leader, ledger);
        await until(`the leader pausing at ${pause}`, () => leader.stopped(), 30_000);
        // Disarm before the standby leads: it reads the same arming file.
        world.disarm();
        await standby.logged('became leader', 20_000);
        const tookOverMs = Date.now() - started;
        await converge(env, ledger, async () => {});

        const wokeAt = Date.now();
        leader.resume();
        const code = await Promise.race([leader.exited, sleep(20_000).then(() => 'still running')]);
        expect(code, 'the woken leader exits once it finds its lease gone').not.toBe('still running');
        await sleep(300); // the audit log is written before each answer; this covers the last line
        const stale = (await readAuditLog(cp.logs.audit ?? '')).filter(
          (e) =>
            e.user.username === `system:serviceaccount:${SYSTEM_NS}:${IDENTITIES[who]}` &&
            Date.parse(e.requestReceivedTimestamp) >= wokeAt - 50,
        );
        const accepted = stale.filter((e) => (e.responseStatus?.code ?? 0) < 300);
        const providerWrites = env.sim.state.writes().filter((w) => w.at >= wokeAt);
        trials.push({
          pause,
          tookOverMs,
          staleAccepted: accepted.length,
          staleRefused: stale.length - accepted.length,
          providerWritesAfterWake: providerWrites.length,
        });
        expect(
          accepted.map(
            (e) =>
              `${e.verb} ${e.requestURI} -> ${e.responseStatus?.code} at +${Date.parse(e.requestReceivedTimestamp) - wokeAt} ms`,
          ),
          `${pause}: the woken process's last lines:\n${leader.lines.slice(-12).join('\n')}`,
        ).toEqual([]);
        expect(providerWrites).toEqual([]);
        // Nothing the woken process tried erased what the new leader wrote.
        await converge(env, ledger, async () => {}, 10_000);
        leader = standby;
        who = 1 - who;
      }

      const resources = await listResources(env);
      const creates = env.sim.state.writes().filter((w) => w.endpoint === 'create').length;
      const servers = env.sim.state.servers().filter((s) => s.account === 'team').length;
      // Two resources per trial, each created once; the after-delete trials' servers are gone.
      const made = TRIALS * 2;
      expect(creates).toBe(made);
      expect(servers).toBe(resources.length);
      await recordResults(
        'stale leader woken after take-over (fencing)',
        report(trials, creates, made),
        LONG,
      );
    },
    60_000 + TRIALS * 40_000,
  );
});

function report(trials: Trial[], creates: number, resources: number): string {
  const rows = PAUSES.map((p) => {
    const of = trials.filter((t) => t.pause === p);
    const sum = (f: (t: Trial) => number) => of.reduce((n, t) => n + f(t), 0);
    const took = of.map((t) => t.tookOverMs).sort((a, b) => a - b);
    return `| ${p === 'delay' ? 'random delay (0–600 ms)' : p} | ${of.length} | ${took[Math.floor(took.length / 2)] ?? 0} | ${sum((t) => t.staleRefused)} | ${sum((t) => t.staleAccepted)} | ${sum((t) => t.providerWritesAfterWake)} |`;
  });
  const accepted = trials.reduce((n, t) => n + t.staleAccepted + t.providerWritesAfterWake, 0);
  return [
    '| leader paused at | trials | standby leading after p50 (ms) | stale-leader writes refused by the API server | stale-leader writes accepted | provider writes after waking |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Trials: ${trials.length}; stale-leader writes accepted: ${accepted}; duplicates: ${creates - resources} (${creates} creates for ${resources} resources); leaks: 0 (every server at VPS.org belongs to a resource); invariant violations 0.`,
  ].join('\n');
}
