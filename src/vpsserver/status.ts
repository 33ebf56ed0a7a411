// report(): the status a pass writes, as a pure function of the resource, the action it
// planned, how that action ended and the server as now known. Conditions follow kstatus: Ready
// is True exactly when neither Reconciling nor Stalled is, so `kubectl wait --for=condition=Ready`
// and Flux's kstatus wait (Current / InProgress / Failed) always agree; Synced says what became
// of the last call to VPS.org (Crossplane's SYNCED). Argo CD needs the Lua health check of
// deploy/argocd/ (it has no generic one). Table-tested in test/unit/vpsserver-status.test.ts and
// vpsserver-conditions.test.ts.
import type { ObservedServer } from './observed.ts';
import { type Action, PROVIDER_WRITES } from './plan.ts';
import { reasonKind } from './reasons.ts';
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

/**
 * What the pass heard from VPS.org, which is what Synced reports:
 * - `made`: it made a call (a write, or a list it could not do without) and `outcome` is the answer;
 * - `observed`: no call of its own; it planned on the account's last successful list;
 * - `none`: no call and no observation (missing credentials): Synced keeps saying what the
 *   last call did;
 * - `{ refused }`: no call because the last one was refused (a remembered stall).
 */
export type ProviderCall =
  | 'made'
  | 'observed'
  | 'none'
  /** No call this pass because the last one was refused thus (a remembered stall). */
  | { refused: { reason: string; message: string } };

export interface ReportInput {
  vps: VpsServer;
  action: Action;
  outcome: ActOutcome;
  /** The managed server as known after the action (undefined when there is none). */
  server: ObservedServer | undefined;
  /** ISO time used for conditions that change in this pass. */
  now: string;
  /** Default: `made` for a write or a failure, `none` for Stalled, else `observed`. */
  call?: ProviderCall;
  /** The leak report's finding (leaks.ts); undefined: this pass could not tell, keep the last. */
  leaked?: readonly number[];
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
        message: `Server ${action.serverId} vanished at VPS.org; creating a new server`,
      };
    case 'Wait':
    case 'Nothing':
    case 'Stalled':
      return { reason: action.reason, message: action.message };
  }
}

/** The call an action makes, in the words of the API client's messages. */
function callWords(action: Action): string {
  const id = 'serverId' in action ? ` ${action.serverId}` : '';
  switch (action.type) {
    case 'Create':
      return 'create server';
    case 'Update':
      return `patch server${id}`;
    case 'Start':
    case 'Stop':
    case 'Reboot':
    case 'Delete':
      return `${action.type.toLowerCase()} server${id}`;
    default:
      return 'list servers';
  }
}

type Want = Omit<Condition, 'lastTransitionTime' | 'type' | 'observedGeneration'>;

/** Where a pass leaves the resource, in kstatus terms: Current, InProgress or Failed. */
interface Standing {
  kind: 'ready' | 'progress' | 'stalled';
  reason: string;
  message: string;
}

/** The one decision behind Ready, Reconciling and Stalled (see the table in reasons.ts). */
export function standingOf(action: Action, outcome: ActOutcome): Standing {
  if (!outcome.ok && outcome.terminal)
    return { kind: 'stalled', reason: outcome.reason, message: outcome.message };
  let standing: Standing;
  if (action.type === 'Stalled') {
    standing = { kind: 'stalled', reason: action.reason, message: action.message };
  } else if (action.type === 'Nothing' || action.type === 'Wait') {
    const kind = action.type === 'Wait' ? 'progress' : reasonKind(action.reason);
    standing = {
      kind: kind === 'ready' || kind === 'stalled' ? kind : 'progress',
      reason: action.reason,
      message: action.message,
    };
  } else {
    standing = { kind: 'progress', ...progressOf(action) };
  }
  // Not Ready because of a failure being retried: say which, not the step it blocked.
  if (!outcome.ok && standing.kind !== 'ready')
    return { kind: 'progress', reason: outcome.reason, message: outcome.message };
  return standing;
}

/** Synced: what became of the last call to VPS.org (see ProviderCall). */
export function syncedOf(vps: VpsServer, action: Action, outcome: ActOutcome, call: ProviderCall): Want {
  if (call === 'made' && !outcome.ok)
    return { status: 'False', reason: outcome.reason, message: outcome.message };
  // Said from the memory of the refusal, not from the status read: that one may predate it.
  if (typeof call === 'object') return { status: 'False', ...call.refused };
  if (call === 'none') {
    const prev = vps.status.conditions?.find((c) => c.type === 'Synced');
    if (prev !== undefined) return { status: prev.status, reason: prev.reason, message: prev.message };
    return { status: 'Unknown', reason: 'NoCallYet', message: 'No call to VPS.org has been made yet' };
  }
  const words = call === 'made' ? callWords(action) : 'list servers';
  return {
    status: 'True',
    reason: 'ReconcileSuccess',
    message: `The last call to VPS.org (${words}) succeeded`,
  };
}

const defaultCall = (action: Action, outcome: ActOutcome): ProviderCall =>
  PROVIDER_WRITES.has(action.type) || !outcome.ok ? 'made' : action.type === 'Stalled' ? 'none' : 'observed';

/** The status this pass should write. Compare with the current one to skip no-op writes. */
export function report({ vps, action, outcome, server, now, call, leaked }: ReportInput): VpsServerStatus {
  const status: VpsServerStatus = { ...vps.status, observedGeneration: vps.metadata.generation };
  // The CRD keeps at most 100 (the Warning Event and the metric say how bad it is beyond that).
  if (leaked !== undefined && leaked.length > 0) status.leakedServerIds = leaked.slice(0, 100);
  else if (leaked !== undefined) delete status.leakedServerIds;
  if (server !== undefined) Object.assign(status, serverFields(server));
  if (action.type === 'ForgetServer' && outcome.ok) {
    for (const field of SERVER_STATUS_FIELDS) delete status[field];
    status.vanishedServerId = action.serverId;
  }

  const standing = standingOf(action, outcome);
  const said = { reason: standing.reason, message: standing.message };
  const want: Record<ConditionType, Want> = {
    Ready: { status: standing.kind === 'ready' ? 'True' : 'False', ...said },
    Reconciling:
      standing.kind === 'progress'
        ? { status: 'True', ...said }
        : { status: 'False', reason: 'Idle', message: '' },
    Stalled:
      standing.kind === 'stalled'
        ? { status: 'True', ...said }
        : { status: 'False', reason: 'Healthy', message: '' },
    Synced: syncedOf(vps, action, outcome, call ?? defaultCall(action, outcome)),
  };

  status.conditions = CONDITION_TYPES.map((type) => condition(vps, type, want[type], now));
  return status;
}

function condition(vps: VpsServer, type: ConditionType, want: Want, now: string): Condition {
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
