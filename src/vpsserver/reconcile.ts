// One reconcile pass for one VpsServer, read top to bottom: observe → plan → act → report.
// The engine (src/runtime) calls reconcile(key) and never sees VPS; this file never sees a
// queue, a timer or a watch. Every decision is plan()'s; this file gathers its inputs, runs the
// action it returns and writes what came of it.
import type { Logger } from 'pino';
import { describeKubeError, isConflict, isNotFound } from '../k8s/errors.ts';
import type { EventType } from '../k8s/events.ts';
import type { CustomResourceWriter } from '../k8s/vpsservers.ts';
import { type Reconciler, type Result, StaleViewError } from '../runtime/index.ts';
import { type Account, type Accounts, deferredPass } from './accounts.ts';
import { type ActResult, act } from './act.ts';
import { type ClaimPort, claimsToRelease, claimTarget, observedClaimNote, refusedAction } from './claims.ts';
import { crashPoint } from './crash-points.ts';
import { DecodeError, decodeVpsServer } from './decode.ts';
import { type LeakOptions, LeakReport } from './leak-report.ts';
import type { LeakDecision } from './leaks.ts';
import { clearSupersededMarkers } from './markers.ts';
import { unauthorizedMessage } from './messages.ts';
import { annotationsOf, resourceVersionOf } from './metadata.ts';
import type { CredentialsCheck, Observation, StallMemory } from './observed.ts';
import type { ServerOwners } from './owners.ts';
import {
  type Action,
  createCandidates,
  DEFAULT_TIMINGS,
  managedServerId,
  type PlanTimings,
  PROVIDER_WRITES,
  plan,
} from './plan.ts';
import { type ProviderFailure, providerFailure } from './provider.ts';
import { Stalls } from './stalls.ts';
import { type ProviderCall, report, statusChanged } from './status.ts';
import { keyOf, type VpsServer, type VpsServerStatus } from './types.ts';
import { type StallWarning, stallWarningDue } from './warnings.ts';

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
  /** Which resource manages which server; shared with the source that routes VPS.org changes. */
  owners: ServerOwners;
  logger: Logger;
  timings?: PlanTimings;
  now?: () => number;
  /** Server claims (one owner per server, cluster-wide); without them, no isolation. */
  claims?: ClaimPort;
  /** Whether the resource's namespace may adopt existing servers (--adoption-namespaces); a refusal's message. */
  adoptionAllowed?: (namespace: string) => { ok: true } | { ok: false; message: string };
  /** Called once per pass with the action taken (metrics, tests). */
  onAction?: (key: string, action: Action, ok: boolean) => void;
  /** The leak report (--leaked-servers, --leaked-server-grace); without it, none. */
  leaks?: LeakOptions;
  /** Whether a resource other than `key` asking for `serverName` has a create in flight (server index). */
  creatingNamed?: (serverName: string, key: string) => boolean;
  /** Called after each delete of a leaked server (metrics). */
  onLeakDeleted?: (ok: boolean) => void;
}

/** What a pass has seen before it decides. */
interface Seen {
  credentials: CredentialsCheck;
  /** The account the credentials open (undefined when they are missing or invalid). */
  account?: Account;
  /** The last terminal refusal, while spec and credentials are the ones refused. */
  stall?: StallMemory;
  /** Set when the account could not be listed even once. */
  unreachable?: ProviderFailure;
  /** Set when the pass's first read would wait this long in the account's budget (see deferredPass). */
  deferMs?: number;
}

/** How soon to look again after a write: the next pass plans on the overlaid answer. */
const AFTER_WRITE_MS = 50;
/** How often a resource Stalled on ServerNotFound asks the provider again (besides list changes). */
const NOT_FOUND_RECHECK_MS = 300_000;

export class VpsServerReconciler implements Reconciler {
  readonly #d: VpsServerReconcilerDeps;
  readonly #timings: PlanTimings;
  readonly #now: () => number;
  readonly #stalls = new Stalls();
  /** The Warning last recorded for each object uid while it stays Stalled (see warnings.ts). */
  readonly #warned = new Map<string, StallWarning>();
  readonly #owners: ServerOwners;
  readonly #leaks: LeakReport | undefined;

  constructor(deps: VpsServerReconcilerDeps) {
    this.#d = deps;
    this.#timings = deps.timings ?? DEFAULT_TIMINGS;
    this.#now = deps.now ?? Date.now;
    this.#owners = deps.owners;
    this.#leaks = deps.leaks && this.#leakReport(deps, deps.leaks);
  }

