// One reconcile pass for one VpsServer, read top to bottom: observe → plan → act → report.
// The engine (src/runtime) calls reconcile(key) and never sees VPS; this file never sees a
// queue, a timer or a watch. Every decision is plan()'s; this file gathers its inputs, runs the
// action it returns and writes what came of it.
import type { Logger } from 'pino';
import { describeKubeError, isConflict, isNotFound } from '../k8s/errors.ts';
import type { EventType } from '../k8s/events.ts';
import type { CustomResourceWriter } from '../k8s/vpsservers.ts';
import type { Reconciler, Result } from '../runtime/reconciler.ts';
import type { Account, Accounts } from './accounts.ts';
import { act, clearAnnotation } from './act.ts';
import { crashPoint } from './crash-points.ts';
import { DecodeError, decodeVpsServer } from './decode.ts';
import type { CredentialsCheck, Observation, StallMemory } from './observed.ts';
import {
  type Action,
  createCandidates,
  DEFAULT_TIMINGS,
  managedServerId,
  type PlanTimings,
  PROVIDER_WRITES,
  plan,
} from './plan.ts';
import { providerFailure } from './provider.ts';
import { report, statusChanged } from './status.ts';
import { CREATE_PENDING_ANNOTATION, keyOf, REBOOT_PENDING_ANNOTATION, type VpsServer } from './types.ts';

/** Where a resource's token comes from, resolved per pass (a changed Secret is seen within its TTL). */
export type CredentialsResolver = (vps: VpsServer) => Promise<{ check: CredentialsCheck; token?: string }>;

export interface VpsServerReconcilerDeps {
  /** The object as the informer last saw it (undefined: it is gone). */
  lookup: (key: string) => unknown;
  /** Every VpsServer the informers hold (to know which servers other resources manage). */
  listObjects?: () => unknown[];
  writer: CustomResourceWriter;
  recordEvent: (target: VpsServer, type: EventType, reason: string, message: string) => void;
  credentials: CredentialsResolver;
  accounts: Accounts;
  logger: Logger;
  timings?: PlanTimings;
  now?: () => number;
  /** Called once per pass with the action taken (metrics, tests). */
  onAction?: (key: string, action: Action, ok: boolean) => void;
}

/** How soon to look again after a write: the next pass plans on the overlaid answer. */
const AFTER_WRITE_MS = 50;

export class VpsServerReconciler implements Reconciler {
  readonly #d: VpsServerReconcilerDeps;
  readonly #timings: PlanTimings;
  readonly #now: () => number;
  /** Terminal refusals by object uid, so they are not retried until spec or credentials change. */
  readonly #stalls = new Map<string, StallMemory>();
  /** Which resource manages which server of which account: routes observation changes to keys. */
  readonly #owners = new Map<string, string>();
  /** Told which keys to reconcile when their servers change at VPS.org. */
  enqueue: (key: string) => void = () => {};

  constructor(deps: VpsServerReconcilerDeps) {
    this.#d = deps;
    this.#timings = deps.timings ?? DEFAULT_TIMINGS;
    this.#now = deps.now ?? Date.now;
  }

  /** For the observation caches: servers changed at VPS.org → reconcile their resources. */
  serversChanged(accountId: string, ids: number[]): void {
    for (const id of ids) {
      const key = this.#owners.get(`${accountId}/${id}`);
      if (key !== undefined) this.enqueue(key);
    }
  }

