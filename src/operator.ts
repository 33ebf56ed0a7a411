// Assembles a running operator from its configuration: Kubernetes clients, the shared provider
// call budget, per-account observation, the VpsServer informer and controller, leader
// election, metrics and health endpoints, and an orderly stop. Wiring only: every decision
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
import { CallBudget } from './runtime/call-budget.ts';
import { Controller } from './runtime/controller.ts';
import { enqueueKeys, Informer, stripManagedFields } from './runtime/informer.ts';
import { KubeListWatch } from './runtime/kube-list-watch.ts';
import { LeaderElector, leaseApi } from './runtime/leader-election.ts';
import type { CallBudgetMetrics, ReconcileMetrics, WorkQueueMetrics } from './runtime/metrics-hooks.ts';
import { type CallEvent, isVpsApiError, VpsOrgClient } from './vpsorg/index.ts';
import { Accounts } from './vpsserver/accounts.ts';
import type { CredentialsResolver } from './vpsserver/reconcile.ts';
import { VpsServerReconciler } from './vpsserver/reconcile.ts';
import { GROUP, PLURAL, VERSION, type VpsServer } from './vpsserver/types.ts';
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

export async function startOperator(config: OperatorConfig, deps: OperatorDeps): Promise<RunningOperator> {
  const { logger, metrics } = deps;
  const kc = reuseConnections(deps.kubeConfig);

  // The provider side: one budget for every call of every account, paused as a whole by a 429.
  const budget = new CallBudget({
    perInterval: config.apiRate.requests,
    intervalMs: config.apiRate.perMs,
    concurrency: config.apiConcurrency,
    retryAfterMs: (err) =>
      isVpsApiError(err) && err.status === 429 ? (err.retryAfterMs ?? 1_000) : undefined,
  });
  const providerLog = logger.child({ component: 'vpsorg' });
  let reconciler: VpsServerReconciler | undefined;
  const accounts = new Accounts({
    providerFor: (token, accountId) =>
      vpsOrgProvider(
        new VpsOrgClient({
          token,
          baseUrl: config.apiUrl,
          timeoutMs: config.requestTimeoutMs,
          onCall: (e) => {
            // Writes are rare and worth a line each; the periodic reads are debug noise.
            const level = e.endpoint === 'list' || e.endpoint === 'get' ? 'debug' : 'info';
            providerLog[level]({ account: accountId, ...e }, 'provider call');
            metrics?.providerCall(e);
          },
        }),
        budget,
      ),
    observation: {
      activeIntervalMs: config.observeActiveMs,
      restingIntervalMs: config.observeRestingMs,
      detailReadsPerMinute: config.detailReadsPerMinute,
    },
    onServersChanged: (accountId, ids) => reconciler?.serversChanged(accountId, ids),
    onObservationError: (accountId, err, what) =>
      providerLog.warn({ account: accountId, what, err: (err as Error).message }, 'observation failed'),
  });

  // The Kubernetes side.
  const secrets = new SecretReader(kc);
  const writer = new CustomResourceWriter(kc, { group: GROUP, version: VERSION, plural: PLURAL });
  const events = new EventRecorder(kc, {
    onError: (err, e) =>
      logger.warn({ reason: e.reason, err: (err as Error).message }, 'could not record event'),
  });
  const informers = (config.namespaces.length === 0 ? [undefined] : config.namespaces).map(
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
  const lookup = (key: string): unknown => {
    for (const inf of informers) {
      const obj = inf.get(key);
      if (obj !== undefined) return obj;
    }
    return undefined;
  };

  reconciler = new VpsServerReconciler({
    lookup,
    listObjects: () => informers.flatMap((inf) => inf.list()),
    writer,
    recordEvent: (target, type, reason, message) =>
      void events.record({
        target: target as VpsServer & { metadata: { resourceVersion: string } },
        type,
        reason,
        message,
      }),
    credentials: credentialsResolver(secrets, config, deps.fallbackToken),
    accounts,
    logger: logger.child({ controller: 'vpsserver' }),
    timings: {
      transitionalWaitMs: config.transitionalWaitMs,
      createProofMs: config.requestTimeoutMs * 2,
      clockSkewMs: 300_000,
    },
    ...(metrics !== undefined && {
      onAction: (_key: string, action: { type: string }, ok: boolean) => metrics.action(action.type, ok),
    }),
  });
  const controller = new Controller({
    name: 'vpsserver',
    reconciler,
    logger,
    workers: config.workers,
    ...(metrics !== undefined && {
      metrics: { queue: metrics.workQueue('vpsserver'), reconcile: metrics.reconcile('vpsserver') },
    }),
  });
  metrics?.setServersByStateSource(() => {
    const byState = new Map<string, number>();
    for (const account of accounts.all()) {
      for (const s of account.observation.servers()) byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
    }
    return byState;
  });
  metrics?.setResourceConditionsSource(() =>
    informers
      .flatMap((inf) => inf.list())
      .map((o) => (o as { status?: { conditions?: unknown } }).status?.conditions),
  );
  reconciler.enqueue = (key) => controller.queue.add(key);
  for (const inf of informers) inf.addEventHandler(enqueueKeys(controller.queue));

  // Standby replicas keep their caches warm, so a take-over starts from a synced cache.
  for (const inf of informers) inf.start();
  let synced = false;
  await Promise.all(informers.map((inf) => inf.waitForCacheSync()));
  synced = true;
  logger.info({ objects: informers.reduce((n, inf) => n + inf.keys().length, 0) }, 'caches synced');

  const elector = config.leaderElect
    ? new LeaderElector(leaseApi(kc), {
        name: config.leaderElectionId,
        namespace: config.leaderElectionNamespace,
        identity: `${hostname()}-${randomBytes(4).toString('hex')}`,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: Math.round(config.leaseDurationMs * (2 / 3)),
        retryPeriodMs: Math.max(200, Math.round(config.leaseDurationMs / 7.5)),
        logger: logger.child({ component: 'leader-election' }),
      })
    : undefined;

  let stopping = false;
  let leading = false;
  const finished = (async (): Promise<'lost'> => {
    if (elector !== undefined && !(await elector.acquire())) return new Promise<'lost'>(() => {});
    if (stopping) return new Promise<'lost'>(() => {});
    metrics?.setLeader(true);
    leading = true;
    controller.start();
    if (elector === undefined) return new Promise<'lost'>(() => {});
    const end = await elector.keepLeading();
    metrics?.setLeader(false);
    return end === 'lost' ? 'lost' : new Promise<'lost'>(() => {});
  })();

  return {
    ready: () => {
      if (!synced) return { ready: false, reason: 'caches not synced' };
      // A leader is ready once it has seen VPS.org at least once; a standby once its cache is warm.
      const accountsSeen = [...accounts.all()];
      if (leading && accountsSeen.length > 0 && accountsSeen.every((a) => a.observation.snapshotAt === 0)) {
        return { ready: false, reason: 'first observation of VPS.org not done' };
      }
      return { ready: true };
    },
    finished,
    async stop() {
      stopping = true;
      logger.info('shutting down');
      await controller.stop(config.shutdownGraceMs);
      await Promise.all(informers.map((inf) => inf.stop()));
      accounts.stop();
      await elector?.release();
      logger.info('stopped');
    },
  };
}

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