  #leakReport(deps: VpsServerReconcilerDeps, options: LeakOptions): LeakReport {
    return new LeakReport({
      options,
      owners: deps.owners,
      ...(deps.claims !== undefined && { claims: deps.claims }),
      ...(deps.creatingNamed !== undefined && { creatingNamed: deps.creatingNamed }),
      ...(deps.onLeakDeleted !== undefined && { onDeleted: deps.onLeakDeleted }),
      namedByOthers: (accountId, vps) => this.#claimedBy(accountId, vps),
      recordEvent: deps.recordEvent,
      logger: deps.logger,
      now: this.#now,
      clockSkewMs: this.#timings.clockSkewMs,
    });
  }

  /**
   * Absent from the list is not proof: the list may predate a server made a moment ago, so a
   * server named by id is declared missing (or vanished) only on the provider's 404, unless a
   * list that began after the cache last heard of it already lacked it (ids are never reused;
   * a GET per deleted resource doubled the cost of deleting many). No candidates are read when
   * an id is known, so this await splits no candidate claim.
   */
  async #lookUpMissing(
    vps: VpsServer,
    account: Account,
    observed: Observation,
    signal: AbortSignal,
  ): Promise<{ observed: Observation } | { failure: ProviderFailure }> {
    const id = managedServerId(vps);
    if (id === undefined || observed.server !== undefined || account.observation.provenGone(id))
      return { observed };
    try {
      const found = await account.provider.getServer(id, signal);
      if (found === undefined) return { observed };
      account.observation.upsert(found);
      account.observation.track(id);
      return { observed: { ...observed, server: account.observation.get(id) ?? found } };
    } catch (err) {
      return { failure: providerFailure(err) };
    }
  }

  async reconcile(key: string, signal: AbortSignal): Promise<Result> {
    const log = this.#d.logger.child({ key });
    const vps = this.#read(key, log);
    if (vps === undefined) return { kind: 'done' };

    // Observe: the resource, its credentials and the provider's view (one list per account).
    const seen = await this.#observe(vps);
    if (seen.deferMs !== undefined) return deferredPass(log, 'read', seen.deferMs);
    if (seen.unreachable !== undefined)
      return this.#reportListFailure(vps, seen.credentials, seen.unreachable, log);
    const { credentials, account, stall } = seen;
    // From reading the candidates to claiming one below, no await: a concurrent pass for
    // another resource with the same name must see the claim or not have read yet.
    let observed: Observation =
      account !== undefined && stall === undefined
        ? this.#observation(vps, account)
        : { snapshotAt: 0, candidates: [] };
    if (account !== undefined && stall === undefined) {
      const confirmed = await this.#lookUpMissing(vps, account, observed, signal);
      if ('failure' in confirmed) return this.#reportListFailure(vps, credentials, confirmed.failure, log);
      observed = confirmed.observed;
    }

    // Plan: one pure decision.
    const planned = plan({ vps, credentials, observed, stall, timings: this.#timings });
    // A pass that waits for the provider's view to move on while the account's lists fail would
    // wait in silence: say why nothing new can be seen instead (and back off).
    const listFailure = account?.observation.listFailure;
    if (planned.type === 'Wait' && listFailure !== undefined)
      return this.#reportListFailure(vps, credentials, providerFailure(listFailure), log);
    // Claim an adopted server before the first await, so a concurrent pass for another resource
    // with the same name cannot pick the same candidate.
    if (planned.type === 'Adopt' && account !== undefined)
      this.#owners.add(account.id, planned.serverId, key);
    // The server the action touches must be ours: one owner per server, cluster-wide.
    const action = await this.#claimFor(vps, planned, account);

    // Act: at most one provider write.
    const startedAt = this.#now();
    const acted = await this.#act(vps, action, account, signal);
    if (acted === undefined || 'kind' in acted) return acted ?? { kind: 'done' };
    const result = withCredentialsSource(acted, credentials);
    this.#d.onAction?.(key, action, result.outcome.ok);
    logDecision(log, action, result, this.#now() - startedAt);
    if (result.failure?.terminal)
      this.#stalls.remember(vps, credentials, result.failure.reason, result.failure.message);

    // Report: status only when it changed; then the markers it supersedes.
    const writes = PROVIDER_WRITES.has(action.type);
    const call = providerCallOf(writes, result, stall, account);
    const leaks = this.#leaks?.find(action, result, account);
    const status = await this.#report(vps, action, result, account, call, leaks);
    this.#warnIfNewlyStalled(vps, credentials, status, writes && result.outcome.ok);
    this.#leaks?.warn(vps, status);
    const next = this.#next(vps, action, result, account);
    if (action.type === 'RemoveFinalizer')
      for (const c of this.#d.claims?.heldBy(vps.metadata.uid) ?? []) await this.#d.claims?.release(c);
    const cleaning = await this.#leaks?.clean(vps, leaks, action, account, signal);
    return sooner(sooner(next, cleaning?.againInMs), leaks?.recheckInMs);
  }

  /**
   * The action to run once the claim on the server it touches is settled: the planned one if
   * this resource owns the server (or just took it), else a refusal that never writes to it.
   * Claims for servers the resource no longer names (it vanished, it was forgotten) go back.
   */
  async #claimFor(vps: VpsServer, action: Action, account: Account | undefined): Promise<Action> {
    if (action.type === 'Adopt' && action.reason === 'SpecServerId') {
      const allowed = this.#d.adoptionAllowed?.(vps.metadata.namespace) ?? { ok: true };
      if (!allowed.ok) return { type: 'Stalled', reason: 'AdoptionNotAllowed', message: allowed.message };
    }
    const claims = this.#d.claims;
    if (claims === undefined || account === undefined) return action;
    for (const c of claimsToRelease(vps, claims.heldBy(vps.metadata.uid))) await claims.release(c);
    if (action.type === 'Nothing' && action.reason === 'Observed') {
      const id = managedServerId(vps);
      const note = id === undefined ? '' : observedClaimNote(claims.holderOf(account.id, id), vps);
      return note === '' ? action : { ...action, message: `${action.message}${note}` };
    }
    const target = claimTarget(vps, action);
    if (target === undefined) return action;
    const got = await claims.acquire(account.id, target, vps);
    return got.ok ? action : refusedAction(vps, target, got.holder);
  }

  /** The resource as the informer has it, decoded; undefined when it is gone or unreadable. */
  #read(key: string, log: Logger): VpsServer | undefined {
    const raw = this.#d.lookup(key);
    if (raw === undefined) return undefined;
    try {
      return decodeVpsServer(raw);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      log.warn({ err: err.message }, 'resource cannot be read; waiting for it to change');
      return undefined;
    }
  }

  /** Credentials, the account they open, a stall in force, and whether the account can be listed. */
  async #observe(vps: VpsServer): Promise<Seen> {
    const { check: credentials, token } = await this.#d.credentials(vps);
    const account = credentials.ok && token !== undefined ? this.#d.accounts.for(token) : undefined;
    const stall = this.#stalls.inForce(vps, credentials);
    const seen: Seen = {
      credentials,
      ...(account !== undefined && { account }),
      ...(stall !== undefined && { stall }),
    };
    if (account === undefined || stall !== undefined) return seen;
    // A pass waits for the account's first list, or a GET of its server, but not in a paused budget.
    const deferMs = this.#readsFirst(vps, account) ? account.provider.longWait('read') : undefined;
    if (deferMs !== undefined) return { ...seen, deferMs };
    // One list for every resource of the account.
    const unreachable = await this.#ensureObserved(account);
    return unreachable === undefined ? seen : { ...seen, unreachable };
  }

  /** Whether the pass reads before it plans: the account's first list, or #lookUpMissing's GET. */
  #readsFirst(vps: VpsServer, account: Account): boolean {
    const id = managedServerId(vps);
    const unseen = id !== undefined && account.observation.get(id) === undefined;
    return account.observation.snapshotAt === 0 || (unseen && !account.observation.provenGone(id));
  }

  /** Writes the status this pass ends with (only if it changed), then clears the markers it supersedes. */
  async #report(
    vps: VpsServer,
    action: Action,
    result: ActResult,
    account: Account | undefined,
    call: ProviderCall,
    leaks: LeakDecision | undefined,
  ): Promise<VpsServerStatus> {
    let current = result.vps;
    // Status mirrors a server only once it is ours (created or adopted), never a mere candidate.
    const serverId = result.statusPatch?.serverId ?? current.status.serverId;
    if (account !== undefined && serverId !== undefined) this.#owners.add(account.id, serverId, keyOf(vps));
    const status = report({
      vps: { ...current, status: { ...current.status, ...result.statusPatch } },
      action,
      outcome: result.outcome,
      server:
        serverId === undefined || action.type === 'ForgetServer'
          ? undefined
          : account?.observation.get(serverId),
      now: new Date(this.#now()).toISOString(),
      call,
      ...(leaks !== undefined && { leaked: leaks.leaked }),
    });
    if (PROVIDER_WRITES.has(action.type)) crashPoint('before-status');
    if (action.type !== 'RemoveFinalizer' && statusChanged(vps.status, status)) {
      current = await this.#writeStatus(current, status);
    }
    await clearSupersededMarkers(this.#d.writer, current, status);
    return status;
  }

  /** One Warning per stall, not one per pass that re-reads it (see warnings.ts). */
  #warnIfNewlyStalled(vps: VpsServer, credentials: CredentialsCheck, status: VpsServerStatus, wrote = false) {
    const uid = vps.metadata.uid;
    const stalled = status.conditions?.find((c) => c.type === 'Stalled');
    if (stalled?.status !== 'True') {
      // Past the stall only once VPS.org took a write or the resource is Ready: a pass in between
      // (adding the finalizer, say) must not make the same stall warn again.
      const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      if (wrote || ready) this.#warned.delete(uid);
      return;
    }
    const warning: StallWarning = {
      generation: vps.metadata.generation,
      credentialsVersion: credentials.ok ? credentials.version : '',
      reason: stalled.reason,
      message: stalled.message,
    };
    if (!stallWarningDue(warning, this.#warned.get(uid), vps.status)) return;
    this.#warned.set(uid, warning);
    this.#d.recordEvent(vps, 'Warning', warning.reason, warning.message);
  }

  /** What next: transient failures back off (429 pauses the whole account's budget first). */
  #next(vps: VpsServer, action: Action, result: ActResult, account: Account | undefined): Result {
    if (result.failure !== undefined && !result.failure.terminal) {
      throw new ProviderError(result.failure.message);
    }
    if (action.type === 'Wait') {
      account?.observation.refreshSoon();
      return { kind: 'requeueAfter', ms: action.ms };
    }
    if (action.type === 'Stalled' && action.reason === 'ServerNotFound')
      return { kind: 'requeueAfter', ms: this.#timings.notFoundRecheckMs ?? NOT_FOUND_RECHECK_MS };
    if (action.type === 'Nothing' || action.type === 'Stalled' || (result.failure?.terminal ?? false))
      return { kind: 'done' };
    if (action.type === 'RemoveFinalizer') this.#forget(vps, account);
    return { kind: 'requeueAfter', ms: AFTER_WRITE_MS };
  }

  /** Makes sure the account has been listed at least once; returns the failure if it cannot be. */
  async #ensureObserved(account: Account): Promise<ProviderFailure | undefined> {
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
    const ids = this.#owners.claimedByOthers(accountId, key);
    for (const raw of this.#d.listObjects?.() ?? []) {
      const named = serverIdsNamedBy(raw);
      if (named.key !== key) for (const id of named.ids) ids.add(id);
    }
    return ids;
  }

  /**
   * Runs the action; undefined when the object is gone (a metadata write answered 404). A
   * write that would wait long in the account's budget is not queued, nor its marker written:
   * the pass is deferred (see deferredPass).
   */
  async #act(
    vps: VpsServer,
    action: Action,
    account: Account | undefined,
    signal: AbortSignal,
  ): Promise<ActResult | Result | undefined> {
    const wait = PROVIDER_WRITES.has(action.type) ? account?.provider.longWait('write') : undefined;
    if (wait !== undefined) return deferredPass(this.#d.logger.child({ key: keyOf(vps) }), 'write', wait);
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
      if (isNotFound(err)) return undefined;
      if (isConflict(err))
        throw new StaleViewError(`conflict writing ${keyOf(vps)}; retrying with the newer object`);
      throw new Error(describeKubeError(err));
    }
  }

  /** Writes status; returns `vps` with the resourceVersion and annotations the API server answered with. */
  async #writeStatus(vps: VpsServer, status: VpsServer['status']): Promise<VpsServer> {
    let updated: unknown;
    try {
      updated = await this.#d.writer.patchStatus(vps.metadata, vps.status, status);
    } catch (err) {
      if (isNotFound(err)) return vps;
      // Based on a stale view (another writer, or a leader that lost its lease, moved it on):
      // nothing was written; the retry plans again from the newer object.
      if (isConflict(err))
        throw new StaleViewError(`conflict writing status of ${keyOf(vps)}; retrying with the newer object`);
      throw new Error(`writing status of ${keyOf(vps)}: ${describeKubeError(err)}`);
    }
    const resourceVersion = resourceVersionOf(updated);
    if (resourceVersion === undefined) return vps;
    return { ...vps, metadata: { ...vps.metadata, resourceVersion, annotations: annotationsOf(updated) } };
  }

  #reportListFailure(
    vps: VpsServer,
    credentials: CredentialsCheck,
    listFailure: ProviderFailure,
    log: Logger,
  ): Promise<Result> {
    const failure = withSource(listFailure, credentials);
    log.warn({ reason: failure.reason, err: failure.message }, 'cannot list servers');
    // A refused token is not asked again (nor warned about) until the credentials or spec change.
    if (failure.terminal) this.#stalls.remember(vps, credentials, failure.reason, failure.message);
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
    this.#warnIfNewlyStalled(vps, credentials, status);
    const write = statusChanged(vps.status, status) ? this.#writeStatus(vps, status) : Promise.resolve();
    return write.then(() => {
      if (failure.terminal) return { kind: 'done' } as const;
      throw new ProviderError(failure.message);
    });
  }

  #forget(vps: VpsServer, account: Account | undefined): void {
    this.#stalls.forget(vps);
    this.#warned.delete(vps.metadata.uid);
    this.#owners.remove(keyOf(vps));
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

