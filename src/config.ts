// The operator's configuration: one table of options, each settable by flag, by environment
// variable (VPS_OPERATOR_<NAME>) or in a YAML file (--config), in that order of precedence.
// Every value is validated before anything starts; a bad one is a UsageError naming the flag
// and the accepted form (exit 2). The help text is generated from the same table.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { UsageError } from './cli/command.ts';
import { RATE_FORM, type Rate, readRate } from './decode/rate.ts';
import type { LeakPolicy } from './vpsserver/leaks.ts';
import {
  type NamespacePolicy,
  FORM as POLICY_FORM,
  parseNamespacePolicy,
} from './vpsserver/namespace-policy.ts';

export interface OperatorConfig {
  kubeconfig?: string;
  namespaces: string[];
  labelSelector?: string;
  defaultCredentialsSecret?: { namespace: string; name: string; key: string };
  apiUrl: string;
  requestTimeoutMs: number;
  apiRate: Rate;
  apiConcurrency: number;
  // Provider budgets (issue 17): per account, fair between namespaces, shared across shards.
  apiRateTotal?: Rate;
  apiRateAdaptive: boolean;
  apiRateShared: boolean;
  apiFairness: boolean;
  workers: number;
  resyncMs: number;
  observeActiveMs: number;
  observeRestingMs: number;
  detailReadsPerMinute: number;
  transitionalWaitMs: number;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionId: string;
  leaderElectionNamespace: string;
  leaseDurationMs: number;
  shutdownGraceMs: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  logFormat: 'json' | 'pretty';
  // Tenant isolation (issue 15): kept together so other option blocks merge cleanly.
  claimsNamespace: string;
  defaultCredentialsNamespaces: NamespacePolicy;
  adoptionNamespaces: NamespacePolicy;
  // The leak report (issue 16; docs/reliability.md).
  leakedServers: LeakPolicy;
  leakedServerGraceMs: number;
}

type Parser<T> = (raw: string) => T;

interface OptionSpec<K extends keyof OperatorConfig = keyof OperatorConfig> {
  key: K;
  flag: string;
  form: string;
  help: string;
  default?: string;
  parse: Parser<OperatorConfig[K]>;
  boolean?: boolean;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration such as 500ms, 10s, 5m or 1h. */
export function parseDuration(raw: string): number {
  const m = DURATION.exec(raw.trim());
  if (m === null) throw new Error('a duration like 500ms, 10s, 5m or 1h');
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** Parses a rate such as 10/s, 600/m or 5/2s (the grammar: src/decode/rate.ts). */
export function parseRate(raw: string): Rate {
  const rate = readRate(raw);
  if (rate === undefined) throw new Error(RATE_FORM);
  return rate;
}

const int =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`a whole number from ${min} to ${max}`);
    return n;
  };

const positiveDuration: Parser<number> = (raw) => {
  const ms = parseDuration(raw);
  if (ms <= 0) throw new Error('a duration greater than zero');
  return ms;
};

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    if (!(values as string[]).includes(raw)) throw new Error(`one of ${values.join(', ')}`);
    return raw as T;
  };

const url: Parser<string> = (raw) => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error('an http(s) URL such as https://admin.vps.org/api/v1');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new Error('an http(s) URL such as https://admin.vps.org/api/v1');
  if (u.username !== '' || u.password !== '')
    throw new Error('a URL without credentials (the token comes from a Secret)');
  return raw.replace(/\/+$/, '');
};

const bindAddress: Parser<string> = (raw) => {
  if (raw === '0' || /^([A-Za-z0-9.-]*|\[[0-9a-fA-F:]+\]):\d{1,5}$/.test(raw)) return raw;
  throw new Error('host:port, :port, or 0 to disable');
};

const secretRef: Parser<OperatorConfig['defaultCredentialsSecret']> = (raw) => {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)(?::([-._a-zA-Z0-9]+))?$/.exec(
    raw,
  );
  if (m === null) throw new Error('namespace/name or namespace/name:key of a Secret');
  return { namespace: m[1] as string, name: m[3] as string, key: m[5] ?? 'token' };
};

const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

const text: Parser<string> = (raw) => raw;
const bool: Parser<boolean> = (raw) => {
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new Error('true or false');
};

