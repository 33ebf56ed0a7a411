// Assembles a running operator from its configuration, top to bottom: the provider side (one
// call budget for every account, one observation per account), the Kubernetes side (informers,
// status writer, events, Secrets), the VpsServer controller fed by both, and a runtime Manager
// that starts and stops them in order behind leader election. Wiring only: every decision
// lives in src/vpsserver, every mechanism in src/runtime.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { OperatorConfig } from './config.ts';
import { EventRecorder } from './k8s/events.ts';
import { reuseConnections } from './k8s/kubeconfig.ts';
import { SecretReader } from './k8s/secrets.ts';
import { CustomResourceWriter } from './k8s/vpsservers.ts';
import {
  CallBudget,
  type CallBudgetMetrics,
  ChannelSource,
  Controller,
  enqueueKeys,
  Informer,
  KubeListWatch,
  LeaderElector,
  leaseApi,
  Manager,
  type ReconcileMetrics,
  stripManagedFields,
  type WorkQueueMetrics,
} from './runtime/index.ts';
import { type CallEvent, isVpsApiError, VpsOrgClient } from './vpsorg/index.ts';
import { Accounts } from './vpsserver/accounts.ts';
import { ServerOwners } from './vpsserver/owners.ts';
import {
  type CredentialsResolver,
  VpsServerReconciler,
  type VpsServerReconcilerDeps,
} from './vpsserver/reconcile.ts';
import { GROUP, PLURAL, VERSION } from './vpsserver/types.ts';
import { vpsOrgProvider } from './vpsserver/vpsorg-provider.ts';

/** The instruments the operator feeds (src/metrics.ts implements them with prom-client). */
export interface OperatorMetrics {
  workQueue(name: string): WorkQueueMetrics;
  reconcile(controller: string): ReconcileMetrics;
  budget: CallBudgetMetrics;
  providerCall(event: CallEvent): void;
  action(action: string, ok: boolean): void;
  setLeader(leading: boolean): void;
  setServersByStateSource(source: () => Map<string, number>): void;
  /** status.conditions of every watched VpsServer (unvalidated), read at scrape time from the caches. */
  setResourceConditionsSource(source: () => Iterable<unknown>): void;
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
}

