// Merges a new benchmark report into the one on disk by section (its `## ` headings), so a run
// of some scenarios (--only) replaces only their sections and keeps the figures of the others;
// rows of the Targets table are merged by their first cell. Markdown only, no I/O.

/**
 * The report with the sections of `fresh` (by their `## ` heading; its header when it has one)
 * in place of the same sections of `previous`, and the other sections of `previous` kept: a run
 * of some scenarios does not erase the figures of the others.
 */
export function mergeReport(previous: string, fresh: string): string {
  const split = (text: string) => {
    const parts = text.split(/^(?=## )/m);
    const head = parts[0]?.startsWith('## ') ? '' : (parts.shift() ?? '');
    return { head, sections: new Map(parts.map((p) => [p.split('\n')[0] ?? '', p])) };
  };
  const old = split(previous);
  const neu = split(fresh);
  const sections = new Map(old.sections);
  for (const [heading, text] of neu.sections) {
    const before = sections.get(heading);
    sections.set(
      heading,
      heading.startsWith('## Targets') && before !== undefined ? mergeRows(before, text) : text,
    );
  }
  const ordered = [...sections.entries()].sort(([a], [b]) => sectionOrder(a) - sectionOrder(b));
  const body = ordered.map(([, t]) => (t.endsWith('\n') ? t : `${t}\n`)).join('');
  return `${neu.head !== '' ? neu.head : old.head}${body}`;
}

/** A table section whose rows of `fresh` replace those of `previous` with the same first cell, unless not run. */
function mergeRows(previous: string, fresh: string): string {
  const key = (row: string) => row.split('|')[1]?.trim() ?? '';
  const freshRows = new Map(
    fresh
      .split('\n')
      .filter((l) => l.startsWith('| ') && !/not run/.test(l))
      .map((l) => [key(l), l]),
  );
  const lines = previous
    .split('\n')
    .map((l) => (l.startsWith('| ') && freshRows.has(key(l)) ? freshRows.get(key(l)) : l));
  for (const [k, row] of freshRows)
    if (!previous.split('\n').some((l) => l.startsWith('| ') && key(l) === k))
      lines.splice(lines.lastIndexOf('') > 0 ? lines.lastIndexOf('') : lines.length, 0, row);
  return lines.join('\n');
}

/** Numbered sections in their number's order, others (Targets) first. */
function sectionOrder(heading: string): number {
  const m = /^## (\d+)\./.exec(heading);
  return m === null ? 0 : Number(m[1]);
}
