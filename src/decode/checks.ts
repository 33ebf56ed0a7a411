// The one kit for parsing untrusted values into exact types: the provider's JSON
// (vpsorg/models.ts), VpsServer objects from the API server (vpsserver/decode.ts) and the
// simulator's YAML, CLI values and control bodies (simulator/). Hand-written instead of a schema
// library (zod, valibot): the shapes are few and small, and every failure must name the dotted
// path of the bad value and what would be accepted, e.g. `plan.vcpus: expected an integer, got "2"`.

/** A value that is not what its contract says; `path` names it (`''` is the whole body). */
export class DecodeError extends Error {
  override name = 'DecodeError';
  readonly path: string;

  /** `problem` completes "<path>: …", e.g. `expected a mapping` or `points back to a page already read`. */
  constructor(path: string, problem: string) {
    super(`${path === '' ? 'body' : path}: ${problem}`);
    this.path = path;
  }
}

/**
 * Throws a DecodeError saying what `path` should be; with `got`, also what it was ("missing"
 * when undefined), shortened so a huge or secret-bearing value does not fill a log line.
 */
export function fail(path: string, expected: string, ...got: [unknown] | []): never {
  if (got.length === 0) throw new DecodeError(path, `expected ${expected}`);
  const [value] = got;
  if (value === undefined) throw new DecodeError(path, `missing (expected ${expected})`);
  throw new DecodeError(path, `expected ${expected}, got ${shown(value)}`);
}

function shown(value: unknown): string {
  const text = typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `plan.vcpus`, `results[3].id`: the path of `key` inside `path`. */
export const at = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;

/** A mapping; `expected` lets YAML say "a mapping" where JSON says "an object". */
export function object(value: unknown, path: string, expected = 'an object'): JsonObject {
  return isObject(value) ? value : fail(path, expected, value);
}

export function array(value: unknown, path: string, expected = 'an array'): unknown[] {
  return Array.isArray(value) ? value : fail(path, expected, value);
}

/** Fails on keys the schema does not know: a typo must not silently mean "default". */
export function onlyKeys(value: JsonObject, path: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(at(path, key), `one of the keys ${known.join(', ')}`);
  }
}

export function string(value: unknown, path: string): string {
  return typeof value === 'string' ? value : fail(path, 'a string', value);
}

export function nonEmptyString(value: unknown, path: string): string {
  return typeof value === 'string' && value !== '' ? value : fail(path, 'a non-empty string', value);
}

/** A string that may be null; absent counts as null (the provider omits empty optional fields). */
export function nullableString(value: unknown, path: string): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : fail(path, 'a string or null', value);
}

export function boolean(value: unknown, path: string): boolean {
  return typeof value === 'boolean' ? value : fail(path, 'true or false', value);
}

/** A finite number within [min, max]. */
export function number(value: unknown, path: string, min = -Infinity, max = Infinity): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
  return ok ? (value as number) : fail(path, numberForm(min, max, false), value);
}

/** A safe integer within [min, max]. */
export function integer(value: unknown, path: string, min = -Infinity, max = Infinity): number {
  const ok = typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
  return ok ? (value as number) : fail(path, numberForm(min, max, true), value);
}

/** One of `values`; `expected` overrides the generated "one of a, b" (e.g. "Running or Stopped"). */
export function oneOf<T extends string>(
  value: unknown,
  path: string,
  values: readonly T[],
  expected = `one of ${values.join(', ')}`,
): T {
  return typeof value === 'string' && (values as readonly string[]).includes(value)
    ? (value as T)
    : fail(path, expected, value);
}

/** `check(value)` unless the value is absent (undefined or null). */
export function optional<T>(value: unknown, check: (v: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : check(value);
}

function numberForm(min: number, max: number, whole: boolean): string {
  const kind = whole ? 'an integer' : 'a number';
  if (min > -Infinity && max < Infinity) return `${kind} from ${min} to ${max}`;
  if (min > -Infinity) return `${kind} ≥ ${min}`;
  if (max < Infinity) return `${kind} ≤ ${max}`;
  return kind;
}
