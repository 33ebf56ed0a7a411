// The image runs src/ compiled to dist/ (tsconfig.build.json), not the TypeScript sources: the
// compiled entry point must start and find what it reads at run time (package.json, imports
// rewritten from .ts to .js). `make test` builds dist/ before the tests.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = new URL('../../dist/src/', import.meta.url).pathname;
const CLI = path.join(DIST, 'cli.js');
const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

describe('the compiled CLI (dist/)', () => {
  it('exists: make build (run by make test) compiles src/ into dist/', () => {
    expect(existsSync(CLI), `${CLI} is missing: run \`make build\``).toBe(true);
  });

  it('prints its version like the sources do', () => {
    expect(execFileSync(process.execPath, [CLI, 'version'], { encoding: 'utf8' }).trim()).toBe(
      `vps-operator ${VERSION}`,
    );
  });

  it('imports no .ts module, so Node never loads its TypeScript stripper', () => {
    const files = readdirSync(DIST, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(20);
    const tsImports = files.flatMap((f) =>
      [...readFileSync(path.join(DIST, f), 'utf8').matchAll(/(?:from |import\()['"]([^'"]+\.ts)['"]/g)].map(
        (m) => `${f}: ${m[1]}`,
      ),
    );
    expect(tsImports).toEqual([]);
  });
});