/** `result`, or a requeue after `ms` if that is sooner. */
function sooner(result: Result, ms: number | undefined): Result {
  if (ms === undefined) return result;
  if (result.kind === 'requeueAfter' && result.ms <= ms) return result;
  return { kind: 'requeueAfter', ms };
}

/** What became of the pass's call to VPS.org, for Synced. */
function providerCallOf(
  writes: boolean,
  result: ActResult,
  stall: StallMemory | undefined,
  account: Account | undefined,
): ProviderCall {
  if (writes || !result.outcome.ok) return 'made';
  if (stall !== undefined) return { refused: stall };
  return account !== undefined ? 'observed' : 'none';
}

/** A refused token's message names where the token came from, which only the pass knows. */
function withSource(failure: ProviderFailure, credentials: CredentialsCheck): ProviderFailure {
  if (failure.reason !== 'Unauthorized' || !credentials.ok || credentials.source === undefined)
    return failure;
  return { ...failure, message: unauthorizedMessage(failure.detail, credentials.source) };
}

function withCredentialsSource(result: ActResult, credentials: CredentialsCheck): ActResult {
  if (result.failure === undefined || result.outcome.ok) return result;
  const failure = withSource(result.failure, credentials);
  return { ...result, failure, outcome: { ...result.outcome, message: failure.message } };
}

