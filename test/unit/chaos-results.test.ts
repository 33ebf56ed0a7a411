// RESULTS.md of the chaos suite: one family re-run on its own rewrites its section only.
import { describe, expect, test } from 'vitest';
import { replaceSection } from '../chaos/results.ts';

const FILE = '# H\n\nintro\n\n## a\n\nold a\n\n## b\n\nold b\n';

describe('replaceSection', () => {
  test('replaces a section in the middle and keeps the ones after it', () => {
    expect(replaceSection(FILE, 'a', 'new a')).toBe('# H\n\nintro\n\n## a\n\nnew a\n\n## b\n\nold b\n');
  });
  test('replaces the last section', () => {
    expect(replaceSection(FILE, 'b', 'new b')).toBe('# H\n\nintro\n\n## a\n\nold a\n\n## b\n\nnew b\n');
  });
  test('appends a section the file does not have yet', () => {
    expect(replaceSection(FILE, 'c', 'new c')).toBe(`${FILE}\n## c\n\nnew c\n`);
  });
});
