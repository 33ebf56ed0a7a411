// The two markers that make VPS.org's non-idempotent calls crash-safe, each with its whole life
// in this file:
// - set: persisted on the resource BEFORE the call whose answer could be lost (create, reboot),
//   so a crash or a lost answer leaves a trace;
// - proved: plan() reads them (createPendingOf, rebootPendingOf) to adopt the server a lost
//   create made instead of creating another, and never to send a reboot twice for one value;
// - settled after a failed call: cleared at once only when the provider certainly did nothing;
// - cleared once the status that supersedes them is written (status.serverId for create-pending,
//   status.lastRebootRequestedAt equal to the marker for reboot-pending). Never before: a crash
//   between clearing and writing status would repeat the call.
import type { MetadataWriter } from './metadata.ts';
import { patchMetadata } from './metadata.ts';
import { certainlyNotDone, type ProviderFailure } from './provider.ts';
import {
  CREATE_PENDING_ANNOTATION,
  desiredServerName,
  REBOOT_PENDING_ANNOTATION,
  type VpsServer,
  type VpsServerStatus,
} from './types.ts';

export type Marker = typeof CREATE_PENDING_ANNOTATION | typeof REBOOT_PENDING_ANNOTATION;

export interface CreatePending {
  at: number;
  name: string;
}

/** Reads the create-pending marker. A marker that cannot be read is treated as "at the epoch". */
export function createPendingOf(vps: VpsServer): CreatePending | undefined {
  const raw = vps.metadata.annotations[CREATE_PENDING_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const parsed = JSON.parse(raw) as { at?: unknown; name?: unknown };
    const at = typeof parsed.at === 'string' ? Date.parse(parsed.at) : Number.NaN;
    const name = typeof parsed.name === 'string' ? parsed.name : desiredServerName(vps);
    return { at: Number.isNaN(at) ? 0 : at, name };
  } catch {
    return { at: 0, name: desiredServerName(vps) };
  }
}

export const formatCreatePending = (p: CreatePending): string =>
  JSON.stringify({ at: new Date(p.at).toISOString(), name: p.name });

/** The rebootRequestedAt value a reboot was (maybe) sent for and not yet recorded in status. */
export const rebootPendingOf = (vps: VpsServer): string | undefined =>
  vps.metadata.annotations[REBOOT_PENDING_ANNOTATION];

/**
 * Set before POST /servers/: if this write fails, nothing is sent. `finalizer` joins the same
 * write when the resource has none yet, so the server can never exist without it.
 */
export const markCreatePending = (
  writer: MetadataWriter,
  vps: VpsServer,
  p: CreatePending,
  finalizer?: string,
) =>
  patchMetadata(writer, vps, {
    annotations: { [CREATE_PENDING_ANNOTATION]: formatCreatePending(p) },
    ...(finalizer !== undefined &&
      !vps.metadata.finalizers.includes(finalizer) && {
        finalizers: [...vps.metadata.finalizers, finalizer],
      }),
  });

/** Set before POST /servers/{id}/reboot/: at most one reboot per value, even across a crash. */
export const markRebootPending = (writer: MetadataWriter, vps: VpsServer, requestedAt: string) =>
  patchMetadata(writer, vps, { annotations: { [REBOOT_PENDING_ANNOTATION]: requestedAt } });

/**
 * After the marked call failed: only a refusal proves nothing was done, and then the marker
 * goes; otherwise it stays for plan() to resolve from what VPS.org shows next.
 */
export const settleFailedCall = (
  writer: MetadataWriter,
  marked: VpsServer,
  marker: Marker,
  failure: ProviderFailure,
): Promise<VpsServer> =>
  certainlyNotDone(failure) ? clearMarker(writer, marked, marker) : Promise.resolve(marked);

/** The markers that `status`, once written, supersedes on `vps`. */
export function supersededMarkers(vps: VpsServer, status: VpsServerStatus): Marker[] {
  const markers: Marker[] = [];
  if (status.serverId !== undefined && vps.metadata.annotations[CREATE_PENDING_ANNOTATION] !== undefined)
    markers.push(CREATE_PENDING_ANNOTATION);
  const reboot = rebootPendingOf(vps);
  if (reboot !== undefined && status.lastRebootRequestedAt === reboot)
    markers.push(REBOOT_PENDING_ANNOTATION);
  return markers;
}

/**
 * Clears the markers `status` supersedes. Call it with the object the status write returned:
 * with the resourceVersion from before that write, every clear would fail with 409.
 */
export async function clearSupersededMarkers(
  writer: MetadataWriter,
  vps: VpsServer,
  status: VpsServerStatus,
): Promise<VpsServer> {
  let current = vps;
  for (const marker of supersededMarkers(vps, status)) current = await clearMarker(writer, current, marker);
  return current;
}

const clearMarker = (writer: MetadataWriter, vps: VpsServer, marker: Marker): Promise<VpsServer> =>
  vps.metadata.annotations[marker] === undefined
    ? Promise.resolve(vps)
    : patchMetadata(writer, vps, { annotations: { [marker]: null } });
