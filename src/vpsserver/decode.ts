// Turns a VpsServer object from the API server (plain JSON) into the typed VpsServer, applying
// the CRD's defaults. The API server already validated it against the schema, but the operator
// may meet objects written under an older CRD, so a wrong shape becomes a DecodeError naming
// the field instead of a crash deep in the reconcile.
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

export class DecodeError extends Error {
  override name = 'DecodeError';
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function optional<T>(obj: Json, field: string, path: string, check: (v: unknown) => v is T, want: string) {
  const v = obj[field];
  if (v === undefined || v === null) return undefined;
  if (!check(v)) throw new DecodeError(`${path}.${field} must be ${want}, got ${JSON.stringify(v)}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const oneOf =
  <T extends string>(values: readonly T[]) =>
  (v: unknown): v is T =>
    typeof v === 'string' && (values as readonly string[]).includes(v);

function decodeSpec(raw: unknown): VpsServerSpec {
  if (!isObject(raw)) throw new DecodeError('spec is missing');
  const s = (field: string) => optional(raw, field, 'spec', isString, 'a string');
  const id = (field: string) => optional(raw, field, 'spec', isPositiveInt, 'an integer ≥ 1');
  const ref = raw.credentialsSecretRef;
  let credentialsSecretRef: VpsServerSpec['credentialsSecretRef'];
  if (ref !== undefined && ref !== null) {
    if (!isObject(ref) || !isString(ref.name) || ref.name === '') {
      throw new DecodeError('spec.credentialsSecretRef.name must be the name of a Secret');
    }
    const key = optional(ref, 'key', 'spec.credentialsSecretRef', isString, 'a string') ?? 'token';
    credentialsSecretRef = { name: ref.name, key };
  }
  const spec: VpsServerSpec = {
    name: s('name'),
    hostname: s('hostname'),
    planId: id('planId'),
    osId: id('osId'),
    location: s('location'),
    sshKeyId: id('sshKeyId'),
    backupsEnabled: optional(raw, 'backupsEnabled', 'spec', isBoolean, 'true or false') ?? false,
    powerState: optional(raw, 'powerState', 'spec', oneOf(POWER_STATES), 'Running or Stopped') ?? 'Running',
    rebootRequestedAt: s('rebootRequestedAt'),
    deletionPolicy:
      optional(raw, 'deletionPolicy', 'spec', oneOf(DELETION_POLICIES), 'Delete or Orphan') ?? 'Delete',
    managementPolicy:
      optional(raw, 'managementPolicy', 'spec', oneOf(MANAGEMENT_POLICIES), 'Full or ObserveOnly') ?? 'Full',
    serverId: id('serverId'),
    credentialsSecretRef,
  };
  for (const k of Object.keys(spec) as (keyof VpsServerSpec)[]) {
    if (spec[k] === undefined || spec[k] === '') delete spec[k];
  }
  return spec;
}

function decodeStatus(raw: unknown): VpsServerStatus {
  // Status is written by this operator only; keep what is there, typed loosely but safely.
  if (!isObject(raw)) return {};
  const status = { ...raw } as VpsServerStatus;
  if (!Array.isArray(raw.conditions)) delete status.conditions;
  else status.conditions = raw.conditions.filter(isObject) as unknown as Condition[];
  return status;
}

const stringMap = (v: unknown): Record<string, string> =>
  isObject(v)
    ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => isString(e[1])))
    : {};

/** Decodes one VpsServer object as the API server returns it. Throws DecodeError. */
export function decodeVpsServer(raw: unknown): VpsServer {
  if (!isObject(raw) || !isObject(raw.metadata)) throw new DecodeError('not a Kubernetes object');
  const m = raw.metadata;
  if (!isString(m.name) || !isString(m.namespace) || !isString(m.uid)) {
    throw new DecodeError('metadata.name, metadata.namespace and metadata.uid are required');
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
