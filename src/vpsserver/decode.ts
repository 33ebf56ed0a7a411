// Turns a VpsServer object from the API server (plain JSON) into the typed VpsServer, applying
// the CRD's defaults. The API server already validated it against the schema, but the operator
// may meet objects written under an older CRD, so a wrong shape becomes a DecodeError naming
// the field instead of a crash deep in the reconcile.
import * as check from '../decode/checks.ts';
import {
  API_VERSION,
  type Condition,
  DELETION_POLICIES,
  KIND,
  MANAGEMENT_POLICIES,
  POWER_STATES,
  type VpsServer,
  type VpsServerSpec,
  type VpsServerStatus,
} from './types.ts';

export { DecodeError } from '../decode/checks.ts';

const isString = (v: unknown): v is string => typeof v === 'string';
const id = (v: unknown, path: string) => check.integer(v, path, 1);

function decodeSpec(raw: unknown): VpsServerSpec {
  const obj = check.object(raw, 'spec');
  /** The field `key` of spec, checked when present (absent and null are both "not set"). */
  const field = <T>(key: string, read: (v: unknown, path: string) => T): T | undefined =>
    check.optional(obj[key], (v) => read(v, `spec.${key}`));
  const text = (key: string) => field(key, check.string);
  const one =
    <T extends string>(values: readonly T[], expected: string) =>
    (v: unknown, path: string) =>
      check.oneOf(v, path, values, expected);
  const spec: VpsServerSpec = {
    name: text('name'),
    hostname: text('hostname'),
    planId: field('planId', id),
    osId: field('osId', id),
    location: text('location'),
    sshKeyId: field('sshKeyId', id),
    backupsEnabled: field('backupsEnabled', check.boolean) ?? false,
    powerState: field('powerState', one(POWER_STATES, 'Running or Stopped')) ?? 'Running',
    rebootRequestedAt: text('rebootRequestedAt'),
    deletionPolicy: field('deletionPolicy', one(DELETION_POLICIES, 'Delete or Orphan')) ?? 'Delete',
    managementPolicy: field('managementPolicy', one(MANAGEMENT_POLICIES, 'Full or ObserveOnly')) ?? 'Full',
    serverId: field('serverId', id),
    credentialsSecretRef: field('credentialsSecretRef', secretRef),
  };
  for (const k of Object.keys(spec) as (keyof VpsServerSpec)[]) {
    if (spec[k] === undefined || spec[k] === '') delete spec[k];
  }
  return spec;
}

function secretRef(raw: unknown, path: string): NonNullable<VpsServerSpec['credentialsSecretRef']> {
  const ref = check.object(raw, path);
  if (!isString(ref.name) || ref.name === '') check.fail(`${path}.name`, 'the name of a Secret', ref.name);
  const key = check.optional(ref.key, (v) => check.string(v, `${path}.key`)) ?? 'token';
  return { name: ref.name, key };
}

/** A condition as this operator writes them; anything else is dropped and written anew. */
const isCondition = (v: unknown): v is Condition =>
  check.isObject(v) && isString(v.type) && isString(v.status) && isString(v.reason) && isString(v.message);

function decodeStatus(raw: unknown): VpsServerStatus {
  // Status is written by this operator only; keep what is there, typed loosely but safely.
  if (!check.isObject(raw)) return {};
  const status: VpsServerStatus = { ...raw };
  if (!Array.isArray(raw.conditions)) delete status.conditions;
  else status.conditions = raw.conditions.filter(isCondition);
  return status;
}

const stringMap = (v: unknown): Record<string, string> =>
  check.isObject(v)
    ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => isString(e[1])))
    : {};

/** Decodes one VpsServer object as the API server returns it. Throws DecodeError. */
export function decodeVpsServer(raw: unknown): VpsServer {
  if (!check.isObject(raw) || !check.isObject(raw.metadata))
    check.fail('', 'a Kubernetes object with metadata', raw);
  const m = raw.metadata;
  if (!isString(m.name) || !isString(m.namespace) || !isString(m.uid)) {
    throw new check.DecodeError('metadata', 'name, namespace and uid are required');
  }
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      generation: typeof m.generation === 'number' ? m.generation : 0,
      resourceVersion: isString(m.resourceVersion) ? m.resourceVersion : '',
      creationTimestamp: isString(m.creationTimestamp) ? m.creationTimestamp : undefined,
      deletionTimestamp: isString(m.deletionTimestamp) ? m.deletionTimestamp : undefined,
      finalizers: Array.isArray(m.finalizers) ? m.finalizers.filter(isString) : [],
      annotations: stringMap(m.annotations),
      labels: stringMap(m.labels),
    },
    spec: decodeSpec(raw.spec),
    status: decodeStatus(raw.status),
  };
}
