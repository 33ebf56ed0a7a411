// The release-checking tools of the tests (helm, promtool, the Argo CD Lua runner), built from
// Go modules by test/tools/build.sh into the shared cache by the versions of test/tools/VERSIONS.
// `make tools` builds them before `make test`; a test run on its own builds them here (a no-op
// when cached; a cold helm or promtool build takes minutes, so the first call has a long budget).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TOOLS = new URL('../tools/', import.meta.url);

export type Tool = 'helm' | 'promtool' | 'luahealth';

/** Where the tool of test/tools/VERSIONS lives in the cache (built or not). */
export function toolPath(tool: Tool): string {
  const line = readFileSync(new URL('VERSIONS', TOOLS), 'utf8')
    .split('\n')
    .find((l) => l.split(/\s+/)[0] === tool);
  const version = line?.split(/\s+/)[1];
  if (!version) throw new Error(`test/tools/VERSIONS names no version for ${tool}`);
  const cache = process.env.VPS_CACHE_DIR ?? join(homedir(), '.cache', 'vps-operator');
  return join(cache, `${tool}-${version}`, tool);
}

/** Builds the tool when missing or stale (test/tools/build.sh) and returns its path. */
export async function ensureTool(tool: Tool): Promise<string> {
  await run('bash', [new URL('build.sh', TOOLS).pathname, tool], { timeout: 30 * 60_000 });
  return toolPath(tool);
}

/** The ServiceMonitor and PrometheusRule CRD files of the prometheus-operator module (built like a tool). */
export async function ensureMonitoringCrds(): Promise<string[]> {
  await run('bash', [new URL('build.sh', TOOLS).pathname, 'monitoring-crds'], { timeout: 10 * 60_000 });
  const dir = join(toolPath('prometheus-operator' as Tool), '..').replace(
    /prometheus-operator-(v[^/]+)$/,
    'prometheus-operator-crds-$1',
  );
  return ['servicemonitors', 'prometheusrules'].map((f) => join(dir, `monitoring.coreos.com_${f}.yaml`));
}
