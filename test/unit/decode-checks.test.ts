// The shared decoding kit (src/decode/checks.ts): every failure is one DecodeError whose message
// names the path, what would be accepted and what was there.
import { describe, expect, it } from 'vitest';
import * as check from '../../src/decode/checks.ts';

describe('the decoding kit', () => {
  it.each([
    ['a wrong type', () => check.integer('2', 'plan.vcpus'), 'plan.vcpus: expected an integer, got "2"'],
    ['a missing value', () => check.string(undefined, 'status'), 'status: missing (expected a string)'],
    ['the top level', () => check.object(null, ''), 'body: expected an object, got null'],
    [
      'a number out of range',
      () => check.number(2, 'errorRate', 0, 1),
      'errorRate: expected a number from 0 to 1, got 2',
    ],
    [
      'a value not in the list',
      () => check.oneOf('On', 'spec.powerState', ['Running', 'Stopped']),
      'spec.powerState: expected one of Running, Stopped, got "On"',
    ],
    [
      'an unknown key',
      () => check.onlyKeys({ pagesize: 1 }, '', ['pageSize']),
      'pagesize: expected one of the keys pageSize',
    ],
    [
      'a long value',
      () => check.boolean('y'.repeat(60), 'b'),
      `b: expected true or false, got "${'y'.repeat(38)}…`,
    ],
  ])('names the path and the form for %s', (_, run, message) => {
    expect(run).toThrow(check.DecodeError);
    expect(run).toThrow(message);
  });

  it('treats an absent optional value as not set', () => {
    expect(check.optional(null, (v) => check.string(v, 'x'))).toBeUndefined();
  });

  it('builds nested paths', () => {
    expect(check.at(check.at('results', 3), 'id')).toBe('results[3].id');
  });
});