  async reconcile(key: string, signal: AbortSignal): Promise<Result> {
    const log = this.#d.logger.child({ key });

    // Observe: the resource as the informer has it…
    const raw = this.#d.lookup(key);
    if (raw === undefined) return { kind: 'done' };
    let vps: VpsServer;
    try {
      vps = decodeVpsServer(raw);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      log.warn({ err: err.message }, 'resource cannot be read; waiting for it to change');
      return { kind: 'done' };
    }

    // …its credentials…
    const { check: credentials, token } = await this.#d.credentials(vps);
    const account = credentials.ok && token !== undefined ? this.#d.accounts.for(token) : undefined;
    const stall = this.#stallInForce(vps, credentials);

    // …and the provider's view, from the account's shared observation (one list for everyone).
    let observed: Observation = { snapshotAt: 0, candidates: [] };
    if (account !== undefined && stall === undefined) {
      const unreachable = await this.#ensureObserved(account);
      if (unreachable !== undefined) return this.#reportListFailure(vps, unreachable, log);
      observed = this.#observation(vps, account);
    }

    // Plan: one pure decision.
    const action = plan({ vps, credentials, observed, stall, timings: this.#timings });
    // A pass that waits for the provider's view to move on while the account's lists fail would
    // wait in silence: say why nothing new can be seen instead (and back off).
    const listFailure = account?.observation.listFailure;
    if (action.type === 'Wait' && listFailure !== undefined)
      return this.#reportListFailure(vps, providerFailure(listFailure), log);
    // Claim an adopted server before the first await, so a concurrent pass for another resource
    // with the same name cannot pick the same candidate.
    if (action.type === 'Adopt' && account !== undefined)
      this.#owners.set(`${account.id}/${action.serverId}`, key);
    const writes = PROVIDER_WRITES.has(action.type);
    const startedAt = this.#now();

    // Act: at most one provider write.
    const result = await this.#act(vps, action, account, signal);
    if (result === 'gone') return { kind: 'done' };
    this.#d.onAction?.(key, action, result.outcome.ok);
    // One line per decision: what was done and how it ended (writes and failures at info).
    log[writes || !result.outcome.ok || action.type === 'Stalled' ? 'info' : 'debug'](
      {
        action: action.type,
        ...actionDetail(action),
        outcome: result.outcome.ok ? 'ok' : result.outcome.reason,
        ...(!result.outcome.ok && { err: result.outcome.message }),
        durationMs: this.#now() - startedAt,
      },
      'reconcile decision',
    );
    if (result.failure?.terminal)
      this.#rememberStall(
        vps,
        credentials,
        result.failure.reason,
        result.outcome.ok ? '' : result.outcome.message,
      );

    // Report: status only when it changed; then the markers it supersedes.
    let current = result.vps;
    // Status mirrors a server only once it is ours (created or adopted), never a mere candidate.
    const serverId = result.statusPatch?.serverId ?? current.status.serverId;
    if (account !== undefined && serverId !== undefined) this.#owners.set(`${account.id}/${serverId}`, key);
    const status = report({
      vps: { ...current, status: { ...current.status, ...result.statusPatch } },
      action,
      outcome: result.outcome,
      server:
        serverId === undefined || action.type === 'ForgetServer'
          ? undefined
          : account?.observation.get(serverId),
      now: new Date(this.#now()).toISOString(),
    });
    if (writes) crashPoint('before-status');
    if (action.type !== 'RemoveFinalizer' && statusChanged(vps.status, status)) {
      // The markers are cleared against the object our status write returned: with the
      // resourceVersion from before it, every clear would fail with 409 and back off.
      current = await this.#writeStatus(current, status);
    }
    if (status.serverId !== undefined)
      await clearAnnotation(this.#actDeps(log), current, CREATE_PENDING_ANNOTATION);
    if (
      status.lastRebootRequestedAt !== undefined &&
      current.metadata.annotations[REBOOT_PENDING_ANNOTATION] === status.lastRebootRequestedAt
    ) {
      await clearAnnotation(this.#actDeps(log), current, REBOOT_PENDING_ANNOTATION);
    }

    // What next: transient failures back off (429 pauses the whole account's budget first).
    if (result.failure !== undefined && !result.failure.terminal) {
      throw new ProviderError(result.failure.message);
    }
    if (action.type === 'Wait') {
      account?.observation.refreshSoon();
      return { kind: 'requeueAfter', ms: action.ms };
    }
    if (action.type === 'Nothing' || action.type === 'Stalled' || (result.failure?.terminal ?? false))
      return { kind: 'done' };
    if (action.type === 'RemoveFinalizer') this.#forget(vps, account);
    return { kind: 'requeueAfter', ms: AFTER_WRITE_MS };
  }

  /** Makes sure the account has been listed at least once; returns the failure if it cannot be. */
  async #ensureObserved(account: Account): Promise<ReturnType<typeof providerFailure> | undefined> {
    if (account.observation.snapshotAt > 0) return undefined;
    try {
      await account.observation.refresh();
      return undefined;
    } catch (err) {
      return providerFailure(err);
    }
  }

  #observation(vps: VpsServer, account: Account): Observation {
    const id = managedServerId(vps);
    const server = id === undefined ? undefined : account.observation.get(id);
    if (id !== undefined && server !== undefined) account.observation.track(id);
    let candidates = createCandidates(vps, account.observation.servers(), this.#timings);
    if (candidates.length > 0) {
      const claimed = this.#claimedBy(account.id, vps);
      candidates = candidates.filter((s) => !claimed.has(s.id));
    }
    return { snapshotAt: account.observation.snapshotAt, server, candidates };
  }

  /**
   * Server ids that other resources manage, so a lost create never adopts a server that is
   * already someone's: those this process has seen reconciled for the account, and (after a
   * restart, before they are) every id any other VpsServer names in its status or spec.
   */
  #claimedBy(accountId: string, vps: VpsServer): Set<number> {
    const key = keyOf(vps);
    const ids = new Set<number>();
    for (const [owned, owner] of this.#owners) {
      if (owner !== key && owned.startsWith(`${accountId}/`))
        ids.add(Number(owned.slice(accountId.length + 1)));
    }
    for (const raw of this.#d.listObjects?.() ?? []) {
      const o = raw as {
        metadata?: { namespace?: string; name?: string };
        spec?: { serverId?: unknown };
        status?: { serverId?: unknown };
      };
      if (keyOf({ metadata: o.metadata ?? {} }) === key) continue;
      for (const id of [o.status?.serverId, o.spec?.serverId]) if (typeof id === 'number') ids.add(id);
    }
    return ids;
  }

  async #act(vps: VpsServer, action: Action, account: Account | undefined, signal: AbortSignal) {
    try {
      return await act(
        this.#actDeps(this.#d.logger.child({ key: keyOf(vps) })),
        vps,
        action,
        account,
        signal,
      );
    } catch (err) {
      // Our own metadata write lost a race (409) or the object is gone: look again, from fresh.
      if (isNotFound(err)) return 'gone' as const;
      if (isConflict(err))
        throw new ProviderError(`conflict writing ${keyOf(vps)}; retrying with the newer object`);
      throw new Error(describeKubeError(err));
    }
  }

  /** Writes status; returns `vps` with the resourceVersion and annotations the API server answered with. */
  async #writeStatus(vps: VpsServer, status: VpsServer['status']): Promise<VpsServer> {
    let updated: { metadata?: { resourceVersion?: string; annotations?: Record<string, string> } };
    try {
      updated = (await this.#d.writer.patchStatus(vps.metadata, vps.status, status)) as typeof updated;
    } catch (err) {
      if (isNotFound(err)) return vps;
      // Based on a stale view (another writer, or a leader that lost its lease, moved it on):
      // nothing was written; the retry plans again from the newer object.
      if (isConflict(err))
        throw new ProviderError(`conflict writing status of ${keyOf(vps)}; retrying with the newer object`);
      throw new Error(`writing status of ${keyOf(vps)}: ${describeKubeError(err)}`);
    }
    const resourceVersion = updated?.metadata?.resourceVersion;
    if (resourceVersion === undefined) return vps;
    return {
      ...vps,
      metadata: { ...vps.metadata, resourceVersion, annotations: { ...updated.metadata?.annotations } },
    };
  }

  #reportListFailure(
    vps: VpsServer,
    failure: ReturnType<typeof providerFailure>,
    log: Logger,
  ): Promise<Result> {
    log.warn({ reason: failure.reason, err: failure.message }, 'cannot list servers');
    const action: Action = failure.terminal
      ? { type: 'Stalled', reason: failure.reason, message: failure.message }
      : {
          type: 'Wait',
          ms: this.#timings.transitionalWaitMs,
          reason: 'Reconciling',
          message: failure.message,
        };
    const status = report({
      vps,
      action,
      outcome: { ok: false, terminal: failure.terminal, reason: failure.reason, message: failure.message },
      server: undefined,
      now: new Date(this.#now()).toISOString(),
    });
    const write = statusChanged(vps.status, status) ? this.#writeStatus(vps, status) : Promise.resolve();
    return write.then(() => {
      if (failure.terminal) {
        this.#d.recordEvent(vps, 'Warning', failure.reason, failure.message);
        return { kind: 'done' } as const;
      }
      throw new ProviderError(failure.message);
    });
  }

  #stallInForce(vps: VpsServer, credentials: CredentialsCheck): StallMemory | undefined {
    const s = this.#stalls.get(vps.metadata.uid);
    if (s === undefined) return undefined;
    const version = credentials.ok ? credentials.version : '';
    if (
      s.generation === vps.metadata.generation &&
      s.credentialsVersion === version &&
      vps.metadata.deletionTimestamp === undefined
    )
      return s;
    this.#stalls.delete(vps.metadata.uid);
    return undefined;
  }

