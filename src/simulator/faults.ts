// Injected failures, the way a real network and a real provider misbehave: errors from the
// front proxy (500/502/503), latency, connections dropped before the API sees the request,
// and replies lost after it acted (the create that made a server nobody heard about). Rules
// are plain data so they can come from options, YAML or PUT /_sim/faults at run time.

import { STATUS_CODES } from 'node:http';
import * as decode from './decode.ts';
import { ENDPOINTS, type EndpointName } from './endpoints.ts';
import { GARBLES, type Garble } from './garble.ts';
import { type Random, uniform } from './random.ts';
import { detailReply, type Reply } from './reply.ts';

/** One fault rule; every field is optional and defaults to "no fault". */
export interface FaultRule {
  /** Share (0–1) of requests answered with one of `errorStatuses` instead of reaching the API. Default 0. */
  errorRate?: number;
  /** Statuses drawn uniformly for injected errors. Default [500, 502, 503]. */
  errorStatuses?: number[];
  /** Latency added before the request is handled, ms: fixed, or drawn from `{min, max}`. Default 0. */
  latencyMs?: number | { min: number; max: number };
  /** Share (0–1) of requests whose connection is closed with no reply, before the API acts. Default 0. */
  dropRate?: number;
  /**
   * Share (0–1) of requests never answered: the connection stays open, before the API acts, until
   * the client gives up (its timeout) or the simulator closes. Default 0.
   */
  hangRate?: number;
  /** Share (0–1) of requests the API carries out but whose reply is lost (connection closed). Default 0. */
  lostResponseRate?: number;
  /**
   * Share (0–1) of requests the API carries out whose JSON reply then arrives broken, as one of
   * `garbles` (HTML, cut short, numbers as strings, an unknown server state, an empty body). Default 0.
   */
  garbleRate?: number;
  /** Ways of breaking a reply, drawn uniformly. Default: all of GARBLES. */
  garbles?: Garble[];
  /** Accounts (by name) whose requests the rule applies to. Default: every request. */
  accounts?: string[];
  /** Endpoints the rule applies to. Default: all nine provider endpoints. */
  endpoints?: EndpointName[];
}

/** One rule, or several that all apply (latencies add; the first fault drawn wins). */
export type FaultConfig = FaultRule | FaultRule[];

export const DEFAULT_ERROR_STATUSES = [500, 502, 503];

/** What happens to one request. */
export interface FaultDecision {
  latencyMs: number;
  action:
    | { kind: 'none' }
    | { kind: 'drop' }
    | { kind: 'hang' }
    | { kind: 'error'; status: number }
    | { kind: 'lostResponse' }
    | { kind: 'garble'; garble: Garble };
}

/**
 * Draws the fate of one request to `endpoint` from `account` (the name its token belongs to);
 * draws nothing when no rule applies.
 */
export function decideFault(
  rules: readonly FaultRule[],
  endpoint: EndpointName,
  random: Random,
  account?: string,
): FaultDecision {
  const decision: FaultDecision = { latencyMs: 0, action: { kind: 'none' } };
  for (const rule of rules) {
    if (rule.endpoints !== undefined && !rule.endpoints.includes(endpoint)) continue;
    if (rule.accounts !== undefined && (account === undefined || !rule.accounts.includes(account))) continue;
    const latency = rule.latencyMs ?? 0;
    decision.latencyMs += typeof latency === 'number' ? latency : uniform(random, latency.min, latency.max);
    if (decision.action.kind !== 'none') continue;
    if (hits(random, rule.dropRate)) decision.action = { kind: 'drop' };
    else if (hits(random, rule.hangRate)) decision.action = { kind: 'hang' };
    else if (hits(random, rule.errorRate)) {
      const statuses = rule.errorStatuses ?? DEFAULT_ERROR_STATUSES;
      const status = statuses[Math.floor(random() * statuses.length)] ?? 500;
      decision.action = { kind: 'error', status };
    } else if (hits(random, rule.lostResponseRate)) decision.action = { kind: 'lostResponse' };
    else if (hits(random, rule.garbleRate)) {
      const garbles = rule.garbles ?? GARBLES;
      decision.action = {
        kind: 'garble',
        garble: garbles[Math.floor(random() * garbles.length)] ?? 'notJson',
      };
    }
  }
  return decision;
}

