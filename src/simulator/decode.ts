// Checks untrusted configuration (the YAML file, PUT /_sim/faults bodies, CLI values) into exact
// types, failing with the dotted name of the field and the form it accepts, so the CLI can say
// "faults.errorRate: expected a number from 0 to 1" and exit 2 instead of starting half-wrong.

/** A bad configuration value: `field` names it, the message says what is accepted. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly field: string;

  constructor(field: string, expected: string) {
    super(`${field}: expected ${expected}`);
    this.field = field;
  }
}

export type Decoded = Record<string, unknown>;

export function object(value: unknown, field: string): Decoded {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(field, 'a mapping');
  return value as Decoded;
}

/** Fails on keys the schema does not know: a typo must not silently mean "default". */
export function onlyKeys(value: Decoded, field: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ConfigError(field === '' ? key : `${field}.${key}`, `one of the keys ${known.join(', ')}`);
    }
  }
}

export function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new ConfigError(field, 'a list');
  return value;
}

export function string(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, 'a non-empty string');
  return value;
}

export function boolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(field, 'true or false');
  return value;
}

export function number(value: unknown, field: string, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(field, numberForm(min, max, false));
  }
  return value;
}

export function integer(value: unknown, field: string, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(field, numberForm(min, max, true));
  }
  return value;
}

/** A share of requests: 0 (never) to 1 (always). */
export function share(value: unknown, field: string): number {
  return number(value, field, 0, 1);
}

/** `{min, max}` with 0 ≤ min ≤ max, or a single number meaning min = max. */
export function range(value: unknown, field: string): { min: number; max: number } {
  if (typeof value === 'number') {
    const fixed = number(value, field, 0);
    return { min: fixed, max: fixed };
  }
  const fields = object(value, field);
  onlyKeys(fields, field, ['min', 'max']);
  const min = number(fields.min, `${field}.min`, 0);
  const max = number(fields.max, `${field}.max`, min);
  return { min, max };
}

/** A range from text: "120-300" or "5" (fixed), in `unit`. */
export function parseRangeText(text: string, field: string, unit: string): { min: number; max: number } {
  const match = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(text.trim());
  const min = Number(match?.[1]);
  const max = match?.[2] === undefined ? min : Number(match[2]);
  if (match === null || max < min) {
    throw new ConfigError(field, `a number of ${unit} or a range "MIN-MAX" (e.g. 10-30)`);
  }
  return { min, max };
}

function numberForm(min: number, max: number, whole: boolean): string {
  const kind = whole ? 'an integer' : 'a number';
  if (min > -Infinity && max < Infinity) return `${kind} from ${min} to ${max}`;
  if (min > -Infinity) return `${kind} ≥ ${min}`;
  if (max < Infinity) return `${kind} ≤ ${max}`;
  return kind;
}
