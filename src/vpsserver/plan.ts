// plan(): the whole decision of one reconcile pass as a pure function of the resource and what
// was observed at VPS.org. No I/O, no clock (now is an input), so every rule of docs/design.md's
// "Reconcile semantics" is a row of a table test (test/unit/vpsserver-plan.test.ts). The pass
// acts on the one action returned, then observes again: at most one provider write per pass.
import type { CreateServerRequest, PatchServerRequest } from '../vpsorg/index.ts';
import { createPendingOf, rebootPendingOf } from './markers.ts';
import {
  adoptionMismatchMessage,
  observedServerGoneMessage,
  pausedMessage,
  serverNotFoundMessage,
  suspendedMessage,
  unknownStateMessage,
} from './messages.ts';
import {
  type CredentialsCheck,
  type Observation,
  type ObservedServer,
  type StallMemory,
  TRANSITIONAL_STATES,
} from './observed.ts';
import { desiredServerName, FINALIZER, PAUSED_ANNOTATION, type VpsServer } from './types.ts';

/** Why a resource is at rest or waiting; becomes the Ready condition's reason. */
export type RestReason =
  | 'Available'
  | 'Stopped'
  | 'Suspended'
  | 'Paused'
  | 'Observed'
  | 'ServerNotFound'
  | 'UnknownState'
  | 'Deleting'
  | 'Provisioning'
  | 'Transitioning'
  | 'Creating'
  | 'Reconciling'
  | 'Stalled';

export type Action =
  | { type: 'AddFinalizer' }
  | { type: 'RemoveFinalizer'; reason: string; message?: string }
  /**
   * `addFinalizer`: the resource has no finalizer yet, and it goes on in the same write as the
   * create-pending marker, before the call (one write, one watch event and one pass less than
   * adding it first: the start-up ramp of issue 17).
   */
  | { type: 'Create'; request: CreateServerRequest; addFinalizer?: true }
  | { type: 'Adopt'; serverId: number; reason: 'SpecServerId' | 'LostCreateResponse' }
  | { type: 'Update'; serverId: number; changes: PatchServerRequest }
  | { type: 'Start'; serverId: number }
  | { type: 'Stop'; serverId: number }
  | { type: 'Reboot'; serverId: number; requestedAt: string }
  | { type: 'RecordReboot'; requestedAt: string; outcome: 'Done' | 'Skipped' | 'Unknown' }
  | { type: 'Delete'; serverId: number }
  | { type: 'ForgetServer'; serverId: number }
  | { type: 'Wait'; ms: number; reason: RestReason; message: string }
  | { type: 'Nothing'; reason: RestReason; message: string }
  | { type: 'Stalled'; reason: string; message: string };

/** Actions that call VPS.org: only these go through the provider call budget. */
export const PROVIDER_WRITES: ReadonlySet<Action['type']> = new Set([
  'Create',
  'Update',
  'Start',
  'Stop',
  'Reboot',
  'Delete',
]);

export interface PlanTimings {
  /** How long to wait before looking again at a server in a transitional state. */
  transitionalWaitMs: number;
  /**
   * How long after a create-pending marker a list must have been taken before "the server is
   * not in the list" proves that the lost create made nothing: the create request's timeout
   * plus a margin.
   */
  createProofMs: number;
  /** Tolerated difference between the provider's clock and ours when matching created_at. */
  clockSkewMs: number;
  /** How often a resource Stalled on ServerNotFound asks again. @default 5 min */
  notFoundRecheckMs?: number;
}

export const DEFAULT_TIMINGS: PlanTimings = {
  transitionalWaitMs: 5_000,
  createProofMs: 20_000,
  clockSkewMs: 300_000,
};

export interface PlanInput {
  vps: VpsServer;
  credentials: CredentialsCheck;
  observed: Observation;
  /** The last terminal refusal still in force (same generation and credentials), if any. */
  stall?: StallMemory;
  timings?: PlanTimings;
}

/** The server id this resource manages, if it knows one. */
export const managedServerId = (vps: VpsServer): number | undefined =>
  vps.status.serverId ?? vps.spec.serverId;

