// `vps-operator simulator`: runs the VPS.org API simulator as a process (make dev, chaos runs,
// curl by hand). Flags override the YAML file given with --config; every bad value becomes a
// UsageError naming the flag or field (the CLI exits 2). Logs are pino JSON on stdout, one line
// per request, never a token; SIGINT/SIGTERM close the server and run() resolves 0.

import process from 'node:process';
import { parseArgs } from 'node:util';
import { createLogger, type LoggerOptions } from '../logging.ts';
import { loadConfigFile } from '../simulator/config-file.ts';
import * as decode from '../simulator/decode.ts';
import { type FaultRule, parseEndpointName } from '../simulator/faults.ts';
import { DEFAULT_CREDITS, resolveOptions, type SimulatorOptions } from '../simulator/options.ts';
import { parseRateLimitValue } from '../simulator/rate-limit.ts';
import { startSimulator } from '../simulator/simulator.ts';
import { type Command, UsageError } from './command.ts';

const TOKEN_ENV = 'VPS_SIM_TOKEN';

const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  token: { type: 'string' },
  account: { type: 'string' },
  credits: { type: 'string' },
  'time-scale': { type: 'string' },
  'provisioning-seconds': { type: 'string' },
  'transition-seconds': { type: 'string' },
  'rate-limit': { type: 'string' },
  'page-size': { type: 'string' },
  config: { type: 'string' },
  inspect: { type: 'boolean' },
  seed: { type: 'string' },
  'fault-rate': { type: 'string' },
  'fault-statuses': { type: 'string' },
  latency: { type: 'string' },
  'drop-rate': { type: 'string' },
  'lost-response-rate': { type: 'string' },
  'hang-rate': { type: 'string' },
  'garble-rate': { type: 'string' },
  'fault-endpoints': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
} as const;

type Flags = { [K in keyof typeof FLAGS]?: (typeof FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

const HELP = `vps-operator simulator — a VPS.org API server for tests, benchmarks and local demos

Serves the 9 endpoints of the VPS.org Servers API under /api/v1/servers/ with accounts, credits,
asynchronous server states, a per-token rate limit, pagination and injectable faults.

Usage: vps-operator simulator [flags]

Server:
  --port N                     TCP port; 0 picks a free one                      (default 8080)
  --host ADDR                  address to listen on                              (default 127.0.0.1)
  --config FILE                YAML file with any option (see docs/simulator.md); flags win

Account (more accounts: --config):
  --token T                    API token clients send as "Authorization: Bearer T"
                               (default: $${TOKEN_ENV}, which keeps it out of the process list)
  --account NAME               label of that account in logs and /_sim/          (default default)
  --credits N                  credits of that account; plan 1 costs 5, plan 2 costs 10
                                                                                 (default ${DEFAULT_CREDITS})

Time:
  --time-scale N               speed-up of simulated time; 60 turns minutes into seconds
                                                                                 (default 1)
  --provisioning-seconds A-B   simulated seconds from create to active           (default 120-300)
  --transition-seconds A-B     simulated seconds of starting/stopping/rebooting  (default 10-30)

Provider limits:
  --rate-limit R               per-token limit: 10/s, 600/min, 5/100ms or off    (default off)
  --page-size N                servers per page of GET /servers/                 (default 100)

Faults (one rule; replaces faults from --config):
  --fault-rate P               share 0..1 of requests answered with an error     (default 0)
  --fault-statuses LIST        statuses drawn for injected errors                (default 500,502,503)
  --latency MS|A-B             added latency in ms, fixed or a range             (default 0)
  --drop-rate P                share of connections closed without a reply       (default 0)
  --lost-response-rate P       share of requests carried out whose reply is lost (default 0)
  --hang-rate P                share of requests never answered (client timeout) (default 0)
  --garble-rate P              share of replies sent broken: HTML, cut JSON, wrong
                               types, unknown state, empty body                  (default 0)
  --fault-endpoints LIST       endpoints the faults hit: list,create,get,put,patch,delete,
                               start,stop,reboot                                 (default all)
  --seed N                     seed of the random source (durations, faults)     (default random)

Inspection:
  --inspect                    serve the control API under /_sim/ (no auth!)     (default off)

Logging:
  --log-level L                trace, debug, info, warn, error or silent         (default info)
  --log-format F               json (one object a line, on stdout) or pretty     (default json)

Examples:
  ${TOKEN_ENV}=dev-token vps-operator simulator --time-scale 60 --inspect
  vps-operator simulator --port 8080 --token dev-token --rate-limit 10/s --fault-rate 0.2
  vps-operator simulator --config sim.yaml --lost-response-rate 0.1 --fault-endpoints create
  curl -H "Authorization: Bearer dev-token" http://127.0.0.1:8080/api/v1/servers/`;

export const simulatorCommand: Command = {
  name: 'simulator',
  summary: 'run a VPS.org API simulator (tests, benchmarks, local demo)',
  help: HELP,
  async run(argv) {
    const flags = parseFlags(argv);
    const logger = loggerFrom(flags);
    const options = await optionsFrom(flags, process.env[TOKEN_ENV]);
    try {
      resolveOptions(options);
    } catch (err) {
      throw asUsageError(err);
    }
    const simulator = await startSimulator({ ...options, logger }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE' && err.code !== 'EADDRNOTAVAIL' && err.code !== 'EACCES') throw err;
      throw new UsageError(
        `--port/--host: cannot listen on ${options.host ?? '127.0.0.1'}:${options.port} (${err.code})`,
      );
    });
    logger.info(
      {
        url: simulator.url,
        apiBaseUrl: simulator.apiBaseUrl,
        seed: simulator.seed,
        inspect: options.inspect ?? false,
      },
      `VPS.org simulator listening: API base URL ${simulator.apiBaseUrl}`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    logger.info('shutting down');
    await simulator.close();
    logger.flush();
    return 0;
  },
};

const LOG_LEVELS: LoggerOptions['level'][] = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];

/** The project's one logger factory, so token redaction is the operator's too. */
function loggerFrom(flags: Flags) {
  const level = LOG_LEVELS.find((l) => l === (flags['log-level'] ?? 'info'));
  if (level === undefined) {
    throw new UsageError(
      `--log-level: expected one of ${LOG_LEVELS.join(', ')} (got "${flags['log-level']}")`,
    );
  }
  const format = flags['log-format'] ?? 'json';
  if (format !== 'json' && format !== 'pretty') {
    throw new UsageError(`--log-format: expected json or pretty (got "${format}")`);
  }
  return createLogger({ level, format, base: { name: 'vps-simulator' } });
}

function parseFlags(argv: string[]): Flags {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; run \`vps-operator simulator --help\``);
  }
}