function hits(random: Random, rate: number | undefined): boolean {
  return rate !== undefined && rate > 0 && random() < rate;
}

const RULE_KEYS = [
  'errorRate',
  'errorStatuses',
  'latencyMs',
  'dropRate',
  'hangRate',
  'lostResponseRate',
  'garbleRate',
  'garbles',
  'accounts',
  'endpoints',
] as const;

/** Checks untrusted fault configuration (YAML, JSON body); `field` prefixes error names. */
export function parseFaultConfig(value: unknown, field: string): FaultRule[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value.map((rule, i) => parseFaultRule(rule, `${field}[${i}]`));
  return [parseFaultRule(value, field)];
}

function parseFaultRule(value: unknown, field: string): FaultRule {
  const fields = decode.object(value, field);
  decode.onlyKeys(fields, field, RULE_KEYS);
  const rule: FaultRule = {};
  if (fields.errorRate !== undefined) rule.errorRate = decode.share(fields.errorRate, `${field}.errorRate`);
  if (fields.dropRate !== undefined) rule.dropRate = decode.share(fields.dropRate, `${field}.dropRate`);
  if (fields.hangRate !== undefined) rule.hangRate = decode.share(fields.hangRate, `${field}.hangRate`);
  if (fields.lostResponseRate !== undefined) {
    rule.lostResponseRate = decode.share(fields.lostResponseRate, `${field}.lostResponseRate`);
  }
  if (fields.garbleRate !== undefined)
    rule.garbleRate = decode.share(fields.garbleRate, `${field}.garbleRate`);
  if (fields.garbles !== undefined) {
    const garbles = decode.array(fields.garbles, `${field}.garbles`);
    if (garbles.length === 0) decode.fail(`${field}.garbles`, 'at least one way to garble');
    rule.garbles = garbles.map((g, i) => {
      const name = GARBLES.find((k) => k === g);
      if (name === undefined) decode.fail(`${field}.garbles[${i}]`, `one of ${GARBLES.join(', ')}`);
      return name;
    });
  }
  if (fields.errorStatuses !== undefined) {
    const statuses = decode.array(fields.errorStatuses, `${field}.errorStatuses`);
    if (statuses.length === 0) decode.fail(`${field}.errorStatuses`, 'at least one status');
    rule.errorStatuses = statuses.map((s, i) => decode.integer(s, `${field}.errorStatuses[${i}]`, 400, 599));
  }
  if (fields.latencyMs !== undefined) {
    const latency = decode.range(fields.latencyMs, `${field}.latencyMs`);
    rule.latencyMs = latency.min === latency.max ? latency.min : latency;
  }
  if (fields.accounts !== undefined) {
    rule.accounts = decode
      .array(fields.accounts, `${field}.accounts`)
      .map((a, i) => decode.string(a, `${field}.accounts[${i}]`));
  }
  if (fields.endpoints !== undefined) {
    rule.endpoints = decode
      .array(fields.endpoints, `${field}.endpoints`)
      .map((e, i) => parseEndpointName(e, `${field}.endpoints[${i}]`));
  }
  return rule;
}

export function parseEndpointName(value: unknown, field: string): EndpointName {
  const name = ENDPOINTS.find((e) => e === value);
  if (name === undefined) decode.fail(field, `one of ${ENDPOINTS.join(', ')}`);
  return name;
}

const DJANGO_500 =
  '<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n' +
  '  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n';
const nginxPage = (status: string): string =>
  `<html>\r\n<head><title>${status}</title></head>\r\n<body>\r\n<center><h1>${status}</h1></center>\r\n` +
  '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

/**
 * The body an injected error comes with, as the layer that would really produce it writes it:
 * Django's HTML 500 page, the front proxy's HTML 502/504, DRF's JSON 503. A client must cope
 * with all of them (the issue asks it to keep raw text when the body is not JSON).
 */
export function injectedErrorReply(status: number): Reply {
  const html = (body: string): Reply => ({ status, text: { body, contentType: 'text/html' } });
  switch (status) {
    case 500:
      return html(DJANGO_500);
    case 502:
      return html(nginxPage('502 Bad Gateway'));
    case 504:
      return html(nginxPage('504 Gateway Time-out'));
    case 503:
      return detailReply(503, 'Service temporarily unavailable, try again later.');
    default:
      return detailReply(status, STATUS_CODES[status] ?? 'Error');
  }
}
