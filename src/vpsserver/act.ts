// Carries out the one action plan() chose, at VPS.org and in Kubernetes, and says how it ended:
// act() picks the verb, and each verb is one function below (crossplane-runtime's
// ExternalClient Create/Update/Delete is the model), calling the account's provider port at
// most once. The order of writes inside a verb is what makes the operator crash-safe: a marker
// (markers.ts) is persisted before any call whose outcome could be lost (create, reboot), and
// the server id is persisted right after a create, so a crash at any point can be recovered
// without duplicates.
import type { Logger } from 'pino';
import type { EventType } from '../k8s/events.ts';
import type { CreateServerRequest, PatchServerRequest } from '../vpsorg/index.ts';
import type { Account } from './accounts.ts';
import { crashPoint } from './crash-points.ts';
import { markCreatePending, markRebootPending, settleFailedCall } from './markers.ts';
import { serverVanishedMessage, staleObservationMessage } from './messages.ts';
import { type MetadataWriter, patchMetadata } from './metadata.ts';
import type { ObservedServer } from './observed.ts';
import type { Action } from './plan.ts';
import { type ProviderFailure, providerFailure } from './provider.ts';
import type { ActOutcome } from './status.ts';
import { CREATE_PENDING_ANNOTATION, FINALIZER, REBOOT_PENDING_ANNOTATION, type VpsServer } from './types.ts';

export interface ActDeps {
  writer: MetadataWriter;
  event: (vps: VpsServer, type: EventType, reason: string, message: string) => void;
  logger: Logger;
  now: () => number;
}

export interface ActResult {
  outcome: ActOutcome;
  /** The VpsServer after metadata writes of this pass (fresh resourceVersion), or the input. */
  vps: VpsServer;
  /** Status fields this action sets beyond what report() derives. */
  statusPatch?: { serverId?: number; lastRebootRequestedAt?: string };
  /** Set when the provider answered with a failure: the pass reports it, and retries if transient. */
  failure?: ProviderFailure;
}

type ActionOf<T extends Action['type']> = Extract<Action, { type: T }>;

const ok = (vps: VpsServer, statusPatch?: ActResult['statusPatch']): ActResult => ({
  outcome: { ok: true },
  vps,
  ...(statusPatch && { statusPatch }),
});

/** The client's message already names the call ("VPS.org create server: 402 …: <provider's words>"). */
function failed(vps: VpsServer, failure: ProviderFailure): ActResult {
  const { terminal, reason, message } = failure;
  return { outcome: { ok: false, terminal, reason, message }, vps, failure };
}

/** Runs `action` for `vps` against `account` (undefined when credentials are missing). */
export async function act(
  deps: ActDeps,
  vps: VpsServer,
  action: Action,
  account: Account | undefined,
  signal: AbortSignal,
): Promise<ActResult> {
  const need = (): Account => {
    if (account === undefined) throw new Error(`action ${action.type} needs credentials`);
    return account;
  };
  switch (action.type) {
    case 'AddFinalizer':
      return addFinalizer(deps, vps);
    case 'RemoveFinalizer':
      return removeFinalizer(deps, vps, action);
    case 'Create':
      return createServer(deps, vps, action.request, need(), signal, action.addFinalizer === true);
    case 'Adopt':
      return adoptServer(deps, vps, action, need());
    case 'Update':
      return updateServer(deps, vps, action, need(), signal);
    case 'Start':
    case 'Stop':
      return setPower(deps, vps, action, need(), signal);
    case 'Reboot':
      return rebootServer(deps, vps, action, need(), signal);
    case 'RecordReboot':
      return recordReboot(deps, vps, action);
    case 'Delete':
      return deleteServer(deps, vps, action, need(), signal);
    case 'ForgetServer':
      return forgetServer(deps, vps, action, account);
    // A stall's Warning is the reconcile's to record, once per stall (see warnings.ts).
    case 'Stalled':
    case 'Wait':
    case 'Nothing':
      return ok(vps);
  }
}

