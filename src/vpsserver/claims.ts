// One server, one owner: the pure half of server claims. A claim is a record in the API server
// (src/k8s/claim-store.ts keeps it as a Lease) that says which VpsServer manages a server of
// an account; every replica and shard reads the same record, so they all agree, and it
// survives restarts, kill -9 and leader hand-over. This file decides, without I/O, which
// server a pass needs to own, whether a holder still counts, who may take over, and what a
// refused resource does instead: the table tests are test/unit/vpsserver-claims.test.ts.
import { serverClaimedMessage, serverNotOwnedMessage } from './messages.ts';
import type { Action } from './plan.ts';
import { CREATE_PENDING_ANNOTATION, keyOf, type VpsServer } from './types.ts';

/** A claim as read from the API server. */
export interface Claim {
  accountId: string;
  serverId: number;
  /** `namespace/name` of the VpsServer holding it. */
  holder: string;
  /** metadata.uid of that VpsServer: a new object with the same name is not the holder. */
  holderUid: string;
  /** The claim object's own uid and resourceVersion (preconditions of a take-over or release). */
  uid: string;
  resourceVersion: string;
}

/** What a pass needs from the claim store (the k8s adapter, or a fake in unit tests). */
export interface ClaimPort {
  /** Takes the claim for `vps`, or says who holds it. Never throws for "held by another". */
  acquire(
    accountId: string,
    serverId: number,
    vps: VpsServer,
  ): Promise<{ ok: true } | { ok: false; holder: string }>;
  /** The holder as last seen (cache; may lag by a watch event). */
  holderOf(accountId: string, serverId: number): string | undefined;
  /** Claims `vps` holds (cache). */
  heldBy(uid: string): Claim[];
  /** Deletes the claim if `vps` still holds it (precondition on the claim's uid and resourceVersion). */
  release(claim: Claim): Promise<void>;
}

/** The server a pass must own before it runs `action`, if any. */
export function claimTarget(vps: VpsServer, action: Action): number | undefined {
  if (vps.spec.managementPolicy === 'ObserveOnly') return undefined;
  switch (action.type) {
    // No server is touched or read as ours: nothing to own (yet).
    case 'AddFinalizer':
    case 'RemoveFinalizer':
    case 'Create':
    case 'Stalled':
    case 'ForgetServer':
      return undefined;
    case 'Adopt':
    case 'Delete':
      return action.serverId;
    default:
      // Update/Start/Stop/Reboot/RecordReboot/Wait/Nothing all act on, or report as ours, the
      // managed server: a non-owner must not even report it Ready.
      return vps.status.serverId ?? vps.spec.serverId;
  }
}

/**
 * Whether the holder of a claim still holds it: the object with the claim's uid exists and
 * still names the server (spec.serverId, status.serverId, or a lost create not yet resolved).
 * `holder` is the holder's object as read fresh (undefined: 404).
 */
export function holderStillClaims(claim: Claim, holder: unknown): boolean {
  if (holder === undefined || holder === null || typeof holder !== 'object') return false;
  const o = holder as {
    metadata?: { uid?: string; annotations?: Record<string, string> };
    spec?: { serverId?: unknown };
    status?: { serverId?: unknown };
  };
  if (o.metadata?.uid !== claim.holderUid) return false;
  if (o.spec?.serverId === claim.serverId || o.status?.serverId === claim.serverId) return true;
  const pending = o.metadata?.annotations?.[CREATE_PENDING_ANNOTATION] !== undefined;
  return pending && o.spec?.serverId === undefined && o.status?.serverId === undefined;
}

/**
 * The documented order in which waiting claimants are tried when a claim is freed: oldest
 * creationTimestamp first, then namespace/name. (Across shards, the API server's atomic create
 * decides between processes asking at the same moment; either way there is one owner.)
 */
export function claimantOrder(
  a: { metadata?: { creationTimestamp?: string; namespace?: string; name?: string } },
  b: { metadata?: { creationTimestamp?: string; namespace?: string; name?: string } },
): number {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const ka = `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`;
  const kb = `${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The action a resource refused the claim takes instead: never a provider write. */
export function refusedAction(vps: VpsServer, serverId: number, holder: string): Action {
  if (vps.metadata.deletionTimestamp !== undefined)
    return { type: 'RemoveFinalizer', reason: 'NotOwner', message: serverNotOwnedMessage(serverId, holder) };
  return {
    type: 'Stalled',
    reason: 'ServerClaimed',
    message: serverClaimedMessage(serverId, holder, keyOf(vps)),
  };
}

/** Whether `vps` still names `serverId` (spec, status, or as the result of a lost create). */
export function namesServer(vps: VpsServer, serverId: number): boolean {
  if (vps.spec.serverId === serverId || vps.status.serverId === serverId) return true;
  const pending = vps.metadata.annotations[CREATE_PENDING_ANNOTATION] !== undefined;
  return pending && vps.spec.serverId === undefined && vps.status.serverId === undefined;
}

/** Claims a pass should give back: held by `vps` for servers it no longer names (e.g. it vanished). */
export const claimsToRelease = (vps: VpsServer, held: Claim[]): Claim[] =>
  held.filter((c) => !namesServer(vps, c.serverId));

/** Status message of an ObserveOnly resource whose server another resource manages. */
export const observedClaimNote = (holder: string | undefined, vps: VpsServer): string =>
  holder === undefined || holder === keyOf(vps) ? '' : `; managed by ${holder}`;
