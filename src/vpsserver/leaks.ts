// The leak report's pure half (issue 16, piece 4; not wired into the reconciler yet): a server
// at VPS.org with the name and shape of a managed resource that no resource owns and no claim
// holds is most likely a create whose resource lost track of it (a stale leader's first create,
// a status write lost before fencing). It is reported on the resource that names it; with
// `--leaked-servers=delete` it is deleted once it is older than the grace period, and only
// when nothing has ever owned or claimed it (the caller's memory of owners and claims).
import type { ObservedServer } from './observed.ts';
import { managedServerId } from './plan.ts';
import { desiredServerName, type VpsServer } from './types.ts';

export type LeakPolicy = 'report' | 'delete';

export interface LeakInput {
  /** A managed resource that has its server (status.serverId). */
  vps: VpsServer;
  /** The account's servers as last observed. */
  servers: Iterable<ObservedServer>;
  /** True when a resource owns `id` now or has owned it since this process started. */
  everOwned: (id: number) => boolean;
  /** True when a claim names `id` now or has named it since this process started. */
  everClaimed: (id: number) => boolean;
  now: number;
  graceMs: number;
  policy: LeakPolicy;
}

export interface LeakDecision {
  /** Servers shaped like `vps`'s that nothing owns, oldest first: status.leakedServerIds. */
  leaked: number[];
  /** Of those, what `--leaked-servers=delete` deletes now (past the grace, never owned or claimed). */
  toDelete: number[];
}

export function leakedServers(input: LeakInput): LeakDecision {
  const { vps, now, graceMs, policy } = input;
  const own = managedServerId(vps);
  if (own === undefined || vps.spec.managementPolicy === 'ObserveOnly') return { leaked: [], toDelete: [] };
  const name = desiredServerName(vps);
  const found = [...input.servers]
    .filter(
      (s) =>
        s.id !== own &&
        !s.deleteRequested &&
        s.name === name &&
        s.location === vps.spec.location &&
        s.plan.id === vps.spec.planId &&
        s.os.id === vps.spec.osId &&
        !input.everOwned(s.id) &&
        !input.everClaimed(s.id),
    )
    .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
  const leaked = found.map((s) => s.id);
  const toDelete =
    policy === 'delete' ? found.filter((s) => now - s.createdAt >= graceMs).map((s) => s.id) : [];
  return { leaked, toDelete };
}