async function addFinalizer(deps: ActDeps, vps: VpsServer): Promise<ActResult> {
  return ok(await patchMetadata(deps.writer, vps, { finalizers: [...vps.metadata.finalizers, FINALIZER] }));
}

async function removeFinalizer(
  deps: ActDeps,
  vps: VpsServer,
  action: ActionOf<'RemoveFinalizer'>,
): Promise<ActResult> {
  const after = await patchMetadata(deps.writer, vps, {
    finalizers: vps.metadata.finalizers.filter((f) => f !== FINALIZER),
  });
  if (action.reason === 'NotOwner' && action.message !== undefined) {
    deps.event(vps, 'Normal', 'ServerNotOwned', action.message);
  } else if (action.reason === 'Orphaned' && vps.status.serverId !== undefined) {
    const message = `Server ${vps.status.serverId} is left at VPS.org (deletionPolicy Orphan)`;
    deps.event(vps, 'Normal', 'ServerOrphaned', message);
  }
  return ok(after);
}

export async function createServer(
  deps: ActDeps,
  vps: VpsServer,
  request: CreateServerRequest,
  account: Account,
  signal: AbortSignal,
  addFinalizer = false,
): Promise<ActResult> {
  // Create is not idempotent: persist the marker first (with the finalizer, when the resource
  // has none yet). If this write fails, nothing is sent.
  const marked = await markCreatePending(
    deps.writer,
    vps,
    { at: deps.now(), name: request.name },
    addFinalizer ? FINALIZER : undefined,
  );
  let created: ObservedServer;
  crashPoint('before-create');
  try {
    created = await account.provider.createServer(request, signal);
  } catch (err) {
    const failure = providerFailure(err);
    const after = await settleFailedCall(deps.writer, marked, CREATE_PENDING_ANNOTATION, failure);
    return failed(after, failure);
  }
  crashPoint('after-create');
  account.observation.upsert(created);
  account.observation.track(created.id);
  const message = `Created server ${created.id} (${created.name}) in ${created.location}`;
  deps.event(vps, 'Normal', 'ServerCreated', message);
  deps.logger.info({ serverId: created.id }, 'server created');
  return ok(marked, { serverId: created.id, ...rebootHistory(vps) });
}

export function adoptServer(
  deps: ActDeps,
  vps: VpsServer,
  action: ActionOf<'Adopt'>,
  account: Account,
): ActResult {
  account.observation.track(action.serverId);
  // The create-pending marker stays until status.serverId is written (markers.ts clears it):
  // dropping it first would let a crash in between create a second server.
  const message =
    action.reason === 'LostCreateResponse'
      ? `Found server ${action.serverId}, made by a create whose answer was lost; adopted it instead of creating another`
      : `Adopted existing server ${action.serverId}`;
  deps.event(vps, 'Normal', 'ServerAdopted', message);
  return ok(vps, { serverId: action.serverId, ...rebootHistory(vps) });
}

/** A reboot value set before the server was ours is history, not a request. */
const rebootHistory = (vps: VpsServer): { lastRebootRequestedAt?: string } =>
  vps.spec.rebootRequestedAt === undefined ? {} : { lastRebootRequestedAt: vps.spec.rebootRequestedAt };

export async function updateServer(
  deps: ActDeps,
  vps: VpsServer,
  { serverId, changes }: ActionOf<'Update'>,
  account: Account,
  signal: AbortSignal,
): Promise<ActResult> {
  try {
    const updated = await account.provider.updateServer(serverId, changes, signal);
    account.observation.upsert({ ...changesAsObserved(changes), ...updated, id: serverId });
  } catch (err) {
    return failed(vps, providerFailure(err));
  }
  deps.event(vps, 'Normal', 'ServerUpdated', `Updated ${describeChanges(changes)} of server ${serverId}`);
  return ok(vps);
}

