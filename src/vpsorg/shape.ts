// The provider's JSON read field by field: the checks of src/decode/checks.ts applied to
// `obj[key]` at `path.key`, plus the two shapes only VPS.org has (ids and timestamps). A failure
// is the kit's DecodeError naming the path, e.g. `results[3].plan.vcpus: expected an integer,
// got "2"`, so a broken response is diagnosable.
import * as check from '../decode/checks.ts';

export { array, at, DecodeError, fail, type JsonObject, object } from '../decode/checks.ts';

type JsonObject = check.JsonObject;
const { at } = check;

export const string = (obj: JsonObject, key: string, path: string): string =>
  check.string(obj[key], at(path, key));

/** A string that may be null; absent counts as null (the provider omits empty optional fields). */
export const nullableString = (obj: JsonObject, key: string, path: string): string | null =>
  check.nullableString(obj[key], at(path, key));

export const integer = (obj: JsonObject, key: string, path: string): number =>
  check.integer(obj[key], at(path, key));

export const number = (obj: JsonObject, key: string, path: string): number =>
  check.number(obj[key], at(path, key));

export const boolean = (obj: JsonObject, key: string, path: string): boolean =>
  check.boolean(obj[key], at(path, key));

export const nested = (obj: JsonObject, key: string, path: string): JsonObject =>
  check.object(obj[key], at(path, key));

/** A server or catalogue id: a positive integer. */
export function id(obj: JsonObject, key: string, path: string): number {
  const v = obj[key];
  return Number.isSafeInteger(v) && (v as number) > 0
    ? (v as number)
    : check.fail(at(path, key), 'an id (integer ≥ 1)', v);
}

/** An ISO-8601 timestamp, kept verbatim once it is known to parse. */
export function timestamp(obj: JsonObject, key: string, path: string): string {
  const v = obj[key];
  const ok = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
  return ok ? v : check.fail(at(path, key), 'an ISO-8601 timestamp', v);
}