const isPaused = (vps: VpsServer) => vps.metadata.annotations[PAUSED_ANNOTATION] === 'true';

export function plan(input: PlanInput): Action {
  const { vps, credentials, observed } = input;
  const timings = input.timings ?? DEFAULT_TIMINGS;
  const hasFinalizer = vps.metadata.finalizers.includes(FINALIZER);
  const observeOnly = vps.spec.managementPolicy === 'ObserveOnly';

  // Deletion comes first: once the user deleted the resource, nothing else matters.
  if (vps.metadata.deletionTimestamp !== undefined) {
    if (!hasFinalizer)
      return {
        type: 'Nothing',
        reason: 'Deleting',
        message: 'Waiting for Kubernetes to remove the resource',
      };
    return planDeletion(input, timings);
  }

  // ObserveOnly never deletes, so it needs no finalizer; everything else does, before any create,
  // so that a server can never exist without the finalizer that cleans it up.
  // When the next step is the create, the finalizer rides in on the marker's write (still
  // before the call); any other step waits for a pass with the finalizer in place.
  if (!hasFinalizer && !observeOnly) {
    const next = plan({
      ...input,
      vps: { ...vps, metadata: { ...vps.metadata, finalizers: [...vps.metadata.finalizers, FINALIZER] } },
    });
    return next.type === 'Create' ? { ...next, addFinalizer: true } : { type: 'AddFinalizer' };
  }

  if (!credentials.ok) return { type: 'Stalled', reason: credentials.reason, message: credentials.message };

  // A refusal only a human can fix is not retried until the spec or the credentials change.
  if (input.stall !== undefined)
    return { type: 'Stalled', reason: input.stall.reason, message: input.stall.message };

  const serverId = managedServerId(vps);
  if (serverId === undefined) return planWithoutServer(input, timings);

  const server = observed.server;
  if (server === undefined) return planLostServer(vps, serverId);

  // Adoption through spec.serverId: check that it is the server the spec describes.
  if (vps.status.serverId === undefined) {
    const mismatch = adoptionMismatch(vps, server);
    if (mismatch !== undefined) return { type: 'Stalled', reason: 'AdoptionMismatch', message: mismatch };
    return { type: 'Adopt', serverId, reason: 'SpecServerId' };
  }

  if (observeOnly) return restingState(vps, server, 'Observed');
  if (isPaused(vps)) {
    return {
      type: 'Nothing',
      reason: 'Paused',
      message: pausedMessage('no changes are sent to VPS.org while it is "true"'),
    };
  }
  if (server.deleteRequested) {
    return {
      type: 'Wait',
      ms: timings.transitionalWaitMs,
      reason: 'Deleting',
      message: `Server ${server.id} is being deleted`,
    };
  }
  if (TRANSITIONAL_STATES.has(server.state)) {
    return {
      type: 'Wait',
      ms: timings.transitionalWaitMs,
      reason: server.state === 'provisioning' ? 'Provisioning' : 'Transitioning',
      message: `Server ${server.id} is ${server.state}`,
    };
  }
  if (server.state === 'suspended') {
    return {
      type: 'Nothing',
      reason: 'Suspended',
      message: suspendedMessage(server.id),
    };
  }
  if (server.state !== 'active' && server.state !== 'stopped') {
    return {
      type: 'Wait',
      ms: timings.transitionalWaitMs * 6,
      reason: 'UnknownState',
      message: unknownStateMessage(server.id, server.state, timings.transitionalWaitMs * 6),
    };
  }
  return planSteadyServer(vps, server);
}

