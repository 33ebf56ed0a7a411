// `vps-operator run`: the operator process. Validates the configuration before anything starts
// (exit 2 with a message naming the flag), serves /metrics, /healthz and /readyz, runs the
// operator's Manager until SIGTERM/SIGINT, then shuts down gracefully and exits 0; a lost
// leader lease or caches that never sync exit 1 so the pod restarts, as controller-runtime does.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { configHelp, loadConfig } from '../config.ts';
import { startHttpEndpoints } from '../health.ts';
import { loadKubeConfig } from '../k8s/kubeconfig.ts';
import { createLogger } from '../logging.ts';
import { createMetrics } from '../metrics.ts';
import { assembleOperator } from '../operator.ts';
import { runUntilSignalled } from '../runtime/index.ts';
import { type Command, UsageError } from './command.ts';

const HELP = `Usage: vps-operator run [flags]

Runs the operator: watches VpsServer resources and makes VPS.org match them.

Flags (each also settable by environment variable or --config file):
${configHelp()}

Examples:
  vps-operator run --kubeconfig ~/.kube/config --default-credentials-secret vps-system/vps-org-credentials
  vps-operator run --leader-elect --namespaces shop,web --api-rate 5/s
`;

export const runCommand: Command = {
  name: 'run',
  summary: 'run the operator (watches VpsServers, reconciles them with VPS.org)',
  help: HELP,
  async run(argv) {
    const config = loadConfig(argv);
    const logger = createLogger({ level: config.logLevel, format: config.logFormat });
    let kubeConfig: ReturnType<typeof loadKubeConfig>;
    try {
      kubeConfig = loadKubeConfig(
        config.kubeconfig === undefined ? {} : { kubeconfigPath: config.kubeconfig },
      );
    } catch (err) {
      throw new UsageError(`cannot load Kubernetes credentials: ${(err as Error).message}`);
    }
    if (config.leaderElect && config.leaderElectionNamespace === '') {
      config.leaderElectionNamespace = podNamespace() ?? 'default';
    }

    if (config.claimsNamespace === '') config.claimsNamespace = podNamespace() ?? 'vps-operator-system';

    const metrics = createMetrics();
    let operatorReady: () => { ready: boolean; reason?: string } = () => ({
      ready: false,
      reason: 'starting',
    });
    let endpoints: Awaited<ReturnType<typeof startHttpEndpoints>>;
    try {
      endpoints = await startHttpEndpoints({
        metricsAddress: config.metricsBindAddress,
        healthAddress: config.healthProbeBindAddress,
        registry: metrics.registry,
        ready: () => operatorReady(),
        logger,
      });
    } catch (err) {
      throw new UsageError(
        `cannot serve --metrics-bind-address/--health-probe-bind-address: ${(err as Error).message}`,
      );
    }
    logger.info(
      {
        apiUrl: config.apiUrl,
        namespaces: config.namespaces.length === 0 ? 'all' : config.namespaces,
        leaderElect: config.leaderElect,
      },
      'starting vps-operator',
    );

    const operator = assembleOperator(config, {
      kubeConfig,
      logger,
      metrics,
      fallbackToken: process.env.VPS_API_TOKEN,
    });
    operatorReady = () => operator.ready();
    const code = await runUntilSignalled(operator, { logger });
    await endpoints.close();
    return code;
  },
};

/** The namespace a pod runs in, from its ServiceAccount mount. */
function podNamespace(): string | undefined {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
  } catch {
    return undefined;
  }
}
