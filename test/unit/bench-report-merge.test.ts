// A partial benchmark run replaces only its own sections of bench/RESULTS.md.
import { describe, expect, it } from 'vitest';
import { mergeReport } from '../../bench/report-merge.ts';

const previous = [
  '# Benchmark results',
  '',
  'old header',
  '',
  '## Targets',
  '',
  '| Target | Measured | |',
  '|---|---|---|',
  '| convergence | 1.04× | met |',
  '| latency | 48 ms | met |',
  '',
  '## 1. Convergence',
  'old convergence',
  '',
  '## 3. Latency',
  'old latency',
  '',
].join('\n');

describe('mergeReport', () => {
  it('keeps the sections a partial run did not produce', () => {
    const merged = mergeReport(previous, '## 6. Provider budgets\nnew budgets\n');
    expect(merged).toContain('old convergence');
    expect(merged).toContain('old latency');
    expect(merged).toContain('new budgets');
    expect(merged.startsWith('# Benchmark results\n\nold header')).toBe(true);
    expect(merged.indexOf('## 3. Latency')).toBeLessThan(merged.indexOf('## 6. Provider budgets'));
  });

  it('replaces a section the run produced again, and its rows of the Targets table', () => {
    const fresh = [
      '# Benchmark results',
      '',
      'new header',
      '',
      '## Targets',
      '',
      '| Target | Measured | |',
      '|---|---|---|',
      '| convergence | 1.02× | met |',
      '| latency | not run | – |',
      '',
      '## 1. Convergence',
      'new convergence',
      '',
    ].join('\n');
    const merged = mergeReport(previous, fresh);
    expect(merged).toContain('new convergence');
    expect(merged).not.toContain('old convergence');
    expect(merged).toContain('old latency');
    expect(merged).toContain('| convergence | 1.02× | met |');
    expect(merged).toContain('| latency | 48 ms | met |');
    expect(merged).toContain('new header');
  });
});