function planDeletion(input: PlanInput, timings: PlanTimings): Action {
  const { vps, credentials, observed } = input;
  if (vps.spec.deletionPolicy === 'Orphan' || vps.spec.managementPolicy === 'ObserveOnly') {
    return { type: 'RemoveFinalizer', reason: 'Orphaned' };
  }
  // Only a server this resource adopted or created is deleted with it: naming one in
  // spec.serverId is not enough (a refused or never-finished adoption must not destroy it).
  const serverId = vps.status.serverId;
  const pending = vps.spec.serverId === undefined ? createPendingOf(vps) : undefined;
  if (serverId === undefined && pending === undefined)
    return {
      type: 'RemoveFinalizer',
      reason: vps.spec.serverId === undefined ? 'NeverCreated' : 'NeverAdopted',
    };
  if (isPaused(vps)) {
    return {
      type: 'Nothing',
      reason: 'Paused',
      message: pausedMessage('the server is not deleted while it is "true"'),
    };
  }
  if (!credentials.ok) return { type: 'Stalled', reason: credentials.reason, message: credentials.message };

  if (serverId === undefined) {
    // A create may have happened whose answer was lost: find it and delete it, or prove none exists.
    const found = oldest(observed.candidates);
    if (found !== undefined) return { type: 'Delete', serverId: found.id };
    if (pending !== undefined && observed.snapshotAt < pending.at + timings.createProofMs) {
      return {
        type: 'Wait',
        ms: timings.transitionalWaitMs,
        reason: 'Deleting',
        message: 'Making sure an interrupted create left no server behind',
      };
    }
    return { type: 'RemoveFinalizer', reason: 'NeverCreated' };
  }
  const server = observed.server;
  if (server === undefined) return { type: 'RemoveFinalizer', reason: 'Deleted' };
  if (server.deleteRequested || TRANSITIONAL_STATES.has(server.state)) {
    return {
      type: 'Wait',
      ms: timings.transitionalWaitMs,
      reason: 'Deleting',
      message: `Server ${server.id} is ${server.deleteRequested ? 'being deleted' : server.state}`,
    };
  }
  return { type: 'Delete', serverId: server.id };
}

function planWithoutServer(input: PlanInput, timings: PlanTimings): Action {
  const { vps, observed } = input;
  if (isPaused(vps)) {
    return {
      type: 'Nothing',
      reason: 'Paused',
      message: pausedMessage('the server is not created while it is "true"'),
    };
  }
  const pending = createPendingOf(vps);
  if (pending !== undefined) {
    // The last create's outcome is unknown (crash, or its answer was lost). Adopt what it made;
    // create again only once a list taken long enough after it proves it made nothing.
    const found = oldest(observed.candidates);
    if (found !== undefined) return { type: 'Adopt', serverId: found.id, reason: 'LostCreateResponse' };
    if (observed.snapshotAt < pending.at + timings.createProofMs) {
      return {
        type: 'Wait',
        ms: timings.transitionalWaitMs,
        reason: 'Creating',
        message: 'Checking whether an interrupted create made a server',
      };
    }
  }
  return { type: 'Create', request: createRequestOf(vps) };
}

function planLostServer(vps: VpsServer, serverId: number): Action {
  if (vps.spec.serverId !== undefined) {
    return {
      type: 'Stalled',
      reason: 'ServerNotFound',
      message: serverNotFoundMessage(serverId),
    };
  }
  if (vps.spec.managementPolicy === 'ObserveOnly') {
    return {
      type: 'Nothing',
      reason: 'ServerNotFound',
      message: observedServerGoneMessage(serverId),
    };
  }
  if (isPaused(vps)) {
    return {
      type: 'Nothing',
      reason: 'Paused',
      message: pausedMessage(
        `server ${serverId} no longer exists at VPS.org; it is not recreated while paused`,
      ),
    };
  }
  // Deleted outside Kubernetes: forget it (with a Warning event) so the next pass recreates it.
  return { type: 'ForgetServer', serverId };
}

function planSteadyServer(vps: VpsServer, server: ObservedServer): Action {
  const changes = driftedFields(vps, server);
  if (changes !== undefined) return { type: 'Update', serverId: server.id, changes };

  const wantRunning = vps.spec.powerState === 'Running';
  if (wantRunning && server.state === 'stopped') return { type: 'Start', serverId: server.id };
  if (!wantRunning && server.state === 'active') return { type: 'Stop', serverId: server.id };

  const reboot = vps.spec.rebootRequestedAt;
  if (reboot !== undefined && reboot !== vps.status.lastRebootRequestedAt) {
    // A reboot whose request went out but whose answer never came is not sent twice.
    if (rebootPendingOf(vps) === reboot) {
      return { type: 'RecordReboot', requestedAt: reboot, outcome: 'Unknown' };
    }
    if (!wantRunning) return { type: 'RecordReboot', requestedAt: reboot, outcome: 'Skipped' };
    return { type: 'Reboot', serverId: server.id, requestedAt: reboot };
  }
  return restingState(vps, server, wantRunning ? 'Available' : 'Stopped');
}

