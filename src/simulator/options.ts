// Everything a simulator run can be configured with, documented on the type with its default,
// and the one place that fills in defaults and rejects impossible values (naming the option),
// whether the options come from a test, the CLI flags or a YAML file.

import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { createLogger } from '../logging.ts';
import { buildCatalogue, type Catalogue, type CatalogueInput } from './catalogue.ts';
import { fail } from './decode.ts';
import { type FaultConfig, type FaultRule, parseFaultConfig } from './faults.ts';
import { parseRateLimitValue, type RateLimit } from './rate-limit.ts';
import type { SecondsRange } from './sim-time.ts';
import type { AccountSpec } from './store.ts';

/** The token of the default account, for tests and `make dev` (never a real credential). */
export const DEFAULT_TOKEN = 'sim-token';
export const DEFAULT_CREDITS = 100_000;

export interface SimulatorOptions {
  /** TCP port to listen on; 0 picks a free ephemeral port. @default 0 */
  port?: number;
  /** Address to listen on. @default '127.0.0.1' */
  host?: string;
  /**
   * API accounts, each with its own token, credits and servers.
   * @default [{ name: 'default', token: 'sim-token', credits: 100000 }]
   */
  accounts?: AccountSpec[];
  /**
   * Plans, OS images and locations added to the defaults of the docs (plans 1 and 2, OS 3 and 5,
   * us-west and us-east); an entry with an existing id replaces it. @default {}
   */
  catalogue?: CatalogueInput;
  /** How much faster than the provider time runs: 60 turns its minutes into seconds. @default 1 */
  timeScale?: number;
  /** Simulated seconds from create to `active`, drawn uniformly. @default { min: 120, max: 300 } */
  provisioningSeconds?: SecondsRange;
  /** Simulated seconds of `starting`, `stopping` and `rebooting`. @default { min: 10, max: 30 } */
  transitionSeconds?: SecondsRange;
  /**
   * Per-token request budget (token bucket): `{ requests, perMs }`, a string like `'10/s'` or
   * `'600/min'`, or null for none. Excess requests get 429 with Retry-After. @default null
   */
  rateLimit?: RateLimit | string | null;
  /**
   * Milliseconds after a 429 during which further requests of the same token are taken to have
   * been in flight already, not counted as Retry-After violations. @default 250
   */
  retryAfterGraceMs?: number;
  /** Servers per page of `GET /servers/`. @default 100 */
  pageSize?: number;
  /** Injected faults (see FaultRule); changeable at run time. @default null (none) */
  faults?: FaultConfig | null;
  /** Serve the inspection and control API under `/_sim/` (no auth: never expose it). @default false */
  inspect?: boolean;
  /** Seed of the random source behind durations and faults. @default a random seed (logged) */
  seed?: number;
  /** Wall clock in ms since the epoch; inject a fake one to drive time in tests. @default Date.now */
  clock?: () => number;
  /** Where request lines go; never receives a token. @default a silent pino logger */
  logger?: Logger;
}

/** Options with every default filled in and checked. */
export interface ResolvedOptions {
  port: number;
  host: string;
  accounts: AccountSpec[];
  catalogue: Catalogue;
  timeScale: number;
  provisioningSeconds: SecondsRange;
  transitionSeconds: SecondsRange;
  rateLimit: RateLimit | null;
  retryAfterGraceMs: number;
  pageSize: number;
  faults: FaultRule[];
  inspect: boolean;
  seed: number;
  clock: () => number;
  logger: Logger;
}

/** Fills in defaults; throws DecodeError naming the first impossible option. */
export function resolveOptions(options: SimulatorOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    accounts: options.accounts ?? [{ name: 'default', token: DEFAULT_TOKEN, credits: DEFAULT_CREDITS }],
    catalogue: buildCatalogue(options.catalogue),
    timeScale: options.timeScale ?? 1,
    provisioningSeconds: options.provisioningSeconds ?? { min: 120, max: 300 },
    transitionSeconds: options.transitionSeconds ?? { min: 10, max: 30 },
    rateLimit: resolveRateLimit(options.rateLimit ?? null),
    retryAfterGraceMs: options.retryAfterGraceMs ?? 250,
    pageSize: options.pageSize ?? 100,
    // Checked like a config file's, so a typo in a test fails loudly too.
    faults: parseFaultConfig(options.faults ?? null, 'faults'),
    inspect: options.inspect ?? false,
    seed: options.seed ?? randomInt(0, 2 ** 32),
    clock: options.clock ?? (() => Date.now()),
    logger: options.logger ?? createLogger({ level: 'silent', format: 'json' }),
  };
  checkResolved(resolved);
  return resolved;
}

function checkResolved(o: ResolvedOptions): void {
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
    fail('port', 'an integer from 0 to 65535');
  }
  if (!(o.timeScale > 0) || !Number.isFinite(o.timeScale)) fail('timeScale', 'a number > 0');
  checkRange(o.provisioningSeconds, 'provisioningSeconds');
  checkRange(o.transitionSeconds, 'transitionSeconds');
  if (!Number.isInteger(o.pageSize) || o.pageSize < 1) fail('pageSize', 'an integer ≥ 1');
  if (!(o.retryAfterGraceMs >= 0)) fail('retryAfterGraceMs', 'a number ≥ 0');
  if (o.accounts.length === 0) fail('accounts', 'at least one account');
  o.accounts.forEach((account, i) => {
    if (account.name === '') fail(`accounts[${i}].name`, 'a non-empty string');
    if (account.token === '' || /\s/.test(account.token)) {
      fail(`accounts[${i}].token`, 'a non-empty string without spaces');
    }
    if (!(account.credits >= 0)) fail(`accounts[${i}].credits`, 'a number ≥ 0');
  });
  const names = new Set(o.accounts.map((a) => a.name));
  const tokens = new Set(o.accounts.map((a) => a.token));
  if (names.size !== o.accounts.length) fail('accounts', 'unique account names');
  if (tokens.size !== o.accounts.length) fail('accounts', 'a different token for each account');
  if (!Number.isInteger(o.seed)) fail('seed', 'an integer');
}

function checkRange(range: SecondsRange, field: string): void {
  if (!(range.min >= 0) || !(range.max >= range.min)) fail(field, '{ min, max } with 0 ≤ min ≤ max');
}

function resolveRateLimit(value: RateLimit | string | null): RateLimit | null {
  if (typeof value !== 'string') {
    if (value !== null && !(value.requests >= 1 && value.perMs > 0)) {
      fail('rateLimit', '{ requests ≥ 1, perMs > 0 }');
    }
    return value;
  }
  return parseRateLimitValue(value, 'rateLimit');
}
