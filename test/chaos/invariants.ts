// The promises of DESIGN.md as checks over the two sources of truth, the API server (every
// VpsServer) and the simulator (every server, every write it carried out): each resource has
// exactly one server, no server exists without a resource unless orphaned on purpose, every
// spec is reached, and no reboot was carried out twice for one rebootRequestedAt value.
// violations() lists what is wrong in words a failing test can print as is.
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { SimServer } from '../../src/simulator/control.ts';
import {
  CREATE_PENDING_ANNOTATION,
  GROUP,
  PLURAL,
  REBOOT_PENDING_ANNOTATION,
  VERSION,
} from '../../src/vpsserver/types.ts';
import { isReady, type OperatorEnv, type VpsObject } from '../support/operator-env.ts';

/** What the test did that the invariants depend on. */
export interface Ledger {
  /** Server ids whose resource was deleted with deletionPolicy Orphan: they may outlive it. */
  orphaned: Set<number>;
  /** Every rebootRequestedAt value ever set, per resource name. */
  reboots: Map<string, Set<string>>;
  /** Which resource each server id has belonged to (filled in as statuses are seen). */
  owners: Map<number, string>;
}

export const newLedger = (): Ledger => ({ orphaned: new Set(), reboots: new Map(), owners: new Map() });

export function noteReboot(ledger: Ledger, name: string, at: string): void {
  const values = ledger.reboots.get(name) ?? new Set<string>();
  values.add(at);
  ledger.reboots.set(name, values);
}

const POWER: Record<string, string> = { Running: 'active', Stopped: 'stopped' };

export async function listResources(env: OperatorEnv): Promise<VpsObject[]> {
  const api = env.admin.makeApiClient(CustomObjectsApi);
  const list = (await api.listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace: env.namespace,
  })) as { items: VpsObject[] };
  return list.items;
}

/** Everything that is not as promised right now; [] when the world has converged correctly. */
export async function violations(
  env: OperatorEnv,
  ledger: Ledger,
  account = 'team',
  /** The account a resource calls with (several accounts in one namespace); default: `account`. */
  accountOf: (r: VpsObject) => string = () => account,
): Promise<string[]> {
  const found: string[] = [];
  const resources = (await listResources(env)).filter((r) => accountOf(r) === account);
  const servers = env.sim.state.servers().filter((s) => s.account === account);
  const byId = new Map(servers.map((s) => [s.id, s]));
  const claimed = new Map<number, string>();

  for (const r of resources) {
    const name = r.metadata?.name ?? '?';
    const spec = r.spec as Record<string, unknown>;
    const id = r.status?.serverId;
    if (r.metadata?.deletionTimestamp !== undefined) found.push(`${name}: still being deleted`);
    if (id === undefined) {
      found.push(`${name}: no serverId in status`);
      continue;
    }
    ledger.owners.set(id, name);
    const other = claimed.get(id);
    if (other !== undefined) found.push(`${name} and ${other} both claim server ${id}`);
    claimed.set(id, name);
    const server = byId.get(id);
    if (server === undefined) {
      found.push(`${name}: server ${id} does not exist at VPS.org`);
      continue;
    }
    found.push(...specMismatches(name, spec, server));
    if (!isReady(r)) found.push(`${name}: not Ready (${JSON.stringify(r.status?.conditions?.[0] ?? {})})`);
    if (r.status?.observedGeneration !== r.metadata?.generation)
      found.push(`${name}: observedGeneration ${r.status?.observedGeneration} ≠ ${r.metadata?.generation}`);
    for (const a of [CREATE_PENDING_ANNOTATION, REBOOT_PENDING_ANNOTATION]) {
      if (r.metadata?.annotations?.[a] !== undefined) found.push(`${name}: annotation ${a} left behind`);
    }
    const reboot = spec.rebootRequestedAt;
    if (reboot !== undefined && r.status?.lastRebootRequestedAt !== reboot)
      found.push(`${name}: reboot ${String(reboot)} not recorded in status`);
  }

  // The leak report must never call a resource's server, or a kept orphan, a leak.
  for (const r of resources) {
    const leaked = (r.status as { leakedServerIds?: number[] } | undefined)?.leakedServerIds ?? [];
    for (const id of leaked) {
      const owner = claimed.get(id);
      if (owner !== undefined || ledger.orphaned.has(id))
        found.push(
          `${r.metadata?.name ?? '?'}: reports server ${id} as leaked, but it is ${owner === undefined ? 'a kept orphan' : `${owner}'s`}`,
        );
    }
  }

  for (const s of servers) {
    if (claimed.has(s.id) || ledger.orphaned.has(s.id)) continue;
    const owner = ledger.owners.get(s.id);
    found.push(
      `server ${s.id} "${s.name}" (${s.status}) belongs to no resource${owner === undefined ? '' : ` (was ${owner}'s)`}: a duplicate or a leak`,
    );
  }

  const reboots = new Map<number, number>();
  for (const w of env.sim.state.writes()) {
    if (w.endpoint === 'reboot' && w.account === account)
      reboots.set(w.serverId, (reboots.get(w.serverId) ?? 0) + 1);
  }
  for (const [id, count] of reboots) {
    const owner = ledger.owners.get(id);
    const allowed = owner === undefined ? 0 : (ledger.reboots.get(owner)?.size ?? 0);
    if (count > allowed)
      found.push(`server ${id} (${owner ?? 'no owner'}) rebooted ${count} times for ${allowed} requested`);
  }
  return found;
}

function specMismatches(name: string, spec: Record<string, unknown>, server: SimServer): string[] {
  const found: string[] = [];
  const want = (field: string, wanted: unknown, got: unknown) => {
    if (wanted !== undefined && wanted !== got)
      found.push(`${name}: ${field} is ${JSON.stringify(got)}, spec wants ${JSON.stringify(wanted)}`);
  };
  want('name', spec.name ?? name, server.name);
  want('hostname', spec.hostname, server.hostname);
  want('plan', spec.planId, server.plan.id);
  want('state', POWER[String(spec.powerState ?? 'Running')], server.status);
  return found;
}

/**
 * Polls until there are no violations, calling `between` (e.g. restart a dead operator) before
 * each look; throws with the violations still present after `timeoutMs`.
 */
export async function converge(
  env: OperatorEnv,
  ledger: Ledger,
  between: () => Promise<unknown>,
  timeoutMs = 45_000,
  check: () => Promise<string[]> = () => violations(env, ledger),
): Promise<number> {
  const started = Date.now();
  let last: string[] = [];
  while (Date.now() - started < timeoutMs) {
    await between();
    last = await check();
    if (last.length === 0) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`not converged after ${timeoutMs} ms:\n  ${last.join('\n  ')}`);
}