  #rememberStall(vps: VpsServer, credentials: CredentialsCheck, reason: string, message: string): void {
    this.#stalls.set(vps.metadata.uid, {
      generation: vps.metadata.generation,
      credentialsVersion: credentials.ok ? credentials.version : '',
      reason,
      message,
    });
  }

  #forget(vps: VpsServer, account: Account | undefined): void {
    this.#stalls.delete(vps.metadata.uid);
    const key = keyOf(vps);
    for (const [owned, owner] of this.#owners) if (owner === key) this.#owners.delete(owned);
    const id = managedServerId(vps);
    if (id !== undefined) account?.observation.untrack(id);
  }

  #actDeps(logger: Logger) {
    return {
      writer: this.#d.writer,
      event: this.#d.recordEvent,
      logger,
      now: this.#now,
    };
  }
}

/** A failure the engine should back off and retry (logged with the key; never crashes). */
export class ProviderError extends Error {
  override name = 'ProviderError';
}

function actionDetail(action: Action): Record<string, unknown> {
  switch (action.type) {
    case 'Update':
      return { serverId: action.serverId, fields: Object.keys(action.changes) };
    case 'Wait':
    case 'Nothing':
    case 'Stalled':
      return { reason: action.reason };
    case 'Create':
      return { name: action.request.name, location: action.request.location };
    default:
      return 'serverId' in action ? { serverId: action.serverId } : {};
  }
}
