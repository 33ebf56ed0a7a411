// The leak report (issue 16): a server at VPS.org with the name and shape of a managed resource
// that no resource owns and no claim holds is most likely a create whose resource lost track of
// it (a stale leader's first create, a status write lost before fencing). It is reported on the
// resource that names it (status.leakedServerIds, a Warning Event, vps_leaked_servers); with
// `--leaked-servers=delete` it is deleted once it is older than the grace period. Pure: the
// reconciler gathers the inputs (the account's servers, who owns and claims what) and acts.
//
// Only servers made after the resource count: a create for this resource cannot happen before
// it exists, so an older server of the same name (one an earlier resource kept with
// deletionPolicy Orphan, one made by hand) is never reported, and never deleted. Reports allow
// for the provider's clock being behind ours (clockSkewMs); deletes allow nothing.
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
  /** How far the provider's clock may be behind ours (created_at against creationTimestamp). */
  clockSkewMs: number;
}

export interface LeakDecision {
  /** Servers shaped like `vps`'s that nothing owns, oldest first: status.leakedServerIds. */
  leaked: number[];
  /** Of those, what `--leaked-servers=delete` deletes now (past the grace, never owned or claimed). */
  toDelete: number[];
  /** With policy delete: when the youngest leak still inside its grace becomes deletable. */
  recheckInMs?: number;
}

const NONE: LeakDecision = { leaked: [], toDelete: [] };

export function leakedServers(input: LeakInput): LeakDecision {
  const { vps, now, graceMs, policy } = input;
  const own = managedServerId(vps);
  if (own === undefined || vps.spec.managementPolicy === 'ObserveOnly') return NONE;
  if (vps.metadata.deletionTimestamp !== undefined) return NONE;
  const created = Date.parse(vps.metadata.creationTimestamp ?? '');
  // Without its creation time a resource cannot tell its own duplicates from older servers.
  if (Number.isNaN(created)) return NONE;
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
        s.createdAt >= created - input.clockSkewMs &&
        !input.everOwned(s.id) &&
        !input.everClaimed(s.id),
    )
    .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
  const leaked = found.map((s) => s.id);
  if (policy !== 'delete') return { leaked, toDelete: [] };
  const deletable = found.filter((s) => s.createdAt >= created);
  const toDelete = deletable.filter((s) => now - s.createdAt >= graceMs).map((s) => s.id);
  const waits = deletable.map((s) => graceMs - (now - s.createdAt)).filter((ms) => ms > 0);
  return { leaked, toDelete, ...(waits.length > 0 && { recheckInMs: Math.min(...waits) }) };
}
