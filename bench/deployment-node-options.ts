// The NODE_OPTIONS that deploy/deployment.yaml gives the operator container, so benchmarks run
// the operator with the same V8 heap settings a cluster does (memory figures mean little
// otherwise: an unconstrained V8 on a 24 GiB machine keeps far more garbage than one told its
// container's limit).
import fs from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';

const DEPLOYMENT = new URL('../deploy/deployment.yaml', import.meta.url);

interface Container {
  name?: string;
  env?: { name?: string; value?: string }[];
}

/** The operator container's NODE_OPTIONS value, or '' when it sets none. */
export async function deploymentNodeOptions(): Promise<string> {
  const docs = parseAllDocuments(await fs.readFile(DEPLOYMENT, 'utf8')).map((d) => d.toJS());
  for (const doc of docs) {
    if (doc?.kind !== 'Deployment') continue;
    const containers: Container[] = doc.spec?.template?.spec?.containers ?? [];
    const operator = containers.find((c) => c.name === 'operator');
    return operator?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
  }
  throw new Error(`${DEPLOYMENT.pathname}: no Deployment found`);
}
