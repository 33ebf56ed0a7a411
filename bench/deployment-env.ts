// The environment deploy/deployment.yaml gives the operator container (its literal values:
// NODE_OPTIONS, MALLOC_ARENA_MAX), so benchmarks run the operator with the same heap and
// allocator settings a cluster does. Memory figures mean little otherwise: an unconstrained V8
// on a 24 GiB machine keeps far more garbage than one told its container's limit, and glibc's
// per-thread malloc arenas held ~50 MiB of freed memory after 10,000 creates.
import fs from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';

const DEPLOYMENT = new URL('../deploy/deployment.yaml', import.meta.url);

interface Container {
  name?: string;
  env?: { name?: string; value?: string }[];
}

/** The operator container's environment variables that have a literal value. */
export async function deploymentEnv(): Promise<Record<string, string>> {
  const docs = parseAllDocuments(await fs.readFile(DEPLOYMENT, 'utf8')).map((d) => d.toJS());
  for (const doc of docs) {
    if (doc?.kind !== 'Deployment') continue;
    const containers: Container[] = doc.spec?.template?.spec?.containers ?? [];
    const operator = containers.find((c) => c.name === 'operator');
    const env: Record<string, string> = {};
    for (const e of operator?.env ?? []) if (e.name && e.value !== undefined) env[e.name] = e.value;
    return env;
  }
  throw new Error(`${DEPLOYMENT.pathname}: no Deployment found`);
}