export async function setPower(
  deps: ActDeps,
  vps: VpsServer,
  action: ActionOf<'Start' | 'Stop'>,
  account: Account,
  signal: AbortSignal,
): Promise<ActResult> {
  const verb = action.type === 'Start' ? 'start' : 'stop';
  try {
    const res = await account.provider.powerAction(action.serverId, verb, signal);
    account.observation.upsert({ id: action.serverId, state: res.state });
  } catch (err) {
    const failure = providerFailure(err);
    if (failure.status !== 400) return failed(vps, failure);
    // VPS.org refuses start/stop for the server's current state ("Server is already
    // stopped"): the state we planned from was stale, e.g. an earlier stop acted but its
    // answer was lost. Not the user's problem to fix: look again and plan from what is there.
    await account.observation.refresh().catch(() => {});
    return failed(vps, {
      ...failure,
      terminal: false,
      reason: 'StaleObservation',
      message: staleObservationMessage(failure.detail),
    });
  }
  const reason = action.type === 'Start' ? 'ServerStarting' : 'ServerStopping';
  deps.event(vps, 'Normal', reason, `Asked VPS.org to ${verb} server ${action.serverId}`);
  return ok(vps);
}

export async function rebootServer(
  deps: ActDeps,
  vps: VpsServer,
  { serverId, requestedAt }: ActionOf<'Reboot'>,
  account: Account,
  signal: AbortSignal,
): Promise<ActResult> {
  // At most one reboot per value: mark before sending; a lost answer is never resent.
  const marked = await markRebootPending(deps.writer, vps, requestedAt);
  crashPoint('before-reboot');
  try {
    const res = await account.provider.powerAction(serverId, 'reboot', signal);
    crashPoint('after-reboot');
    account.observation.upsert({ id: serverId, state: res.state });
  } catch (err) {
    const failure = providerFailure(err);
    return failed(await settleFailedCall(deps.writer, marked, REBOOT_PENDING_ANNOTATION, failure), failure);
  }
  const message = `Rebooting server ${serverId} for rebootRequestedAt=${requestedAt}`;
  deps.event(vps, 'Normal', 'ServerRebooting', message);
  return ok(marked, { lastRebootRequestedAt: requestedAt });
}

function recordReboot(deps: ActDeps, vps: VpsServer, action: ActionOf<'RecordReboot'>): ActResult {
  // The reboot-pending marker is cleared (markers.ts) only after status records the value:
  // clearing it first would let a crash in between reboot a second time.
  if (action.outcome === 'Unknown') {
    const message = `The reboot for rebootRequestedAt=${action.requestedAt} was sent but its answer was lost; it is not sent again (at most one reboot per value)`;
    deps.event(vps, 'Warning', 'RebootOutcomeUnknown', message);
  } else if (action.outcome === 'Skipped') {
    const message = `rebootRequestedAt=${action.requestedAt} ignored: spec.powerState is Stopped`;
    deps.event(vps, 'Normal', 'RebootSkipped', message);
  }
  return ok(vps, { lastRebootRequestedAt: action.requestedAt });
}

export async function deleteServer(
  deps: ActDeps,
  vps: VpsServer,
  { serverId }: ActionOf<'Delete'>,
  account: Account,
  signal: AbortSignal,
): Promise<ActResult> {
  try {
    await account.provider.deleteServer(serverId, signal);
  } catch (err) {
    return failed(vps, providerFailure(err));
  }
  crashPoint('after-delete');
  account.observation.markDeleted(serverId);
  account.observation.untrack(serverId);
  deps.event(vps, 'Normal', 'ServerDeleted', `Deleted server ${serverId} at VPS.org`);
  return ok(vps);
}

function forgetServer(
  deps: ActDeps,
  vps: VpsServer,
  { serverId }: ActionOf<'ForgetServer'>,
  account: Account | undefined,
): ActResult {
  deps.event(vps, 'Warning', 'ServerVanished', serverVanishedMessage(serverId));
  account?.observation.untrack(serverId);
  return ok(vps);
}

function changesAsObserved(changes: PatchServerRequest): Partial<ObservedServer> {
  const o: Partial<ObservedServer> = {};
  if (changes.name !== undefined) o.name = changes.name;
  if (changes.hostname !== undefined) o.hostname = changes.hostname;
  if (changes.backupsEnabled !== undefined) o.backupsEnabled = changes.backupsEnabled;
  return o;
}

const describeChanges = (c: object): string =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
