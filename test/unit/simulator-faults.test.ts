// Fault rules: deterministic draws from a seeded PRNG, ratios, endpoint targeting and the
// checks a rule from YAML or PUT /_sim/faults goes through.
import { describe, expect, it } from 'vitest';
import type { EndpointName } from '../../src/simulator/endpoints.ts';
import { decideFault, type FaultRule, parseFaultConfig } from '../../src/simulator/faults.ts';
import { seededRandom } from '../../src/simulator/random.ts';

function tally(rules: FaultRule[], endpoint: EndpointName, n: number, seed = 7) {
  const random = seededRandom(seed);
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const { action } = decideFault(rules, endpoint, random);
    const key = action.kind === 'error' ? String(action.status) : action.kind;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('decideFault', () => {
  it('repeats exactly for the same seed', () => {
    const rules = [{ errorRate: 0.3, dropRate: 0.1, latencyMs: { min: 5, max: 50 } }];
    const draw = () => {
      const random = seededRandom(42);
      return Array.from({ length: 50 }, () => decideFault(rules, 'get', random));
    };
    expect(draw()).toEqual(draw());
  });

  it('answers about the configured share of requests with the configured statuses', () => {
    const counts = tally([{ errorRate: 0.2 }], 'list', 10_000);
    const errors = (counts['500'] ?? 0) + (counts['502'] ?? 0) + (counts['503'] ?? 0);
    expect(errors / 10_000).toBeGreaterThan(0.18);
    expect(errors / 10_000).toBeLessThan(0.22);
    for (const status of ['500', '502', '503']) expect(counts[status]).toBeGreaterThan(500);
  });

  it('drops and loses replies at their configured shares', () => {
    const counts = tally([{ dropRate: 0.1, lostResponseRate: 0.5 }], 'create', 10_000);
    expect((counts.drop ?? 0) / 10_000).toBeCloseTo(0.1, 1);
    // Lost replies are drawn among the requests that were not dropped.
    expect((counts.lostResponse ?? 0) / 10_000).toBeCloseTo(0.45, 1);
  });

  it('garbles the configured share of replies in each configured way', () => {
    const counts = tally([{ garbleRate: 0.5, garbles: ['notJson', 'emptyBody'] }], 'get', 10_000);
    expect((counts.garble ?? 0) / 10_000).toBeCloseTo(0.5, 1);
    const random = seededRandom(3);
    const kinds = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { action } = decideFault([{ garbleRate: 1, garbles: ['notJson', 'emptyBody'] }], 'get', random);
      if (action.kind === 'garble') kinds.add(action.garble);
    }
    expect([...kinds].sort()).toEqual(['emptyBody', 'notJson']);
  });

  it('spares endpoints a rule does not target', () => {
    expect(tally([{ errorRate: 1, endpoints: ['create'] }], 'list', 100)).toEqual({ none: 100 });
    expect(tally([{ errorRate: 1, errorStatuses: [502], endpoints: ['create'] }], 'create', 100)).toEqual({
      '502': 100,
    });
  });

  it('spares accounts a rule does not name', () => {
    const rules: FaultRule[] = [{ errorRate: 1, errorStatuses: [500], accounts: ['broken'] }];
    expect(decideFault(rules, 'list', seededRandom(1), 'team').action).toEqual({ kind: 'none' });
    expect(decideFault(rules, 'list', seededRandom(1)).action).toEqual({ kind: 'none' });
    expect(decideFault(rules, 'list', seededRandom(1), 'broken').action).toEqual({
      kind: 'error',
      status: 500,
    });
  });

  it('adds the latencies of every rule that applies', () => {
    const random = seededRandom(1);
    expect(
      decideFault([{ latencyMs: 10 }, { latencyMs: 5, endpoints: ['get'] }], 'get', random).latencyMs,
    ).toBe(15);
  });

  it('injects nothing without rules', () => {
    expect(decideFault([], 'create', seededRandom(1))).toEqual({ latencyMs: 0, action: { kind: 'none' } });
  });
});

describe('parseFaultConfig', () => {
  it('accepts one rule or a list of them', () => {
    expect(parseFaultConfig({ errorRate: 0.2 }, 'faults')).toEqual([{ errorRate: 0.2 }]);
    expect(
      parseFaultConfig([{ dropRate: 0.1 }, { lostResponseRate: 1, endpoints: ['create'] }], 'faults'),
    ).toEqual([{ dropRate: 0.1 }, { lostResponseRate: 1, endpoints: ['create'] }]);
    expect(parseFaultConfig(null, 'faults')).toEqual([]);
  });

  it.each([
    [{ errorRate: 2 }, 'faults.errorRate: expected a number from 0 to 1'],
    [{ errorStatuses: [200] }, 'faults.errorStatuses[0]: expected an integer from 400 to 599'],
    [{ endpoints: ['destroy'] }, 'faults.endpoints[0]: expected one of list, create'],
    [{ latencyMs: { min: 10, max: 5 } }, 'faults.latencyMs.max: expected a number ≥ 10'],
    [{ errorRat: 0.1 }, 'faults.errorRat: expected one of the keys'],
    [[{}, 'x'], 'faults[1]: expected a mapping'],
    [{ garbles: ['lies'] }, 'faults.garbles[0]: expected one of notJson, truncated'],
    [{ garbles: [] }, 'faults.garbles: expected at least one way to garble'],
    [{ garbleRate: -1 }, 'faults.garbleRate: expected a number from 0 to 1'],
  ])('rejects %j naming the field', (config, message) => {
    expect(() => parseFaultConfig(config, 'faults')).toThrow(message);
  });
});
