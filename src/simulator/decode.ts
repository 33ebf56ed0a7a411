// The simulator's configuration checks (the YAML file, PUT /_sim/faults bodies, CLI values): the
// shared kit of src/decode/checks.ts in YAML's words, plus shares and ranges. A failure is a
// DecodeError naming the field and the form it accepts, so the CLI can say
// "faults.errorRate: expected a number from 0 to 1, got 2" and exit 2 instead of starting half-wrong.
import * as check from '../decode/checks.ts';

export {
  boolean,
  DecodeError,
  fail,
  integer,
  type JsonObject as Decoded,
  number,
  onlyKeys,
} from '../decode/checks.ts';

/** YAML says "a mapping" and "a list" where JSON says object and array. */
export const object = (value: unknown, field: string): check.JsonObject =>
  check.object(value, field, 'a mapping');

export const array = (value: unknown, field: string): unknown[] => check.array(value, field, 'a list');

/** Names, tokens and accounts are never empty. */
export const string = check.nonEmptyString;

/** A share of requests: 0 (never) to 1 (always). */
export function share(value: unknown, field: string): number {
  return check.number(value, field, 0, 1);
}

/** `{min, max}` with 0 ≤ min ≤ max, or a single number meaning min = max. */
export function range(value: unknown, field: string): { min: number; max: number } {
  if (typeof value === 'number') {
    const fixed = check.number(value, field, 0);
    return { min: fixed, max: fixed };
  }
  const fields = object(value, field);
  check.onlyKeys(fields, field, ['min', 'max']);
  const min = check.number(fields.min, `${field}.min`, 0);
  const max = check.number(fields.max, `${field}.max`, min);
  return { min, max };
}

/** A range from text: "120-300" or "5" (fixed), in `unit`. */
export function parseRangeText(text: string, field: string, unit: string): { min: number; max: number } {
  const match = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(text.trim());
  const min = Number(match?.[1]);
  const max = match?.[2] === undefined ? min : Number(match[2]);
  if (match === null || max < min) {
    check.fail(field, `a number of ${unit} or a range "MIN-MAX" (e.g. 10-30)`);
  }
  return { min, max };
}
