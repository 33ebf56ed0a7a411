// The image runs src/ bundled into dist/ by build.ts, not the TypeScript sources: the bundled
// entry point must start, find what it reads at run time (package.json), load no .ts module (so
// Node never loads its TypeScript stripper) and carry client-node tree-shaken, without the
// generated API classes whose import alone costs tens of MiB. `make test` builds dist/ first.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = new URL('../../dist/', import.meta.url).pathname;
const CLI = path.join(DIST, 'cli.js');
const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
const bundled = () =>
  readdirSync(DIST)
    .filter((f) => f.endsWith('.js'))
    .map((f) => ({ file: f, text: readFileSync(path.join(DIST, f), 'utf8') }));

describe('the bundled CLI (dist/)', () => {
  it('exists: make build (run by make test) bundles src/ into dist/', () => {
    expect(existsSync(CLI), `${CLI} is missing: run \`make build\``).toBe(true);
  });

  it('prints its version like the sources do', () => {
    expect(execFileSync(process.execPath, [CLI, 'version'], { encoding: 'utf8' }).trim()).toBe(
      `vps-operator ${VERSION}`,
    );
  });

  it('loads the run command, whose help names every flag', () => {
    const help = execFileSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8' });
    expect(help).toContain('--kubeconfig');
    expect(help).toContain('--api-rate');
  });

  it('imports no .ts module and does not load @kubernetes/client-node from node_modules', () => {
    // Static imports start a line in esbuild's output; dynamic ones are import("…") calls. (Type
    // imports of .d.ts files in bundled JSDoc comments are not loads.)
    const specifiers = (text: string) => [
      ...[...text.matchAll(/^(?:import|export)\b[^'"\n]*?['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? ''),
      ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? ''),
    ];
    const offending = bundled().flatMap(({ file, text }) =>
      specifiers(text)
        .filter(
          (spec) => (spec.endsWith('.ts') && !spec.endsWith('.d.ts')) || spec.startsWith('@kubernetes/'),
        )
        .map((spec) => `${file}: ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it("holds none of client-node's generated API classes", () => {
    const generated = bundled().filter(({ text }) =>
      /class (ObservableCoreV1Api|CoreV1ApiRequestFactory)\b/.test(text),
    );
    expect(generated.map((b) => b.file)).toEqual([]);
  });
});