function restingState(vps: VpsServer, server: ObservedServer, reason: RestReason): Action {
  const what = reason === 'Observed' ? 'observed (ObserveOnly)' : `${server.state}, as the spec asks`;
  return {
    type: 'Nothing',
    reason,
    message: `Server ${server.id} (${vps.spec.name ?? vps.metadata.name}) is ${what}`,
  };
}

/** The mutable fields whose value at VPS.org differs from the spec; undefined when none. */
export function driftedFields(vps: VpsServer, server: ObservedServer): PatchServerRequest | undefined {
  const changes: PatchServerRequest = {};
  const name = desiredServerName(vps);
  if (server.name !== name) changes.name = name;
  if (vps.spec.hostname !== undefined && server.hostname !== vps.spec.hostname)
    changes.hostname = vps.spec.hostname;
  if (server.backupsEnabled !== undefined && server.backupsEnabled !== vps.spec.backupsEnabled) {
    changes.backupsEnabled = vps.spec.backupsEnabled;
  }
  return Object.keys(changes).length > 0 ? changes : undefined;
}

function adoptionMismatch(vps: VpsServer, server: ObservedServer): string | undefined {
  const fields: string[] = [];
  const diffs: string[] = [];
  const { planId, osId, location } = vps.spec;
  if (planId !== undefined && planId !== server.plan.id) {
    fields.push('spec.planId');
    diffs.push(`spec.planId is ${planId} but the server has plan ${server.plan.id}`);
  }
  if (osId !== undefined && osId !== server.os.id) {
    fields.push('spec.osId');
    diffs.push(`spec.osId is ${osId} but the server has OS ${server.os.id}`);
  }
  if (location !== undefined && location !== server.location) {
    fields.push('spec.location');
    diffs.push(`spec.location is ${location} but the server is in ${server.location}`);
  }
  if (diffs.length === 0) return undefined;
  return adoptionMismatchMessage(server.id, fields, diffs);
}

function createRequestOf(vps: VpsServer): CreateServerRequest {
  const { planId, osId, location, hostname, sshKeyId, backupsEnabled } = vps.spec;
  // The CRD requires planId, osId and location whenever serverId is unset.
  if (planId === undefined || osId === undefined || location === undefined) {
    throw new Error('spec.planId, spec.osId and spec.location are required to create a server');
  }
  return {
    name: desiredServerName(vps),
    planId,
    osId,
    location,
    ...(hostname !== undefined && { hostname }),
    ...(sshKeyId !== undefined && { sshKeyId }),
    backupsEnabled,
  };
}

/**
 * Candidates for "the server a create with this marker made": same name, location, plan and
 * OS, created no earlier than the marker (less the tolerated clock skew).
 */
export function createCandidates(
  vps: VpsServer,
  servers: Iterable<ObservedServer>,
  timings = DEFAULT_TIMINGS,
): ObservedServer[] {
  const pending = createPendingOf(vps);
  if (pending === undefined || managedServerId(vps) !== undefined) return [];
  const out: ObservedServer[] = [];
  for (const s of servers) {
    if (
      s.name === pending.name &&
      s.location === vps.spec.location &&
      s.plan.id === vps.spec.planId &&
      s.os.id === vps.spec.osId &&
      s.createdAt >= pending.at - timings.clockSkewMs &&
      !s.deleteRequested
    ) {
      out.push(s);
    }
  }
  return out;
}

const oldest = (servers: ObservedServer[]): ObservedServer | undefined =>
  servers.reduce<ObservedServer | undefined>(
    (a, s) =>
      a === undefined || s.createdAt < a.createdAt || (s.createdAt === a.createdAt && s.id < a.id) ? s : a,
    undefined,
  );
