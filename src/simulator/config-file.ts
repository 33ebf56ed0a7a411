// Reads a simulator YAML file (`--config sim.yaml`) into SimulatorOptions: the same option
// names as the programmatic API, checked field by field so a bad value is reported with its
// dotted path ("catalogue.plans[0].vcpus: expected an integer ≥ 1") before anything starts.

import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { CatalogueInput, CataloguePlan } from './catalogue.ts';
import * as decode from './decode.ts';
import { parseFaultConfig } from './faults.ts';
import type { SimulatorOptions } from './options.ts';
import { parseRateLimitValue } from './rate-limit.ts';
import type { AccountSpec } from './store.ts';

const KEYS = [
  'port',
  'host',
  'accounts',
  'catalogue',
  'timeScale',
  'provisioningSeconds',
  'transitionSeconds',
  'rateLimit',
  'retryAfterGraceMs',
  'pageSize',
  'faults',
  'inspect',
  'seed',
] as const;

/** Reads and checks `path`; throws DecodeError (field named) or an I/O error. */
export async function loadConfigFile(path: string): Promise<SimulatorOptions> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    decode.fail('--config', `a readable file (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    decode.fail(path, `valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  return parseConfig(document ?? {});
}

/** Checks an already parsed document. */
export function parseConfig(document: unknown): SimulatorOptions {
  const doc = decode.object(document, 'config');
  decode.onlyKeys(doc, '', KEYS);
  const options: SimulatorOptions = {};
  if (doc.port !== undefined) options.port = decode.integer(doc.port, 'port', 0, 65535);
  if (doc.host !== undefined) options.host = decode.string(doc.host, 'host');
  if (doc.accounts !== undefined) options.accounts = parseAccounts(doc.accounts);
  if (doc.catalogue !== undefined) options.catalogue = parseCatalogue(doc.catalogue);
  if (doc.timeScale !== undefined)
    options.timeScale = decode.number(doc.timeScale, 'timeScale', Number.MIN_VALUE);
  if (doc.provisioningSeconds !== undefined) {
    options.provisioningSeconds = decode.range(doc.provisioningSeconds, 'provisioningSeconds');
  }
  if (doc.transitionSeconds !== undefined) {
    options.transitionSeconds = decode.range(doc.transitionSeconds, 'transitionSeconds');
  }
  if (doc.rateLimit !== undefined) options.rateLimit = parseRateLimitValue(doc.rateLimit, 'rateLimit');
  if (doc.retryAfterGraceMs !== undefined) {
    options.retryAfterGraceMs = decode.number(doc.retryAfterGraceMs, 'retryAfterGraceMs', 0);
  }
  if (doc.pageSize !== undefined) options.pageSize = decode.integer(doc.pageSize, 'pageSize', 1);
  if (doc.faults !== undefined) options.faults = parseFaultConfig(doc.faults, 'faults');
  if (doc.inspect !== undefined) options.inspect = decode.boolean(doc.inspect, 'inspect');
  if (doc.seed !== undefined) options.seed = decode.integer(doc.seed, 'seed', 0, 2 ** 32 - 1);
  return options;
}

function parseAccounts(value: unknown): AccountSpec[] {
  return decode.array(value, 'accounts').map((item, i) => {
    const field = `accounts[${i}]`;
    const account = decode.object(item, field);
    decode.onlyKeys(account, field, ['name', 'token', 'credits']);
    return {
      name: decode.string(account.name, `${field}.name`),
      token: decode.string(account.token, `${field}.token`),
      credits: decode.number(account.credits, `${field}.credits`, 0),
    };
  });
}

function parseCatalogue(value: unknown): CatalogueInput {
  const catalogue = decode.object(value, 'catalogue');
  decode.onlyKeys(catalogue, 'catalogue', ['plans', 'os', 'locations']);
  const input: CatalogueInput = {};
  if (catalogue.plans !== undefined) {
    input.plans = decode
      .array(catalogue.plans, 'catalogue.plans')
      .map((p, i) => parsePlan(p, `catalogue.plans[${i}]`));
  }
  if (catalogue.os !== undefined) {
    input.os = decode.array(catalogue.os, 'catalogue.os').map((item, i) => {
      const field = `catalogue.os[${i}]`;
      const os = decode.object(item, field);
      decode.onlyKeys(os, field, ['id', 'name']);
      return { id: decode.integer(os.id, `${field}.id`, 1), name: decode.string(os.name, `${field}.name`) };
    });
  }
  if (catalogue.locations !== undefined) {
    input.locations = decode
      .array(catalogue.locations, 'catalogue.locations')
      .map((l, i) => decode.string(l, `catalogue.locations[${i}]`));
  }
  return input;
}

function parsePlan(value: unknown, field: string): CataloguePlan {
  const plan = decode.object(value, field);
  decode.onlyKeys(plan, field, ['id', 'name', 'vcpus', 'memory', 'storage', 'bandwidth', 'cost']);
  return {
    id: decode.integer(plan.id, `${field}.id`, 1),
    name: decode.string(plan.name, `${field}.name`),
    vcpus: decode.integer(plan.vcpus, `${field}.vcpus`, 1),
    memory: decode.integer(plan.memory, `${field}.memory`, 1),
    storage: decode.integer(plan.storage, `${field}.storage`, 1),
    bandwidth: decode.integer(plan.bandwidth, `${field}.bandwidth`, 0),
    cost: plan.cost === undefined ? 0 : decode.number(plan.cost, `${field}.cost`, 0),
  };
}
