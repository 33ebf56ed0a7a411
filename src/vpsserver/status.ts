// report(): the status a pass writes, as a pure function of the resource, the action it
// planned, how that action ended and the server as now known. Conditions follow kstatus
// (Ready, Reconciling, Stalled) plus Synced (did the last call to VPS.org succeed), so
// `kubectl wait --for=condition=Ready` and Flux (kstatus) understand the resource without
// plug-ins; Argo CD needs the Lua health check of deploy/argocd/ (it has no generic one).
import type { ObservedServer } from './observed.ts';
import type { Action } from './plan.ts';
import {
  CONDITION_TYPES,
  type Condition,
  type ConditionType,
  SERVER_STATUS_FIELDS,
  type VpsServer,
  type VpsServerStatus,
} from './types.ts';

/** How the action of a pass ended. */
export type ActOutcome =
  | { ok: true }
  /** A failure that backs off and retries by itself. */
  | { ok: false; terminal: false; reason: string; message: string }
  /** A refusal only a human can fix: the resource becomes Stalled. */
  | { ok: false; terminal: true; reason: string; message: string };

export interface ReportInput {
  vps: VpsServer;
  action: Action;
  outcome: ActOutcome;
  /** The managed server as known after the action (undefined when there is none). */
  server: ObservedServer | undefined;
  /** ISO time used for conditions that change in this pass. */
  now: string;
}

/** What the Reconciling and Ready conditions say while `action` is under way. */
function progressOf(action: Action): { reason: string; message: string } {
  switch (action.type) {
    case 'AddFinalizer':
      return { reason: 'Initializing', message: 'Adding the finalizer' };
    case 'Create':
      return { reason: 'Creating', message: 'Creating the server at VPS.org' };
    case 'Adopt':
      return { reason: 'Adopting', message: `Adopting server ${action.serverId}` };
    case 'Update':
      return { reason: 'Updating', message: `Updating ${Object.keys(action.changes).join(', ')}` };
    case 'Start':
      return { reason: 'Starting', message: 'Starting the server' };
    case 'Stop':
      return { reason: 'Stopping', message: 'Stopping the server' };
    case 'Reboot':
      return { reason: 'Rebooting', message: 'Rebooting the server' };
    case 'RecordReboot':
      return { reason: 'Rebooting', message: 'Recording the reboot request' };
    case 'Delete':
      return { reason: 'Deleting', message: 'Deleting the server at VPS.org' };
    case 'RemoveFinalizer':
      return { reason: 'Deleting', message: 'Removing the finalizer' };
    case 'ForgetServer':
      return {
        reason: 'Recreating',
        message: `Server ${action.serverId} was deleted outside Kubernetes; recreating it`,
      };
    case 'Wait':
    case 'Nothing':
    case 'Stalled':
      return { reason: action.reason, message: action.message };
  }
}

const READY_REASONS = new Set(['Available', 'Stopped', 'Observed']);

/** The status this pass should write. Compare with the current one to skip no-op writes. */
export function report({ vps, action, outcome, server, now }: ReportInput): VpsServerStatus {
  const status: VpsServerStatus = { ...vps.status, observedGeneration: vps.metadata.generation };
  if (server !== undefined) Object.assign(status, serverFields(server));
  if (action.type === 'ForgetServer' && outcome.ok) {
    for (const field of SERVER_STATUS_FIELDS) delete status[field];
  }

  const want: Record<ConditionType, Omit<Condition, 'lastTransitionTime' | 'type'>> = {
    Ready: { status: 'False', reason: 'Reconciling', message: '' },
    Reconciling: { status: 'False', reason: 'Idle', message: '' },
    Stalled: { status: 'False', reason: 'Healthy', message: '' },
    Synced: { status: 'True', reason: 'ReconcileSuccess', message: 'The last call to VPS.org succeeded' },
  };

  if (!outcome.ok && outcome.terminal) {
    want.Stalled = { status: 'True', reason: outcome.reason, message: outcome.message };
    want.Ready = { status: 'False', reason: outcome.reason, message: outcome.message };
    want.Synced = { status: 'False', reason: outcome.reason, message: outcome.message };
  } else if (action.type === 'Stalled') {
    want.Stalled = { status: 'True', reason: action.reason, message: action.message };
    want.Ready = { status: 'False', reason: action.reason, message: action.message };
    // Keep Synced as it was: a stall remembered from an earlier refusal is not a new call.
    const prev = vps.status.conditions?.find((c) => c.type === 'Synced');
    if (prev !== undefined) want.Synced = { status: prev.status, reason: prev.reason, message: prev.message };
  } else if (action.type === 'Nothing') {
    const ready = READY_REASONS.has(action.reason);
    want.Ready = { status: ready ? 'True' : 'False', reason: action.reason, message: action.message };
  } else {
    const progress = progressOf(action);
    want.Reconciling = { status: 'True', ...progress };
    want.Ready = { status: 'False', ...progress };
  }
  if (!outcome.ok && !outcome.terminal) {
    want.Synced = { status: 'False', reason: outcome.reason, message: outcome.message };
    want.Reconciling = { status: 'True', reason: outcome.reason, message: outcome.message };
    // Not Ready because of a failure that is being retried: say which, not the step it blocked.
    if (want.Ready.status === 'False')
      want.Ready = { status: 'False', reason: outcome.reason, message: outcome.message };
  }

  status.conditions = CONDITION_TYPES.map((type) => condition(vps, type, want[type], now));
  return status;
}

function condition(
  vps: VpsServer,
  type: ConditionType,
  want: Omit<Condition, 'lastTransitionTime' | 'type'>,
  now: string,
): Condition {
  const prev = vps.status.conditions?.find((c) => c.type === type);
  const lastTransitionTime =
    prev !== undefined && prev.status === want.status ? prev.lastTransitionTime : now;
  return {
    type,
    status: want.status,
    observedGeneration: vps.metadata.generation,
    lastTransitionTime,
    reason: want.reason,
    message: want.message,
  };
}

/** The status fields that mirror the server at VPS.org. */
export function serverFields(server: ObservedServer): VpsServerStatus {
  const fields: VpsServerStatus = {
    serverId: server.id,
    state: server.state,
    location: server.location,
    plan: { ...server.plan },
    os: { ...server.os },
  };
  if (server.ipAddress !== null) fields.ipAddress = server.ipAddress;
  if (server.hostname !== null && server.hostname !== '') fields.hostname = server.hostname;
  if (server.ipv6Address !== undefined && server.ipv6Address !== null)
    fields.ipv6Address = server.ipv6Address;
  if (server.resourceUsage !== undefined) fields.resourceUsage = { ...server.resourceUsage };
  return fields;
}

/** Whether writing `next` would change anything (key order and undefined fields ignored). */
export function statusChanged(current: VpsServerStatus, next: VpsServerStatus): boolean {
  return canonical(current) !== canonical(next);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