/** The operator as a Manager, not yet started: `vps-operator run` runs it until a signal. */
export function assembleOperator(config: OperatorConfig, deps: OperatorDeps): Manager {
  const { logger, metrics } = deps;
  const kc = reuseConnections(deps.kubeConfig);
  const owners = new ServerOwners();
  const serversChanged = new ChannelSource<ServersChanged>((c: ServersChanged) =>
    owners.ownersOf(c.accountId, c.ids),
  );
  const elector = config.leaderElect ? leaderElector(kc, config, logger) : undefined;
  // Fencing: every write to VPS.org and to Kubernetes first asks whether this replica still
  // holds a fresh lease (docs/reliability.md); one that was paused past it writes nothing.
  const leaseGuard = (): void => elector?.guard();
  const accounts = vpsOrgAccounts(
    config,
    deps,
    (accountId, ids) => serversChanged.send({ accountId, ids }),
    leaseGuard,
  );
  const informers = vpsServerInformers(kc, config, logger);
  const reconciler = new VpsServerReconciler({
    lookup: (key) => informers.map((inf) => inf.get(key)).find((obj) => obj !== undefined),
    listObjects: () => informers.flatMap((inf) => inf.list()),
    writer: new CustomResourceWriter(
      kc,
      { group: GROUP, version: VERSION, plural: PLURAL },
      { beforeWrite: leaseGuard },
    ),
    recordEvent: eventRecorder(kc, logger, leaseGuard),
    credentials: credentialsResolver(new SecretReader(kc), config, deps.fallbackToken),
    accounts,
    owners,
    logger: logger.child({ controller: 'vpsserver' }),
    timings: {
      transitionalWaitMs: config.transitionalWaitMs,
      createProofMs: config.requestTimeoutMs * 2,
      clockSkewMs: 300_000,
    },
    ...(metrics !== undefined && { onAction: (_key, action, ok) => metrics.action(action.type, ok) }),
  });
  const controller = new Controller({
    name: 'vpsserver',
    reconciler,
    logger,
    workers: config.workers,
    ...(metrics !== undefined && {
      metrics: { queue: metrics.workQueue('vpsserver'), reconcile: metrics.reconcile('vpsserver') },
    }),
  }).watch(serversChanged);
  for (const inf of informers) inf.addEventHandler(enqueueKeys(controller.queue));
  metrics?.setServersByStateSource(() => serversByState(accounts));
  metrics?.setResourceConditionsSource(() =>
    informers
      .flatMap((inf) => inf.list())
      .map((o) => (o as { status?: { conditions?: unknown } }).status?.conditions),
  );

  const manager = new Manager({
    logger,
    gracefulShutdownMs: config.shutdownGraceMs,
    ...(elector !== undefined && { leaderElection: elector }),
    ...(metrics !== undefined && { onLeadingChange: (leading: boolean) => metrics.setLeader(leading) }),
  });
  // Standby replicas keep their caches warm, so a take-over starts from a synced cache.
  for (const inf of informers) manager.addInformer(inf);
  manager.addController(controller);
  manager.addRunnable({ name: 'vpsorg-observation', start: () => {}, stop: async () => accounts.stop() });
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

/** One provider port and observation per VPS.org account, all behind one call budget. */
function vpsOrgAccounts(
  config: OperatorConfig,
  { logger, metrics }: OperatorDeps,
  onServersChanged: (accountId: string, ids: number[]) => void,
  beforeWrite: () => void,
): Accounts {
  // One budget for every call of every account, paused as a whole by a 429.
  const budget = new CallBudget({
    perInterval: config.apiRate.requests,
    intervalMs: config.apiRate.perMs,
    concurrency: config.apiConcurrency,
    retryAfterMs: (err) =>
      isVpsApiError(err) && err.status === 429 ? (err.retryAfterMs ?? 1_000) : undefined,
    // Without it the vps_provider_budget_* series stayed at zero (found by the alert rules test).
    ...(metrics !== undefined && { metrics: metrics.budget }),
  });
  const providerLog = logger.child({ component: 'vpsorg' });
  const onCall = (accountId: string) => (e: CallEvent) => {
    // Writes are rare and worth a line each; the periodic reads are debug noise.
    const level = e.endpoint === 'list' || e.endpoint === 'get' ? 'debug' : 'info';
    providerLog[level]({ account: accountId, ...e }, 'provider call');
    metrics?.providerCall(e);
  };
  return new Accounts({
    providerFor: (token, accountId) =>
      vpsOrgProvider(
        new VpsOrgClient({
          token,
          baseUrl: config.apiUrl,
          timeoutMs: config.requestTimeoutMs,
          onCall: onCall(accountId),
        }),
        budget,
        beforeWrite,
      ),
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

function leaderElector(kc: KubeConfig, config: OperatorConfig, logger: Logger): LeaderElector {
  return new LeaderElector(leaseApi(kc), {
    name: config.leaderElectionId,
    namespace: config.leaderElectionNamespace,
    identity: `${hostname()}-${randomBytes(4).toString('hex')}`,
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

/** spec.credentialsSecretRef, else the operator's default Secret, else the fallback token. */
function credentialsResolver(
  secrets: SecretReader,
  config: OperatorConfig,
  fallbackToken: string | undefined,
): CredentialsResolver {
  return async (vps) => {
    const ref = vps.spec.credentialsSecretRef;
    const where =
      ref !== undefined ? { namespace: vps.metadata.namespace, ...ref } : config.defaultCredentialsSecret;
    if (where !== undefined) {
      const secret = await secrets.read(where.namespace, where.name, where.key);
      return secret.ok
        ? { check: { ok: true, version: secret.version }, token: secret.value }
        : { check: secret };
    }
    if (fallbackToken !== undefined && fallbackToken !== '')
      return { check: { ok: true, version: 'env' }, token: fallbackToken };
    return {
      check: {
        ok: false,
        reason: 'CredentialsNotFound',
        message:
          'No VPS.org credentials: set spec.credentialsSecretRef, or start the operator with --default-credentials-secret',
      },
    };
  };
}
