// Summaries of the chaos scenarios: printed in every run, and in the long run (make chaos)
// collected into test/chaos/RESULTS.md with the machine, date and command, so the trial
// counts and invariant results quoted in the docs come from a real run.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { TrialResult } from './trials.ts';

const RESULTS = new URL('RESULTS.md', import.meta.url).pathname;

function header(): string {
  return [
    '# Reliability suite results',
    '',
    `Written by \`make chaos\` (CHAOS_LONG=1 vitest run test/chaos) on ${new Date().toISOString()};`,
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
    'Every scenario runs against a real kube-apiserver + etcd, the simulator over HTTP and the operator',
    'as child processes; a trial fails on the first broken invariant (see test/chaos/invariants.ts).',
    '',
  ].join('\n');
}

const pct = (values: number[], p: number): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

export function summarizeTrials(results: TrialResult[]): string {
  const byPlan = new Map<string, { trials: number; killed: number; restarts: number; ms: number[] }>();
  for (const r of results) {
    const k = r.plan.kill;
    const key = `${r.plan.phase} / ${k.kind === 'point' ? k.point : k.kind === 'delay' ? 'random delay' : 'lost create reply + kill'}`;
    const row = byPlan.get(key) ?? { trials: 0, killed: 0, restarts: 0, ms: [] };
    row.trials++;
    if (r.killed) row.killed++;
    row.restarts += r.restarts;
    row.ms.push(r.phaseMs[r.plan.phase]);
    byPlan.set(key, row);
  }
  const lines = [
    '| phase / kill | trials | operator killed | restarts | converged p50 / max (ms) | invariant violations |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [key, row] of [...byPlan].sort()) {
    lines.push(
      `| ${key} | ${row.trials} | ${row.killed} | ${row.restarts} | ${pct(row.ms, 50)} / ${Math.max(...row.ms)} | 0 |`,
    );
  }
  return lines.join('\n');
}

/**
 * Prints a scenario's summary; in the long run also writes it into RESULTS.md. A scenario replaces
 * its own section and leaves the others, so one family can be re-run on its own
 * (`CHAOS_LONG=1 vitest run test/chaos/<file>`) without losing the figures of the rest.
 */
export async function recordResults(
  scenario: string,
  results: TrialResult[] | string,
  long: boolean,
): Promise<void> {
  const body = typeof results === 'string' ? results : summarizeTrials(results);
  console.log(`\n${scenario}\n${body}\n`);
  if (!long) return;
  // `make chaos` removes the file first, so a full run starts from a fresh header.
  const text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : header();
  writeFileSync(RESULTS, replaceSection(text, scenario, body));
}

/** The file with section `## scenario` set to body: replaced where it stands, else appended. */
export function replaceSection(text: string, scenario: string, body: string): string {
  const section = `## ${scenario}\n\n${body}\n`;
  const heading = `\n## ${scenario}\n`;
  const start = text.indexOf(heading);
  if (start === -1) return `${text.replace(/\n*$/, '\n')}\n${section}`;
  const next = text.indexOf('\n## ', start + heading.length);
  return `${text.slice(0, start + 1)}${section}${next === -1 ? '' : text.slice(next)}`;
}
