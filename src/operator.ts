// Assembles a running operator from its configuration, top to bottom: the provider side (a
// call budget per account, fair between namespaces and optionally split between shards; one
// observation per account), the Kubernetes side (informers,
// status writer, events, Secrets), the VpsServer controller fed by both, and a runtime Manager
// that starts and stops them in order behind leader election. Wiring only: every decision
// lives in src/vpsserver, every mechanism in src/runtime.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { OperatorConfig } from './config.ts';
import { perSecond, RATE_FORM, readRate } from './decode/rate.ts';
import { ClaimStore } from './k8s/claim-store.ts';
import { isNotFound } from './k8s/errors.ts';
import { EventRecorder } from './k8s/events.ts';
import { reuseConnections } from './k8s/kubeconfig.ts';
import { NamespaceSet } from './k8s/namespace-set.ts';
import { API_RATE_ANNOTATION, SecretReader, secretProblemMessage } from './k8s/secrets.ts';
import { CustomResourceWriter } from './k8s/vpsservers.ts';
import {
  type CallBudgetMetrics,
  CallBudgets,
  ChannelSource,
  Controller,
  enqueueKeys,
  Informer,
  KubeListWatch,
  LeaderElector,
  leaseApi,
  Manager,
  type ReconcileMetrics,
  ShardSplit,
  stripManagedFields,
  type WorkQueueMetrics,
  withCallFlow,
} from './runtime/index.ts';
import { type CallEvent, isVpsApiError, VpsOrgClient } from './vpsorg/index.ts';
import { Accounts, accountIdOf } from './vpsserver/accounts.ts';
import {
  allows,
  describePolicy,
  type NamespacePolicy,
  refusalMessage,
} from './vpsserver/namespace-policy.ts';
import { ServerOwners } from './vpsserver/owners.ts';
import {
  type CredentialsResolver,
  VpsServerReconciler,
  type VpsServerReconcilerDeps,
} from './vpsserver/reconcile.ts';
import { ServerIndex } from './vpsserver/server-index.ts';
import { GROUP, PLURAL, VERSION } from './vpsserver/types.ts';
import { vpsOrgProvider } from './vpsserver/vpsorg-provider.ts';

/** The instruments the operator feeds (src/metrics.ts implements them with prom-client). */
export interface OperatorMetrics {
  workQueue(name: string): WorkQueueMetrics;
  reconcile(controller: string): ReconcileMetrics;
  /** The budget instruments of one account (its hashed id as label). */
  budget(account: string): CallBudgetMetrics;
  providerCall(event: CallEvent, account: string): void;
  action(action: string, ok: boolean): void;
  setLeader(leading: boolean): void;
  setServersByStateSource(source: () => Map<string, number>): void;
  /** status.conditions of every watched VpsServer (unvalidated), read at scrape time from the caches. */
  setResourceConditionsSource(source: () => Iterable<unknown>): void;
  /** Every watched VpsServer (unvalidated), for the leaked servers their status lists. */
  setLeakedServersSource(source: () => Iterable<unknown>): void;
}

export interface OperatorDeps {
  kubeConfig: KubeConfig;
  logger: Logger;
  metrics?: OperatorMetrics;
  /** Token used when neither the resource nor --default-credentials-secret names one (VPS_API_TOKEN). */
  fallbackToken?: string;
}

export interface RunningOperator {
  /** True once caches are synced and, when leading, the first reconcile has run. */
  readonly ready: () => { ready: boolean; reason?: string };
  /** Resolves when the operator stops by itself: leadership lost. */
  readonly finished: Promise<'lost'>;
  stop(): Promise<void>;
}

/** Servers of one account whose observable state changed at VPS.org. */
interface ServersChanged {
  accountId: string;
  ids: number[];
  /** The names of the changed servers still there: a server nobody owns may be a resource's leak. */
  names: string[];
}

