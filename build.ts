// `make build` (and the image's build stage): bundles src/cli/main.ts into dist/ with esbuild, which is
// what the image and the benchmarks run. Bundled, not just compiled, because importing
// @kubernetes/client-node's index loads every generated API and model (~80 MiB resident before
// the first resource); since the operator uses only its KubeConfig and HTTP library
// (runtime/kube-request.ts), the bundle keeps just those: run command loaded, 110 -> 92 MiB
// (docs/performance.md, fix 8). The other dependencies stay external (loaded from node_modules as
// usual): they are small, and pino's worker-thread machinery expects its own package layout.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
};
const BUNDLED = new Set(['@kubernetes/client-node']);

await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  // Each subcommand is its own chunk, loaded on demand: `run` never holds the simulator or the
  // dev demo. Chunks sit beside cli.js so `new URL('../', import.meta.url)` means the same in all.
  splitting: true,
  chunkNames: '[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node24',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  external: Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name)),
  // client-node's CommonJS dependencies call require() for Node's built-ins; an ES module has none.
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
});