export const OPTIONS: OptionSpec[] = [
  {
    key: 'kubeconfig',
    flag: 'kubeconfig',
    form: 'path',
    help: 'kubeconfig file; default: in-cluster config, else $KUBECONFIG or ~/.kube/config',
    parse: text,
  },
  {
    key: 'namespaces',
    flag: 'namespaces',
    form: 'ns[,ns…]',
    help: 'namespaces to watch; empty = all namespaces',
    default: '',
    parse: list,
  },
  {
    key: 'labelSelector',
    flag: 'label-selector',
    form: 'selector',
    help: 'only reconcile VpsServers matching this label selector (sharding)',
    parse: text,
  },
  {
    key: 'defaultCredentialsSecret',
    flag: 'default-credentials-secret',
    form: 'ns/name[:key]',
    help: 'Secret with the API token for VpsServers without spec.credentialsSecretRef (key default "token")',
    parse: secretRef,
  },
  {
    key: 'apiUrl',
    flag: 'api-url',
    form: 'url',
    help: 'VPS.org API base URL',
    default: 'https://admin.vps.org/api/v1',
    parse: url,
  },
  {
    key: 'requestTimeoutMs',
    flag: 'request-timeout',
    form: 'duration',
    help: 'timeout of one call to VPS.org',
    default: '10s',
    parse: positiveDuration,
  },
  {
    key: 'apiRate',
    flag: 'api-rate',
    form: 'N/duration',
    help: 'provider call budget per account (API token): at most N calls per interval; a credentials Secret may set its own (annotation vps.org/api-rate)',
    default: '10/s',
    parse: parseRate,
  },
  {
    key: 'apiConcurrency',
    flag: 'api-concurrency',
    form: 'N',
    help: 'per account: provider calls in flight at once',
    default: '4',
    parse: int(1, 256),
  },
  // — provider budgets (issue 17) —
  {
    key: 'apiRateTotal',
    flag: 'api-rate-total',
    form: 'N/duration',
    help: 'optional cap on provider calls of all accounts together',
    parse: parseRate,
  },
  {
    key: 'apiRateAdaptive',
    flag: 'api-rate-adaptive',
    form: 'bool',
    help: "on a 429, halve the account's rate and recover it slowly (AIMD), never above its rate",
    default: 'true',
    parse: bool,
  },
  {
    key: 'apiFairness',
    flag: 'api-fairness',
    form: 'bool',
    help: 'serve the namespaces sharing an account in turn; false: one line per account, first come first served (for comparison)',
    default: 'true',
    parse: bool,
  },
  {
    key: 'apiRateShared',
    flag: 'api-rate-shared',
    form: '',
    help: "shards that use the same token split the account's rate and its 429 pauses through Leases",
    default: 'false',
    parse: bool,
    boolean: true,
  },
  {
    key: 'workers',
    flag: 'workers',
    form: 'N',
    help: 'VpsServers reconciled at once',
    default: '8',
    parse: int(1, 256),
  },
  {
    key: 'resyncMs',
    flag: 'resync-period',
    form: 'duration',
    help: 'every resource is reconciled again this often (drift detection)',
    default: '10m',
    parse: positiveDuration,
  },
  {
    key: 'observeActiveMs',
    flag: 'observe-active-interval',
    form: 'duration',
    help: 'server list interval while a server is changing state',
    default: '5s',
    parse: positiveDuration,
  },
  {
    key: 'observeRestingMs',
    flag: 'observe-resting-interval',
    form: 'duration',
    help: 'server list interval at rest',
    default: '60s',
    parse: positiveDuration,
  },
  {
    key: 'detailReadsPerMinute',
    flag: 'detail-reads-per-minute',
    form: 'N',
    help: 'per account: server detail reads (IPv6, usage, backups) per minute',
    default: '6',
    parse: int(0, 6000),
  },
  {
    key: 'transitionalWaitMs',
    flag: 'transitional-wait',
    form: 'duration',
    help: 'how long to wait before looking again at a server that is changing state',
    default: '5s',
    parse: positiveDuration,
  },
  {
    key: 'metricsBindAddress',
    flag: 'metrics-bind-address',
    form: 'host:port',
    help: 'Prometheus /metrics address; 0 disables',
    default: ':8080',
    parse: bindAddress,
  },
  {
    key: 'healthProbeBindAddress',
    flag: 'health-probe-bind-address',
    form: 'host:port',
    help: '/healthz and /readyz address; 0 disables',
    default: ':8081',
    parse: bindAddress,
  },
  {
    key: 'leaderElect',
    flag: 'leader-elect',
    form: '',
    help: 'use a Lease so only one replica reconciles',
    default: 'false',
    parse: bool,
    boolean: true,
  },
  {
    key: 'leaderElectionId',
    flag: 'leader-election-id',
    form: 'name',
    help: 'name of the Lease (one per shard)',
    default: 'vps-operator',
    parse: text,
  },
  {
    key: 'leaderElectionNamespace',
    flag: 'leader-election-namespace',
    form: 'ns',
    help: "namespace of the Lease; default: the pod's namespace, else default",
    default: '',
    parse: text,
  },
  {
    key: 'leaseDurationMs',
    flag: 'lease-duration',
    form: 'duration',
    help: 'how long a dead leader keeps the Lease before another replica takes over',
    default: '15s',
    parse: positiveDuration,
  },
  {
    key: 'shutdownGraceMs',
    flag: 'shutdown-grace-period',
    form: 'duration',
    help: 'on SIGTERM, how long in-flight reconciles may finish',
    default: '30s',
    parse: positiveDuration,
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    form: 'level',
    help: 'trace, debug, info, warn or error',
    default: 'info',
    parse: oneOf('trace', 'debug', 'info', 'warn', 'error'),
  },
  {
    key: 'logFormat',
    flag: 'log-format',
    form: 'format',
    help: 'json (for machines) or pretty (for humans)',
    default: 'json',
    parse: oneOf('json', 'pretty'),
  },
  // Tenant isolation (issue 15; docs/security.md).
  {
    key: 'claimsNamespace',
    flag: 'claims-namespace',
    form: 'ns',
    help: "namespace of the server claims (Leases): the same for every replica and shard; default: the pod's namespace, else vps-operator-system",
    default: '',
    parse: text,
  },
  {
    key: 'defaultCredentialsNamespaces',
    flag: 'default-credentials-namespaces',
    form: 'ns,…|selector:…|*',
    help: `namespaces whose VpsServers may use the default credentials (--default-credentials-secret or VPS_API_TOKEN): ${POLICY_FORM}`,
    default: '*',
    parse: parseNamespacePolicy,
  },
  {
    key: 'adoptionNamespaces',
    flag: 'adoption-namespaces',
    form: 'ns,…|selector:…|*',
    help: `namespaces whose VpsServers may adopt an existing server by spec.serverId: ${POLICY_FORM}`,
    default: '*',
    parse: parseNamespacePolicy,
  },
  // The leak report (issue 16; docs/reliability.md).
  {
    key: 'leakedServers',
    flag: 'leaked-servers',
    form: 'report|delete',
    help: "servers with a VpsServer's name and shape, made after it, that no VpsServer owns (likely duplicate creates): report them (status.leakedServerIds, a Warning Event, vps_leaked_servers) or also delete them once older than --leaked-server-grace; use delete only for accounts whose every server the operator manages",
    default: 'report',
    parse: oneOf<LeakPolicy>('report', 'delete'),
  },
  {
    key: 'leakedServerGraceMs',
    flag: 'leaked-server-grace',
    form: 'duration',
    help: 'with --leaked-servers=delete: how old a leaked server must be before it is deleted',
    default: '1h',
    parse: positiveDuration,
  },
];