/** What the assembly steps share: the clients, caches and event sources made first. */
interface Parts {
  config: OperatorConfig;
  deps: OperatorDeps;
  kc: KubeConfig;
  logger: Logger;
  /** Throws unless this replica may write (fencing). */
  leaseGuard: () => void;
  informers: Informer<KubernetesObject>[];
  lookup: (key: string) => KubernetesObject | undefined;
  writer: CustomResourceWriter;
  owners: ServerOwners;
  index: ServerIndex;
  serversChanged: ChannelSource<ServersChanged>;
  /** Keys to look at again for tenancy: a freed claim, a deleted claimant, a namespace's labels. */
  tenancyChanged: ChannelSource<Iterable<string>>;
  budgets: CallBudgets;
  split: ShardSplit | undefined;
  accounts: Accounts;
  elector: LeaderElector | undefined;
}

/** The operator as a Manager, not yet started: `vps-operator run` runs it until a signal. */
export function assembleOperator(config: OperatorConfig, deps: OperatorDeps): Manager {
  const parts = baseParts(config, deps);
  const claims = claimStore(parts);
  const policies = namespacePolicies(parts);
  const controller = vpsServerController(parts, claims, policies);
  feedController(parts, controller);
  return operatorManager(parts, claims, policies.sets, controller);
}

function baseParts(config: OperatorConfig, deps: OperatorDeps): Parts {
  const { logger } = deps;
  const kc = reuseConnections(deps.kubeConfig);
  const owners = new ServerOwners();
  // Every resource naming a server hears of its changes, not only the one this process saw own it.
  const index = new ServerIndex();
  const serversChanged = new ChannelSource<ServersChanged>(
    (c: ServersChanged) =>
      new Set([
        ...owners.ownersOf(c.accountId, c.ids),
        ...index.keysNaming(c.ids),
        ...c.names.flatMap((name) => index.keysAskingFor(name)),
      ]),
  );
  const identity = `${hostname()}-${randomBytes(4).toString('hex')}`;
  const elector = config.leaderElect ? leaderElector(kc, config, logger, identity) : undefined;
  // Fencing: every write to VPS.org and to Kubernetes first asks whether this replica still
  // holds a fresh lease (docs/reliability.md); one that was paused past it writes nothing.
  const leaseGuard = (): void => elector?.guard();
  const { budgets, split } = providerBudgets(kc, config, deps, identity);
  const accounts = vpsOrgAccounts(
    config,
    deps,
    budgets,
    split,
    (accountId, ids, names) => serversChanged.send({ accountId, ids, names }),
    leaseGuard,
  );
  const informers = vpsServerInformers(kc, config, logger);
  return {
    config,
    deps,
    kc,
    logger,
    leaseGuard,
    informers,
    lookup: (key) => informers.map((inf) => inf.get(key)).find((obj) => obj !== undefined),
    writer: new CustomResourceWriter(
      kc,
      { group: GROUP, version: VERSION, plural: PLURAL },
      { beforeWrite: leaseGuard },
    ),
    owners,
    index,
    serversChanged,
    tenancyChanged: new ChannelSource<Iterable<string>>((keys) => keys),
    budgets,
    split,
    accounts,
    elector,
  };
}

