// The few checks the decoders of models.ts are built from. Hand-written instead of a schema
// library (zod, valibot): the provider's surface is five small JSON shapes, and a dependency
// would outweigh them. Every failure names the path of the bad value, e.g.
// `results[3].plan.vcpus: expected an integer, got "2"`, so a broken response is diagnosable.

/** A response value that is not what the contract says. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

export type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `plan.vcpus`, `results[3].id`; the top level is called "body". */
export const at = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;

function fail(path: string, want: string, got: unknown): never {
  const where = path === '' ? 'body' : path;
  if (got === undefined) throw new ShapeError(`${where}: missing (expected ${want})`);
  const shown = JSON.stringify(got);
  const short = shown.length > 40 ? `${shown.slice(0, 39)}…` : shown;
  throw new ShapeError(`${where}: expected ${want}, got ${short}`);
}

export function object(value: unknown, path: string): JsonObject {
  return isObject(value) ? value : fail(path, 'an object', value);
}

export function array(value: unknown, path: string): unknown[] {
  return Array.isArray(value) ? value : fail(path, 'an array', value);
}

export function string(obj: JsonObject, key: string, path: string): string {
  const v = obj[key];
  return typeof v === 'string' ? v : fail(at(path, key), 'a string', v);
}

/** A string that may be null; absent counts as null (the provider omits empty optional fields). */
export function nullableString(obj: JsonObject, key: string, path: string): string | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : fail(at(path, key), 'a string or null', v);
}

export function integer(obj: JsonObject, key: string, path: string): number {
  const v = obj[key];
  return Number.isSafeInteger(v) ? (v as number) : fail(at(path, key), 'an integer', v);
}

/** A server or catalogue id: a positive integer. */
export function id(obj: JsonObject, key: string, path: string): number {
  const v = obj[key];
  return Number.isSafeInteger(v) && (v as number) > 0
    ? (v as number)
    : fail(at(path, key), 'an id (integer ≥ 1)', v);
}

export function number(obj: JsonObject, key: string, path: string): number {
  const v = obj[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fail(at(path, key), 'a number', v);
}

export function boolean(obj: JsonObject, key: string, path: string): boolean {
  const v = obj[key];
  return typeof v === 'boolean' ? v : fail(at(path, key), 'true or false', v);
}

/** An ISO-8601 timestamp, kept verbatim once it is known to parse. */
export function timestamp(obj: JsonObject, key: string, path: string): string {
  const v = obj[key];
  const ok = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
  return ok ? v : fail(at(path, key), 'an ISO-8601 timestamp', v);
}

export function nested(obj: JsonObject, key: string, path: string): JsonObject {
  return object(obj[key], at(path, key));
}
