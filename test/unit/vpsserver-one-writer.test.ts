// Keeps the fencing promise from eroding: every write of a VpsServer goes through the one
// conditional writer (src/k8s/vpsservers.ts), and that writer bases every write on a
// resourceVersion. A new code path that writes VpsServers another way (a raw PATCH, client-node's
// CustomObjectsApi, a second writer class) fails here, by reading the source as it stands.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const SRC = join(ROOT, 'src');
const WRITER = 'src/k8s/vpsservers.ts';

/** Kubernetes writes in the operator that are not VpsServers, each for a reason. */
const OTHER_KUBE_WRITERS = new Set([
  'src/k8s/events.ts', // core/v1 Events about a VpsServer
  'src/runtime/leader-election.ts', // the Lease (PUT with its resourceVersion)
  'src/runtime/shard-split.ts', // the budget Leases, one per account and shard (each shard writes only its own)
  'src/k8s/claim-store.ts', // server claims: Leases created atomically, deleted with uid/resourceVersion preconditions
  'src/devcluster/control-plane.ts', // the test/demo harness: namespaces, ServiceAccounts, tokens
]);

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

/** What in a source file can write to the Kubernetes API, in words for the failure message. */
function kubeWrites(text: string): string[] {
  const found: string[] = [];
  if (/[kK]ubeRequest(?:<[^>]*>)?\(\s*[^,()]+,\s*\{[^}]*?method:\s*'(POST|PUT|PATCH|DELETE)'/.test(text))
    found.push('a raw Kubernetes write (kubeRequest with POST/PUT/PATCH/DELETE)');
  if (/CustomObjectsApi|(patch|replace|create|delete)NamespacedCustomObject/.test(text))
    found.push("client-node's CustomObjectsApi");
  if (/KubernetesObjectApi|\.makeApiClient\(/.test(text)) found.push('a client-node API client');
  return found;
}

/** The text of each call `start` finds, from its name to its closing parenthesis. */
function calls(text: string, start: RegExp): string[] {
  return [...text.matchAll(start)].map((m) => {
    let depth = 0;
    for (let i = m.index + m[0].length - 1; i < text.length; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')' && --depth === 0) return text.slice(m.index, i + 1);
    }
    return text.slice(m.index);
  });
}

const files = sources(SRC)
  .map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }))
  .filter((f) => !f.path.startsWith('src/simulator/') && !f.path.startsWith('src/vpsorg/'));

describe('the one VpsServer writer', () => {
  it('is the only file of src/ that writes to Kubernetes, besides Events, the Lease and the dev harness', () => {
    const offenders = files
      .filter((f) => f.path !== WRITER && !OTHER_KUBE_WRITERS.has(f.path))
      .flatMap((f) => kubeWrites(f.text).map((w) => `${f.path}: ${w}`));
    expect(offenders).toEqual([]);
  });

  it('is the only file of src/ that names the VpsServer API path next to a write', () => {
    const offenders = files
      .filter((f) => f.path !== WRITER && kubeWrites(f.text).length > 0)
      .filter((f) => /vpsservers|\bPLURAL\b|\/status\b/.test(f.text))
      .map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('bases every write it sends on a resourceVersion', () => {
    const writer = readFileSync(join(ROOT, WRITER), 'utf8');
    const sends = writer.match(/this\.#mergePatch\(/g) ?? [];
    const preconditions = writer.match(/resourceVersion: precondition\(meta\)/g) ?? [];
    expect(sends.length).toBeGreaterThan(0);
    expect(preconditions.length).toBe(sends.length);
    // …and the only request it sends without one is the fresh read.
    expect(writer.match(/method: '[A-Z]+'/g)).toEqual(["method: 'GET'", "method: 'PATCH'"]);
  });

  it.each([WRITER, 'src/k8s/events.ts', 'src/k8s/claim-store.ts'])(
    'hands the lease guard to every write %s sends, to be asked right before the bytes go out',
    (path) => {
      const text = readFileSync(join(ROOT, path), 'utf8');
      const requests = calls(text, /kubeRequest(?:<[^>]*>)?\(/g);
      expect(requests.length).toBe(text.match(/kubeRequest(?:<[^>]*>)?\(/g)?.length);
      const writes = requests.filter((w) => /method: '(POST|PUT|PATCH|DELETE)'/.test(w));
      expect(writes.length).toBeGreaterThan(0);
      for (const w of writes) expect(w).toContain('beforeSend: this.#beforeWrite');
    },
  );

  it('asks beforeSend after the last await of a Kubernetes request, and again by the connection right before it writes', () => {
    const text = readFileSync(join(ROOT, 'src/runtime/kube-request.ts'), 'utf8');
    const send = text.slice(text.indexOf('export async function sendKubeRequest('));
    const body = send.slice(0, send.indexOf('\n}\n'));
    const check = body.indexOf('beforeSend();');
    expect(check).toBeGreaterThan(body.lastIndexOf('await '));
    expect(check).toBeLessThan(body.lastIndexOf('http\n    .send('));
    // …and once more by the connection, right before it writes the request.
    expect(body).toMatch(/dispatcher\.compose\([^;]*gatedHandler\(\s*handler,\s*beforeSend/s);
    expect(readFileSync(join(ROOT, 'src/net/write-gate.ts'), 'utf8')).toMatch(/prop === 'onRequestStart'/);
  });

  it('sees the writes that are there: the writer and every allowed Kubernetes writer are found', () => {
    const seen = files.filter((f) => kubeWrites(f.text).length > 0).map((f) => f.path);
    expect(seen.sort()).toEqual([WRITER, ...OTHER_KUBE_WRITERS].sort());
  });

  it('would catch a second path: the scan finds a raw PATCH and a CustomObjectsApi call', () => {
    expect(
      kubeWrites("await kubeRequest(kc, { method: 'PATCH', path: base + '/vpsservers/x/status' })"),
    ).toHaveLength(1);
    expect(kubeWrites('api.patchNamespacedCustomObject({ group, plural: PLURAL })')).toHaveLength(1);
    expect(kubeWrites("await kubeRequest(kc, { method: 'GET', path })")).toEqual([]);
  });
});