/** One line per decision: what was done and how it ended (writes and failures at info). */
function logDecision(log: Logger, action: Action, result: ActResult, durationMs: number): void {
  const { outcome } = result;
  const level =
    PROVIDER_WRITES.has(action.type) || !outcome.ok || action.type === 'Stalled' ? 'info' : 'debug';
  log[level](
    {
      action: action.type,
      ...actionDetail(action),
      outcome: outcome.ok ? 'ok' : outcome.reason,
      ...(!outcome.ok && { err: outcome.message }),
      durationMs,
    },
    'reconcile decision',
  );
}

/** The key of a VpsServer from the informer and the server ids it names in status or spec. */
function serverIdsNamedBy(raw: unknown): { key: string | undefined; ids: number[] } {
  if (typeof raw !== 'object' || raw === null) return { key: undefined, ids: [] };
  const field = (part: unknown, name: string): unknown =>
    typeof part === 'object' && part !== null ? Reflect.get(part, name) : undefined;
  const metadata = field(raw, 'metadata');
  const namespace = field(metadata, 'namespace');
  const name = field(metadata, 'name');
  const key = keyOf({
    metadata: {
      ...(typeof namespace === 'string' && { namespace }),
      ...(typeof name === 'string' && { name }),
    },
  });
  const ids = [field(field(raw, 'status'), 'serverId'), field(field(raw, 'spec'), 'serverId')].filter(
    (id): id is number => typeof id === 'number',
  );
  return { key, ids };
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