const envName = (flag: string) => `VPS_OPERATOR_${flag.toUpperCase().replaceAll('-', '_')}`;

export function configHelp(): string {
  const rows = OPTIONS.map((o) => {
    const left = `  --${o.flag}${o.form === '' ? '' : ` ${o.form}`}`;
    const def = o.default !== undefined && o.default !== '' ? ` (default ${o.default})` : '';
    return `${left.padEnd(44)} ${o.help}${def}\n${''.padEnd(45)} env ${envName(o.flag)}`;
  });
  return [
    ...rows,
    `  --config path${''.padEnd(31)} YAML file with any of the options above, by flag name`,
    '',
    'The API token is never a flag: it comes from the default credentials Secret, or from the',
    'environment variable VPS_API_TOKEN when no Secret is configured.',
  ].join('\n');
}

/** Builds the configuration from argv, the environment and an optional YAML file. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const flagOptions = Object.fromEntries([
    ...OPTIONS.map((o) => [o.flag, { type: o.boolean ? 'boolean' : 'string' } as const]),
    ['config', { type: 'string' } as const],
  ]);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: flagOptions, allowPositionals: false, strict: true });
  } catch (err) {
    throw new UsageError(
      `${(err as Error).message.replace(/\. To specify.*$/s, '')}; run with --help for the flags`,
    );
  }
  const fileValues = readConfigFile((parsed.values.config as string | undefined) ?? env.VPS_OPERATOR_CONFIG);
  const config: Partial<Record<keyof OperatorConfig, unknown>> = {};
  for (const o of OPTIONS) {
    const fromFlag = parsed.values[o.flag];
    const fromEnv = env[envName(o.flag)];
    const fromFile = fileValues[o.flag];
    const [raw, source] =
      fromFlag !== undefined
        ? [String(fromFlag), `--${o.flag}`]
        : fromEnv !== undefined
          ? [fromEnv, envName(o.flag)]
          : fromFile !== undefined
            ? [String(fromFile), `${o.flag} in the config file`]
            : [o.default, `--${o.flag}`];
    if (raw === undefined) continue;
    try {
      config[o.key] = o.parse(raw);
    } catch (err) {
      throw new UsageError(`invalid ${source} "${raw}": expected ${(err as Error).message}`);
    }
  }
  return complete(config);
}

/**
 * The configuration, once every option with a default has a value: each value came from its
 * option's parser, so only a missing one can make it wrong (a bug in OPTIONS, not user input).
 */
function complete(config: Partial<Record<keyof OperatorConfig, unknown>>): OperatorConfig {
  const missing = OPTIONS.filter((o) => o.default !== undefined && config[o.key] === undefined);
  if (missing.length > 0) throw new Error(`no value for ${missing.map((o) => `--${o.flag}`).join(', ')}`);
  return config as OperatorConfig;
}

function readConfigFile(path: string | undefined): Record<string, unknown> {
  if (path === undefined || path === '') return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read --config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UsageError(`--config ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UsageError(`--config ${path} must be a YAML mapping of option names to values`);
  const known = new Set(OPTIONS.map((o) => o.flag));
  for (const k of Object.keys(doc)) {
    if (!known.has(k))
      throw new UsageError(
        `--config ${path}: unknown option "${k}"; options are named like the flags, e.g. api-rate`,
      );
  }
  return doc as Record<string, unknown>;
}
