// Where the operator's Kubernetes credentials come from: an explicit kubeconfig file, the
// in-cluster ServiceAccount, or client-node's default search ($KUBECONFIG, ~/.kube/config).
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeConfigSource {
  /** Path of a kubeconfig file; when unset, in-cluster config or the default search is used. */
  kubeconfigPath?: string;
  /** Context to use within the kubeconfig (default: its current context). */
  context?: string;
}

export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  const kc = new KubeConfig();
  if (source.kubeconfigPath !== undefined) kc.loadFromFile(source.kubeconfigPath);
  else kc.loadFromDefault();
  if (source.context !== undefined) kc.setCurrentContext(source.context);
  if (kc.getCurrentCluster() === null) {
    throw new Error(
      'no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or run in a cluster',
    );
  }
  return kc;
}