/** Options of the config file (if any) overridden by the flags. */
export async function optionsFrom(flags: Flags, envToken: string | undefined): Promise<SimulatorOptions> {
  try {
    const options: SimulatorOptions = flags.config === undefined ? {} : await loadConfigFile(flags.config);
    const value = <T>(flag: keyof Flags, parse: (text: string) => T): T | undefined => {
      const text = flags[flag];
      return typeof text === 'string' ? parse(text) : undefined;
    };
    options.port =
      value('port', (t) => decode.integer(Number(t), '--port', 0, 65535)) ?? options.port ?? 8080;
    options.host = flags.host ?? options.host;
    options.timeScale = value('time-scale', (t) => positive(t, '--time-scale')) ?? options.timeScale;
    options.provisioningSeconds =
      value('provisioning-seconds', (t) => decode.parseRangeText(t, '--provisioning-seconds', 'seconds')) ??
      options.provisioningSeconds;
    options.transitionSeconds =
      value('transition-seconds', (t) => decode.parseRangeText(t, '--transition-seconds', 'seconds')) ??
      options.transitionSeconds;
    const rateLimit = flags['rate-limit'];
    if (rateLimit !== undefined) options.rateLimit = parseRateLimitValue(rateLimit, '--rate-limit');
    options.pageSize =
      value('page-size', (t) => decode.integer(Number(t), '--page-size', 1)) ?? options.pageSize;
    options.seed = value('seed', (t) => decode.integer(Number(t), '--seed', 0, 2 ** 32 - 1)) ?? options.seed;
    if (flags.inspect === true) options.inspect = true;
    const faults = faultRuleFrom(flags);
    if (faults !== undefined) options.faults = faults;
    options.accounts = accountsFrom(flags, envToken, options.accounts);
    return withoutUndefined(options);
  } catch (err) {
    throw asUsageError(err);
  }
}

/** The account of --token/$VPS_SIM_TOKEN, replacing a config account of the same name. */
function accountsFrom(flags: Flags, envToken: string | undefined, fromConfig: SimulatorOptions['accounts']) {
  const token = flags.token ?? (envToken === '' ? undefined : envToken);
  if (token === undefined) {
    if (fromConfig === undefined) {
      throw new UsageError(`no API token: pass --token <t>, set ${TOKEN_ENV}, or list accounts in --config`);
    }
    if (flags.credits !== undefined || flags.account !== undefined) {
      throw new UsageError(`--credits and --account need --token or ${TOKEN_ENV}`);
    }
    return fromConfig;
  }
  const name = flags.account ?? 'default';
  const credits =
    flags.credits === undefined ? DEFAULT_CREDITS : decode.number(Number(flags.credits), '--credits', 0);
  return [...(fromConfig ?? []).filter((a) => a.name !== name), { name, token, credits }];
}

function faultRuleFrom(flags: Flags): FaultRule | undefined {
  const rule: FaultRule = {};
  const share = (flag: keyof Flags): number | undefined => {
    const text = flags[flag];
    return typeof text === 'string' ? decode.share(Number(text), `--${flag}`) : undefined;
  };
  const errorRate = share('fault-rate');
  const dropRate = share('drop-rate');
  const lostResponseRate = share('lost-response-rate');
  if (errorRate !== undefined) rule.errorRate = errorRate;
  if (dropRate !== undefined) rule.dropRate = dropRate;
  if (lostResponseRate !== undefined) rule.lostResponseRate = lostResponseRate;
  const hangRate = share('hang-rate');
  if (hangRate !== undefined) rule.hangRate = hangRate;
  const garbleRate = share('garble-rate');
  if (garbleRate !== undefined) rule.garbleRate = garbleRate;
  if (flags['fault-statuses'] !== undefined) {
    rule.errorStatuses = list(flags['fault-statuses']).map((s) =>
      decode.integer(Number(s), '--fault-statuses', 400, 599),
    );
  }
  if (flags.latency !== undefined) {
    const latency = decode.parseRangeText(flags.latency, '--latency', 'milliseconds');
    rule.latencyMs = latency.min === latency.max ? latency.min : latency;
  }
  if (flags['fault-endpoints'] !== undefined) {
    rule.endpoints = list(flags['fault-endpoints']).map((e) => parseEndpointName(e, '--fault-endpoints'));
  }
  return Object.keys(rule).length === 0 ? undefined : rule;
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) decode.fail(flag, 'a number > 0');
  return n;
}

const list = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function withoutUndefined(options: SimulatorOptions): SimulatorOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SimulatorOptions;
}

function asUsageError(err: unknown): unknown {
  if (err instanceof decode.DecodeError) return new UsageError(err.message);
  return err;
}