/** The claims (Leases) that give each server one owner. */
function claimStore({
  kc,
  config,
  logger,
  lookup,
  writer,
  index,
  tenancyChanged,
  leaseGuard,
}: Parts): ClaimStore {
  return new ClaimStore({
    kubeConfig: kc,
    namespace: config.claimsNamespace === '' ? 'vps-operator-system' : config.claimsNamespace,
    apiUrl: config.apiUrl,
    logger: logger.child({ component: 'claims' }),
    readHolder: async (namespace, name) => {
      // A holder in this process's cache is there (its deletion releases the claim and tells
      // the index); one outside it (another shard or namespace) is read fresh.
      const cached = lookup(`${namespace}/${name}`);
      if (cached !== undefined) return cached;
      try {
        return await writer.get(namespace, name);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    onReleased: (_accountId, serverId) => tenancyChanged.send(index.keysNaming([serverId])),
    beforeWrite: leaseGuard,
  });
}

/** Which namespaces may use the default credentials, and adopt; `sets` watch the labelled ones. */
interface Policies {
  mayUseDefault: (namespace: string) => boolean;
  mayAdopt: (namespace: string) => boolean;
  sets: NamespaceSet[];
}

function namespacePolicies({ kc, config, logger, informers, tenancyChanged }: Parts): Policies {
  // A label change re-reconciles every resource of the namespace, so it takes effect within one
  // watch event.
  const sets: NamespaceSet[] = [];
  const policy = (flag: string, p: NamespacePolicy) => {
    logger.info(
      { flag: `--${flag}`, policy: describePolicy(p) },
      p.all ? `every namespace may (--${flag}=*)` : `only these namespaces may (--${flag})`,
    );
    if (p.all || p.selector === undefined) return (ns: string) => allows(p, ns, false);
    const set = new NamespaceSet({
      kubeConfig: kc,
      labelSelector: p.selector,
      logger: logger.child({ component: 'namespaces', flag }),
      onChange: (ns) =>
        tenancyChanged.send(informers.flatMap((inf) => inf.keys().filter((k) => k.startsWith(`${ns}/`)))),
    });
    sets.push(set);
    return (ns: string) => allows(p, ns, set.has(ns));
  };
  return {
    mayUseDefault: policy('default-credentials-namespaces', config.defaultCredentialsNamespaces),
    mayAdopt: policy('adoption-namespaces', config.adoptionNamespaces),
    sets,
  };
}

/** The VpsServer reconciler behind the engine's Controller, fed by both event sources. */
function vpsServerController(p: Parts, claims: ClaimStore, policies: Policies): Controller {
  const { config, deps, kc, logger, informers } = p;
  const { metrics } = deps;
  const reconciler = new VpsServerReconciler({
    lookup: p.lookup,
    claims,
    adoptionAllowed: (ns) =>
      policies.mayAdopt(ns)
        ? { ok: true }
        : { ok: false, message: refusalMessage('adoption', ns, config.adoptionNamespaces) },
    listObjects: () => informers.flatMap((inf) => inf.list()),
    writer: p.writer,
    recordEvent: eventRecorder(kc, logger, p.leaseGuard),
    credentials: credentialsResolver(
      new SecretReader(kc),
      config,
      deps.fallbackToken,
      (token, rate) => p.budgets.setOverride(accountIdOf(token), rate),
      policies.mayUseDefault,
    ),
    accounts: p.accounts,
    owners: p.owners,
    logger: logger.child({ controller: 'vpsserver' }),
    timings: {
      transitionalWaitMs: config.transitionalWaitMs,
      createProofMs: config.requestTimeoutMs * 2,
      clockSkewMs: 300_000,
    },
    ...(metrics !== undefined && {
      onAction: (_key, action, ok) => metrics.action(action.type, ok),
      onLeakDeleted: (ok) => metrics.action('DeleteLeaked', ok),
    }),
    leaks: { policy: config.leakedServers, graceMs: config.leakedServerGraceMs },
    creatingNamed: (name, key) => p.index.creating(name, key),
  });
  // Each pass's provider calls are its namespace's flow: namespaces sharing an account take
  // turns in the budget, and in the work queue, or a backlog would wait there instead.
  const fair = config.apiFairness;
  return new Controller({
    name: 'vpsserver',
    reconciler: {
      reconcile: (key, signal) =>
        withCallFlow(fair ? namespaceOf(key) : '', () => reconciler.reconcile(key, signal)),
    },
    logger,
    workers: config.workers,
    ...(fair && { flowOf: namespaceOf }),
    ...(metrics !== undefined && {
      metrics: { queue: metrics.workQueue('vpsserver'), reconcile: metrics.reconcile('vpsserver') },
    }),
  })
    .watch(p.serversChanged)
    .watch(p.tenancyChanged);
}

/** The informers' events reach the queue and the server index; the caches feed the metrics. */
function feedController(
  { informers, index, tenancyChanged, accounts, deps }: Parts,
  controller: Controller,
): void {
  for (const inf of informers) {
    inf.addEventHandler({
      onAdd: (obj) => index.update(obj),
      onUpdate: (_old, obj) => index.update(obj),
      // Whoever else names the server of a deleted resource may now claim it.
      onDelete: (obj) => {
        const ids = index.remove(obj);
        if (ids.length > 0) tenancyChanged.send(index.keysNaming(ids));
      },
    });
    inf.addEventHandler(enqueueKeys(controller.queue));
  }
  deps.metrics?.setServersByStateSource(() => serversByState(accounts));
  deps.metrics?.setResourceConditionsSource(() =>
    informers
      .flatMap((inf) => inf.list())
      .map((o) => (o as { status?: { conditions?: unknown } }).status?.conditions),
  );
  deps.metrics?.setLeakedServersSource(() => informers.flatMap((inf) => inf.list()));
}

/** Everything under one Manager: start order, leader hand-off, readiness and shutdown. */
function operatorManager(
  { config, deps, logger, informers, split, accounts, budgets, elector }: Parts,
  claims: ClaimStore,
  policySets: NamespaceSet[],
  controller: Controller,
): Manager {
  const { metrics } = deps;
  const manager = new Manager({
    logger,
    gracefulShutdownMs: config.shutdownGraceMs,
    ...(elector !== undefined && { leaderElection: elector }),
    ...(metrics !== undefined && { onLeadingChange: (leading: boolean) => metrics.setLeader(leading) }),
  });
  // Standby replicas keep their caches warm, so a take-over starts from a synced cache.
  for (const inf of informers) manager.addInformer(inf);
  // The budget Leases are a leader's: a standby makes no calls, so it takes no share.
  if (split !== undefined) {
    manager.addController({
      name: 'budget-shards',
      start: () => void split.start(),
      stop: () => split.stop(),
    });
  }
  manager.addInformer(claims);
  for (const set of policySets) manager.addInformer(set);
  manager.addController(controller);
  manager.addRunnable({
    name: 'vpsorg-observation',
    start: () => {},
    stop: async () => {
      accounts.stop();
      budgets.close();
    },
  });
  // A leader is ready once it has seen VPS.org at least once; a standby once its cache is warm.
  manager.addReadyCheck(() =>
    manager.controllersStarted && noAccountObserved(accounts)
      ? 'first observation of VPS.org not done'
      : undefined,
  );
  return manager;
}

/** Assembles and starts the operator; resolves once its caches are synced (tests and `dev`). */
export async function startOperator(config: OperatorConfig, deps: OperatorDeps): Promise<RunningOperator> {
  const manager = assembleOperator(config, deps);
  const started = manager.start();
  started.catch((err: unknown) => deps.logger.error({ err }, 'operator failed to start'));
  await Promise.race([manager.cachesSynced(), started]);
  await manager.cachesSynced();
  return {
    ready: () => manager.ready(),
    finished: manager.leadershipLost.then(() => 'lost' as const),
    stop: () => manager.stop(),
  };
}

/**
 * The provider budgets: one per account (its own rate, 429 pause and learned rate), serving
 * the namespaces that use it in turn; optionally a total over all accounts; and with
 * --api-rate-shared the split of each account's rate between the shards using it.
 */
function providerBudgets(
  kc: KubeConfig,
  config: OperatorConfig,
  { logger, metrics }: OperatorDeps,
  identity: string,
): { budgets: CallBudgets; split: ShardSplit | undefined } {
  let split: ShardSplit | undefined;
  const budgets = new CallBudgets({
    perSecond: perSecond(config.apiRate),
    intervalMs: config.apiRate.perMs,
    ...(config.apiRateTotal !== undefined && { totalPerSecond: perSecond(config.apiRateTotal) }),
    concurrency: config.apiConcurrency,
    adaptive: config.apiRateAdaptive,
    retryAfterMs: (err) =>
      isVpsApiError(err) && err.status === 429 ? (err.retryAfterMs ?? 1_000) : undefined,
    // Without it the vps_provider_budget_* series stayed at zero (found by the alert rules test).
    ...(metrics !== undefined && { metricsFor: (account: string) => metrics.budget(account) }),
    onThrottled: (account, ms) => split?.throttled(account, ms),
  });
  if (config.apiRateShared) {
    split = new ShardSplit({
      kubeConfig: kc,
      namespace: config.leaderElectionNamespace || 'default',
      namePrefix: `${config.leaderElectionId}-budget`,
      accountLabel: BUDGET_ACCOUNT_LABEL,
      identity,
      leaseDurationMs: config.leaseDurationMs,
      onShare: (account, share) => budgets.setShare(account, share),
      callsPerWindow: (account) => (budgets.accountRate(account) * config.apiRate.perMs) / 1000,
      pause: (account, ms) => budgets.for(account).pauseFor(ms),
      windowMs: config.apiRate.perMs,
      logger,
    });
  }
  return { budgets, split };
}

/** One provider port and observation per VPS.org account, each behind its account's budget. */
function vpsOrgAccounts(
  config: OperatorConfig,
  { logger, metrics }: OperatorDeps,
  budgets: CallBudgets,
  split: ShardSplit | undefined,
  onServersChanged: (accountId: string, ids: number[], names: string[]) => void,
  beforeWrite: () => void,
): Accounts {
  const providerLog = logger.child({ component: 'vpsorg' });
  const onCall = (accountId: string) => (e: CallEvent) => {
    // Writes are rare and worth a line each; the periodic reads are debug noise.
    const level = e.endpoint === 'list' || e.endpoint === 'get' ? 'debug' : 'info';
    providerLog[level]({ account: accountId, ...e }, 'provider call');
    metrics?.providerCall(e, accountId);
  };
  return new Accounts({
    providerFor: (token, accountId) => {
      void split?.join(accountId);
      return vpsOrgProvider(
        new VpsOrgClient({
          token,
          baseUrl: config.apiUrl,
          timeoutMs: config.requestTimeoutMs,
          onCall: onCall(accountId),
        }),
        budgets.for(accountId),
        beforeWrite,
      );
    },
    observation: {
      activeIntervalMs: config.observeActiveMs,
      restingIntervalMs: config.observeRestingMs,
      detailReadsPerMinute: config.detailReadsPerMinute,
    },
    onServersChanged,
    onObservationError: (accountId, err, what) =>
      providerLog.warn({ account: accountId, what, err: (err as Error).message }, 'observation failed'),
  });
}

/** One VpsServer informer per watched namespace (one for all when none is named). */
function vpsServerInformers(
  kc: KubeConfig,
  config: OperatorConfig,
  logger: Logger,
): Informer<KubernetesObject>[] {
  return (config.namespaces.length === 0 ? [undefined] : config.namespaces).map(
    (ns) =>
      new Informer<KubernetesObject>({
        listWatch: new KubeListWatch({
          kubeConfig: kc,
          path:
            ns === undefined
              ? `/apis/${GROUP}/${VERSION}/${PLURAL}`
              : `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}`,
          ...(config.labelSelector !== undefined && { labelSelector: config.labelSelector }),
        }),
        resyncPeriodMs: config.resyncMs,
        transform: stripManagedFields,
        logger: logger.child({ component: 'informer', namespace: ns ?? '*' }),
      }),
  );
}

function leaderElector(
  kc: KubeConfig,
  config: OperatorConfig,
  logger: Logger,
  identity: string,
): LeaderElector {
  return new LeaderElector(leaseApi(kc), {
    name: config.leaderElectionId,
    namespace: config.leaderElectionNamespace,
    identity,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: Math.round(config.leaseDurationMs * (2 / 3)),
    retryPeriodMs: Math.max(200, Math.round(config.leaseDurationMs / 7.5)),
    logger: logger.child({ component: 'leader-election' }),
  });
}

function eventRecorder(
  kc: KubeConfig,
  logger: Logger,
  beforeWrite: () => void,
): VpsServerReconcilerDeps['recordEvent'] {
  const events = new EventRecorder(kc, {
    beforeWrite,
    onError: (err, e) =>
      logger.warn({ reason: e.reason, err: (err as Error).message }, 'could not record event'),
  });
  return (target, type, reason, message) => void events.record({ target, type, reason, message });
}

function serversByState(accounts: Accounts): Map<string, number> {
  const byState = new Map<string, number>();
  for (const account of accounts.all()) {
    for (const s of account.observation.servers()) byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
  }
  return byState;
}

const noAccountObserved = (accounts: Accounts): boolean => {
  const all = [...accounts.all()];
  return all.length > 0 && all.every((a) => a.observation.snapshotAt === 0);
};

/** Label of the budget Leases that names the account (its hashed id). */
export const BUDGET_ACCOUNT_LABEL = 'budget.vps.org/account';

/** The namespace of a `namespace/name` key ('' for a cluster-scoped one). */
const namespaceOf = (key: string): string => {
  const slash = key.indexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
};

/**
 * spec.credentialsSecretRef, else the operator's default Secret, else the fallback token. A
 * Secret's `vps.org/api-rate` annotation sets its account's rate (`onRate`, calls per second;
 * undefined: back to --api-rate); a malformed one is refused with the annotation named.
 */
/**
 * The calls per second a Secret's vps.org/api-rate annotation sets (undefined: none), or the
 * refusal that names the annotation and the fix. The grammar is the flags' (src/decode/rate.ts).
 */
function annotatedRate(
  text: string | undefined,
  secret: { namespace: string; name: string },
): number | undefined | { ok: false; reason: 'CredentialsInvalid'; message: string } {
  if (text === undefined) return undefined;
  const rate = readRate(text);
  if (rate !== undefined) return perSecond(rate);
  return {
    ok: false,
    reason: 'CredentialsInvalid',
    message: `Secret ${secret.namespace}/${secret.name} annotation ${API_RATE_ANNOTATION} "${text.slice(0, 40)}": expected ${RATE_FORM}; fix or remove the annotation`,
  };
}

function credentialsResolver(
  secrets: SecretReader,
  config: OperatorConfig,
  fallbackToken: string | undefined,
  onRate: (token: string, perSecond: number | undefined) => void,
  mayUseDefault: (namespace: string) => boolean,
): CredentialsResolver {
  return async (vps) => {
    const ref = vps.spec.credentialsSecretRef;
    // A resource's own Secret is always read in its own namespace; the operator's default only
    // for namespaces --default-credentials-namespaces allows.
    if (ref === undefined && !mayUseDefault(vps.metadata.namespace))
      return {
        check: {
          ok: false,
          reason: 'CredentialsNotAllowed',
          message: refusalMessage('credentials', vps.metadata.namespace, config.defaultCredentialsNamespaces),
        },
      };
    const where =
      ref !== undefined ? { namespace: vps.metadata.namespace, ...ref } : config.defaultCredentialsSecret;
    if (where !== undefined) {
      const secret = await secrets.read(where.namespace, where.name, where.key);
      const source = `Secret ${where.namespace}/${where.name} (key "${where.key}")`;
      const via =
        ref !== undefined ? 'spec.credentialsSecretRef' : "the operator's --default-credentials-secret";
      if (!secret.ok)
        return {
          check: { ok: false, reason: secret.reason, message: secretProblemMessage(secret.problem, via) },
        };
      const rate = annotatedRate(secret.rate, where);
      if (typeof rate === 'object') return { check: rate };
      onRate(secret.value, rate);
      return { check: { ok: true, version: secret.version, source }, token: secret.value };
    }
    if (fallbackToken !== undefined && fallbackToken !== '')
      return {
        check: { ok: true, version: 'env', source: "the operator's VPS_API_TOKEN" },
        token: fallbackToken,
      };
    return {
      check: {
        ok: false,
        reason: 'CredentialsNotFound',
        message:
          'set spec.credentialsSecretRef, or start the operator with --default-credentials-secret: no VPS.org credentials are configured',
      },
    };
  };
}
