// Parses the JSON bodies of create, PUT and PATCH into exact fields, or into field errors in
// the shape Django REST Framework answers 400 with ({"name": ["..."], "plan_id": ["..."]}),
// since the provider is a DRF service. Types are strict (no "5" for 5): a client that sends
// the wrong JSON type has a bug the simulator should surface, not hide.

import type { Catalogue } from './catalogue.ts';

/** Field → messages; `non_field_errors` when the body itself is wrong. */
export type FieldErrors = Record<string, string[]>;

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

export interface CreateFields {
  name: string;
  planId: number;
  osId: number;
  location: string;
  hostname: string | null;
  sshKeyId: number | null;
  backupsEnabled: boolean;
}

/** The mutable fields; PATCH carries any subset, PUT all three. */
export interface UpdateFields {
  name?: string;
  hostname?: string;
  backupsEnabled?: boolean;
}

export const MESSAGES = {
  required: 'This field is required.',
  notNull: 'This field may not be null.',
  blank: 'This field may not be blank.',
  string: 'Not a valid string.',
  integer: 'A valid integer is required.',
  boolean: 'Must be a valid boolean.',
  name: 'Enter a valid server name: letters, digits and hyphens only.',
  hostname: 'Enter a valid fully qualified domain name (FQDN), e.g. web01.example.com.',
  maxLength: (n: number) => `Ensure this field has no more than ${n} characters.`,
  minValue: (n: number) => `Ensure this value is greater than or equal to ${n}.`,
  unknownPk: (pk: number) => `Invalid pk "${pk}" - object does not exist.`,
  choice: (value: string) => `"${value}" is not a valid choice.`,
  notADictionary: (type: string) => `Invalid data. Expected a dictionary, but got ${type}.`,
} as const;

const NAME_PATTERN = /^[A-Za-z0-9-]+$/;
const NAME_MAX = 63;
const HOSTNAME_MAX = 253;
const HOSTNAME_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
// At least two labels, the last (top-level) one not all digits.
const HOSTNAME_PATTERN = new RegExp(`^(?:${HOSTNAME_LABEL}\\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`);

/** Collects errors field by field while reading a body. */
class BodyReader {
  readonly errors: FieldErrors = {};
  readonly #body: Record<string, unknown>;

  constructor(body: Record<string, unknown>) {
    this.#body = body;
  }

  has(field: string): boolean {
    return Object.hasOwn(this.#body, field);
  }

  fail(field: string, message: string): undefined {
    this.errors[field] = [...(this.errors[field] ?? []), message];
    return undefined;
  }

  /** The raw value, or undefined after recording "required"/"null" when it must be present. */
  #present(field: string, required: boolean, nullable: boolean): unknown {
    if (!this.has(field)) return required ? this.fail(field, MESSAGES.required) : undefined;
    const value = this.#body[field];
    if (value === null) return nullable ? undefined : this.fail(field, MESSAGES.notNull);
    return value;
  }

  string(field: string, required: boolean, nullable = false): string | undefined {
    const value = this.#present(field, required, nullable);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') return this.fail(field, MESSAGES.string);
    if (value.trim() === '') return this.fail(field, MESSAGES.blank);
    return value;
  }

  integer(field: string, required: boolean, nullable = false): number | undefined {
    const value = this.#present(field, required, nullable);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) return this.fail(field, MESSAGES.integer);
    return value;
  }

  boolean(field: string, required: boolean, nullable = false): boolean | undefined {
    const value = this.#present(field, required, nullable);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') return this.fail(field, MESSAGES.boolean);
    return value;
  }

  /** A server name: letters, digits and hyphens, at most 63 characters. */
  serverName(required: boolean): string | undefined {
    const name = this.string('name', required);
    if (name === undefined) return undefined;
    if (name.length > NAME_MAX) return this.fail('name', MESSAGES.maxLength(NAME_MAX));
    if (!NAME_PATTERN.test(name)) return this.fail('name', MESSAGES.name);
    return name;
  }

  hostname(required: boolean, nullable: boolean): string | undefined {
    const hostname = this.string('hostname', required, nullable);
    if (hostname === undefined) return undefined;
    if (hostname.length > HOSTNAME_MAX) return this.fail('hostname', MESSAGES.maxLength(HOSTNAME_MAX));
    if (!HOSTNAME_PATTERN.test(hostname)) return this.fail('hostname', MESSAGES.hostname);
    return hostname;
  }

  get valid(): boolean {
    return Object.keys(this.errors).length === 0;
  }
}

/** The Python type name DRF reports for a body that is not a JSON object. */
function pythonTypeName(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return typeof value;
}

function readerFor(body: unknown): BodyReader | FieldErrors {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { non_field_errors: [MESSAGES.notADictionary(pythonTypeName(body))] };
  }
  return new BodyReader(body as Record<string, unknown>);
}

/** `POST /servers/`: name, plan_id, os_id, location required; the rest optional (null = not given). */
export function validateCreate(body: unknown, catalogue: Catalogue): Validated<CreateFields> {
  const reader = readerFor(body);
  if (!(reader instanceof BodyReader)) return { ok: false, errors: reader };
  const name = reader.serverName(true);
  const planId = reader.integer('plan_id', true);
  if (planId !== undefined && !catalogue.plans.some((p) => p.id === planId)) {
    reader.fail('plan_id', MESSAGES.unknownPk(planId));
  }
  const osId = reader.integer('os_id', true);
  if (osId !== undefined && !catalogue.os.some((o) => o.id === osId)) {
    reader.fail('os_id', MESSAGES.unknownPk(osId));
  }
  const location = reader.string('location', true);
  if (location !== undefined && !catalogue.locations.includes(location)) {
    reader.fail('location', MESSAGES.choice(location));
  }
  const hostname = reader.hostname(false, true);
  const sshKeyId = reader.integer('ssh_key_id', false, true);
  if (sshKeyId !== undefined && sshKeyId < 1) reader.fail('ssh_key_id', MESSAGES.minValue(1));
  const backupsEnabled = reader.boolean('backups_enabled', false, true);
  if (!reader.valid) return { ok: false, errors: reader.errors };
  return {
    ok: true,
    value: {
      name: name!,
      planId: planId!,
      osId: osId!,
      location: location!,
      hostname: hostname ?? null,
      sshKeyId: sshKeyId ?? null,
      backupsEnabled: backupsEnabled ?? false,
    },
  };
}

/** `PUT` (all of name, hostname, backups_enabled required) or `PATCH` (any subset). */
export function validateUpdate(body: unknown, mode: 'put' | 'patch'): Validated<UpdateFields> {
  const reader = readerFor(body);
  if (!(reader instanceof BodyReader)) return { ok: false, errors: reader };
  const required = mode === 'put';
  const value: UpdateFields = {};
  const name = reader.serverName(required);
  if (name !== undefined) value.name = name;
  const hostname = reader.hostname(required, false);
  if (hostname !== undefined) value.hostname = hostname;
  const backupsEnabled = reader.boolean('backups_enabled', required);
  if (backupsEnabled !== undefined) value.backupsEnabled = backupsEnabled;
  return reader.valid ? { ok: true, value } : { ok: false, errors: reader.errors };
}
