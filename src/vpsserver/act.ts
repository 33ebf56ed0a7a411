// Carries out the one action plan() chose, at VPS.org and in Kubernetes, and says how it ended.
// The order of writes inside an action is what makes the operator crash-safe: a marker is
// persisted before any call whose outcome could be lost (create, reboot), and the server id is
// persisted right after a create, so a crash at any point can be recovered without duplicates.
import type { Logger } from 'pino';
import type { EventType } from '../k8s/events.ts';
import type { CustomResourceWriter } from '../k8s/vpsservers.ts';
import type { Account } from './accounts.ts';
import { crashPoint } from './crash-points.ts';
import type { ObservedServer } from './observed.ts';
import { type Action, formatCreatePending } from './plan.ts';
import { certainlyNotDone, type ProviderFailure, providerFailure } from './provider.ts';
import type { ActOutcome } from './status.ts';
import { CREATE_PENDING_ANNOTATION, FINALIZER, REBOOT_PENDING_ANNOTATION, type VpsServer } from './types.ts';

export interface ActDeps {
  writer: CustomResourceWriter;
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

const ok = (vps: VpsServer, statusPatch?: ActResult['statusPatch']): ActResult => ({
  outcome: { ok: true },
  vps,
  ...(statusPatch && { statusPatch }),
});

/** The client's message already names the call ("VPS.org create server: 402 …: <provider's words>"). */
function failed(vps: VpsServer, failure: ProviderFailure): ActResult {
  const outcome = {
    ok: false as const,
    terminal: failure.terminal,
    reason: failure.reason,
    message: failure.message,
  };
  return { outcome, vps, failure };
}

/** Runs `action` for `vps` against `account` (undefined when credentials are missing). */
export async function act(
  deps: ActDeps,
  vps: VpsServer,
  action: Action,
  account: Account | undefined,
  signal: AbortSignal,
): Promise<ActResult> {
  const needAccount = (): Account => {
    if (account === undefined) throw new Error(`action ${action.type} needs credentials`);
    return account;
  };
  switch (action.type) {
    case 'AddFinalizer':
      return ok(await patchMetadata(deps, vps, { finalizers: [...vps.metadata.finalizers, FINALIZER] }));

    case 'RemoveFinalizer': {
      const after = await patchMetadata(deps, vps, {
        finalizers: vps.metadata.finalizers.filter((f) => f !== FINALIZER),
      });
      if (action.reason === 'Orphaned' && vps.status.serverId !== undefined) {
        deps.event(
          vps,
          'Normal',
          'ServerOrphaned',
          `Server ${vps.status.serverId} is left at VPS.org (deletionPolicy Orphan)`,
        );
      }
      return ok(after);
    }

    case 'Create':
      return create(deps, vps, action.request, needAccount(), signal);

    case 'Adopt': {
      const a = needAccount();
      a.observation.track(action.serverId);
      // The create-pending marker stays until status.serverId is written (reconcile.ts clears it):
      // dropping it first would let a crash in between create a second server.
      if (action.reason === 'LostCreateResponse') {
        deps.event(
          vps,
          'Normal',
          'ServerAdopted',
          `Found server ${action.serverId}, made by a create whose answer was lost; adopted it instead of creating another`,
        );
      } else {
        deps.event(vps, 'Normal', 'ServerAdopted', `Adopted existing server ${action.serverId}`);
      }
      // A reboot value set before the server was ours is history, not a request.
      return ok(vps, {
        serverId: action.serverId,
        ...(vps.spec.rebootRequestedAt !== undefined && {
          lastRebootRequestedAt: vps.spec.rebootRequestedAt,
        }),
      });
    }

    case 'Update': {
      const a = needAccount();
      try {
        const updated = await a.provider.updateServer(action.serverId, action.changes, signal);
        a.observation.upsert({ ...changesAsObserved(action.changes), ...updated, id: action.serverId });
      } catch (err) {
        return failed(vps, providerFailure(err));
      }
      deps.event(
        vps,
        'Normal',
        'ServerUpdated',
        `Updated ${describeChanges(action.changes)} of server ${action.serverId}`,
      );
      return ok(vps);
    }

    case 'Start':
    case 'Stop': {
      const a = needAccount();
      const verb = action.type === 'Start' ? 'start' : 'stop';
      try {
        const res = await a.provider.powerAction(action.serverId, verb, signal);
        a.observation.upsert({ id: action.serverId, state: res.state });
      } catch (err) {
        const failure = providerFailure(err);
        if (failure.status !== 400) return failed(vps, failure);
        // VPS.org refuses start/stop for the server's current state ("Server is already
        // stopped"): the state we planned from was stale, e.g. an earlier stop acted but its
        // answer was lost. Not the user's problem to fix: look again and plan from what is there.
        await a.observation.refresh().catch(() => {});
        return failed(vps, {
          ...failure,
          terminal: false,
          reason: 'StaleObservation',
          message: `${failure.message} (the operator's view of the server was out of date; looking again)`,
        });
      }
      deps.event(
        vps,
        'Normal',
        action.type === 'Start' ? 'ServerStarting' : 'ServerStopping',
        `Asked VPS.org to ${verb} server ${action.serverId}`,
      );
      return ok(vps);
    }

    case 'Reboot':
      return reboot(deps, vps, action.serverId, action.requestedAt, needAccount(), signal);

    case 'RecordReboot': {
      // The reboot-pending marker is cleared by reconcile.ts only after status records the value:
      // clearing it first would let a crash in between reboot a second time.
      if (action.outcome === 'Unknown') {
        deps.event(
          vps,
          'Warning',
          'RebootOutcomeUnknown',
          `The reboot for rebootRequestedAt=${action.requestedAt} was sent but its answer was lost; it is not sent again (at most one reboot per value)`,
        );
      } else if (action.outcome === 'Skipped') {
        deps.event(
          vps,
          'Normal',
          'RebootSkipped',
          `rebootRequestedAt=${action.requestedAt} ignored: spec.powerState is Stopped`,
        );
      }
      return ok(vps, { lastRebootRequestedAt: action.requestedAt });
    }

    case 'Delete': {
      const a = needAccount();
      try {
        await a.provider.deleteServer(action.serverId, signal);
      } catch (err) {
        return failed(vps, providerFailure(err));
      }
      crashPoint('after-delete');
      a.observation.markDeleted(action.serverId);
      a.observation.untrack(action.serverId);
      deps.event(vps, 'Normal', 'ServerDeleted', `Deleted server ${action.serverId} at VPS.org`);
      return ok(vps);
    }

    case 'ForgetServer':
      deps.event(
        vps,
        'Warning',
        'ServerDeletedOutOfBand',
        `Server ${action.serverId} was deleted outside Kubernetes; a new server will be created`,
      );
      account?.observation.untrack(action.serverId);
      return ok(vps);

    case 'Stalled':
      deps.event(vps, 'Warning', action.reason, action.message);
      return ok(vps);

    case 'Wait':
    case 'Nothing':
      return ok(vps);
  }
}

async function create(
  deps: ActDeps,
  vps: VpsServer,
  request: Parameters<Account['provider']['createServer']>[0],
  account: Account,
  signal: AbortSignal,
): Promise<ActResult> {
  // Create is not idempotent: persist the marker first. If this write fails, nothing is sent.
  const marked = await patchMetadata(deps, vps, {
    annotations: { [CREATE_PENDING_ANNOTATION]: formatCreatePending({ at: deps.now(), name: request.name }) },
  });
  let created: ObservedServer;
  crashPoint('before-create');
  try {
    created = await account.provider.createServer(request, signal);
  } catch (err) {
    const failure = providerFailure(err);
    // Only a refusal proves nothing was made; otherwise the marker stays for the next pass to resolve.
    const after = certainlyNotDone(failure)
      ? await clearAnnotation(deps, marked, CREATE_PENDING_ANNOTATION)
      : marked;
    if (failure.terminal) deps.event(vps, 'Warning', failure.reason, failure.message);
    return failed(after, failure);
  }
  crashPoint('after-create');
  account.observation.upsert(created);
  account.observation.track(created.id);
  deps.event(
    vps,
    'Normal',
    'ServerCreated',
    `Created server ${created.id} (${created.name}) in ${created.location}`,
  );
  deps.logger.info({ serverId: created.id }, 'server created');
  return ok(marked, {
    serverId: created.id,
    ...(vps.spec.rebootRequestedAt !== undefined && { lastRebootRequestedAt: vps.spec.rebootRequestedAt }),
  });
}

async function reboot(
  deps: ActDeps,
  vps: VpsServer,
  serverId: number,
  requestedAt: string,
  account: Account,
  signal: AbortSignal,
): Promise<ActResult> {
  // At most one reboot per value: mark before sending; a lost answer is never resent.
  const marked = await patchMetadata(deps, vps, {
    annotations: { [REBOOT_PENDING_ANNOTATION]: requestedAt },
  });
  crashPoint('before-reboot');
  try {
    const res = await account.provider.powerAction(serverId, 'reboot', signal);
    crashPoint('after-reboot');
    account.observation.upsert({ id: serverId, state: res.state });
  } catch (err) {
    const failure = providerFailure(err);
    const after = certainlyNotDone(failure)
      ? await clearAnnotation(deps, marked, REBOOT_PENDING_ANNOTATION)
      : marked;
    return failed(after, failure);
  }
  deps.event(
    vps,
    'Normal',
    'ServerRebooting',
    `Rebooting server ${serverId} for rebootRequestedAt=${requestedAt}`,
  );
  return ok(marked, { lastRebootRequestedAt: requestedAt });
}

/** Clears a marker once the status that supersedes it is written (see reconcile.ts). */
export const clearAnnotation = (deps: ActDeps, vps: VpsServer, name: string): Promise<VpsServer> =>
  vps.metadata.annotations[name] === undefined
    ? Promise.resolve(vps)
    : patchMetadata(deps, vps, { annotations: { [name]: null } });

async function patchMetadata(
  deps: ActDeps,
  vps: VpsServer,
  change: { finalizers?: string[]; annotations?: Record<string, string | null> },
): Promise<VpsServer> {
  const updated = (await deps.writer.patchMetadata(vps.metadata, change)) as {
    metadata?: { resourceVersion?: string };
  };
  const annotations = { ...vps.metadata.annotations };
  for (const [k, v] of Object.entries(change.annotations ?? {})) {
    if (v === null) delete annotations[k];
    else annotations[k] = v;
  }
  return {
    ...vps,
    metadata: {
      ...vps.metadata,
      resourceVersion: updated.metadata?.resourceVersion ?? vps.metadata.resourceVersion,
      finalizers: change.finalizers ?? vps.metadata.finalizers,
      annotations,
    },
  };
}

function changesAsObserved(changes: {
  name?: string;
  hostname?: string;
  backupsEnabled?: boolean;
}): Partial<ObservedServer> {
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
