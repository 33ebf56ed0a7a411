// What a cluster needs before the operator can run, done as a user would: the CRD applied with
// kubectl (client-node's typed serializer would drop its enums, defaults and CEL rules),
// deploy/rbac.yaml in vps-operator-system, and the CRD Established. The test worlds
// (operator-env.ts, and through it test/chaos/world.ts) and the benchmark's (bench/world.ts) share it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ApiextensionsV1Api } from '@kubernetes/client-node';
import { type ControlPlaneClient, type Kubeconfig, kubectlPath } from '../../src/devcluster/control-plane.ts';
import { GROUP, PLURAL } from '../../src/vpsserver/types.ts';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url);
export const OPERATOR_NAMESPACE = 'vps-operator-system';
export const OPERATOR_SA = 'vps-operator';

/** Applies the CRD and (unless `rbac: false`) the operator's RBAC; resolves once the CRD is Established. */
export async function installOperatorApis(cp: ControlPlaneClient, { rbac = true } = {}): Promise<void> {
  const kubectl = (...args: string[]) =>
    run(kubectlPath(), ['--kubeconfig', cp.adminKubeconfigPath, ...args], { timeout: 60_000 });
  await kubectl('apply', '--server-side', '-f', new URL('crds/vpsservers.vps.org.yaml', REPO).pathname);
  if (rbac) {
    await kubectl('create', 'namespace', OPERATOR_NAMESPACE).catch(() => {});
    const rbacYaml = new URL('deploy/rbac.yaml', REPO).pathname;
    await kubectl('apply', '--server-side', '-n', OPERATOR_NAMESPACE, '-f', rbacYaml);
  }
  const api = cp.adminKubeConfig.makeApiClient(ApiextensionsV1Api);
  for (let i = 0; i < 200; i++) {
    const crd = await api.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('CRD not Established after 10 s');
}

/** A kubeconfig of the ServiceAccount deploy/ runs the operator as. */
export const operatorServiceAccount = (cp: ControlPlaneClient): Promise<Kubeconfig> =>
  cp.kubeconfigForServiceAccount(OPERATOR_NAMESPACE, OPERATOR_SA);
