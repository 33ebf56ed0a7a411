// Where the operator's Kubernetes credentials come from: an explicit kubeconfig file, the
// in-cluster ServiceAccount, or client-node's default search ($KUBECONFIG, ~/.kube/config).
import { createHash } from 'node:crypto';
import type { AgentOptions } from 'node:https';
import { type Cluster, KubeConfig } from '@kubernetes/client-node';

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

const sharing = new WeakSet<KubeConfig>();

/**
 * Makes `kc` reuse its connections to the API server. client-node 2.0.1 builds a new undici
 * Agent, so a new TLS connection, for every request it authenticates (a private
 * createDispatcher called from applySecurityAuthentication): measured by bench/, converging
 * 1,000 VpsServers left ~550 TLS sockets alive in the operator at once, with a TLS handshake
 * on both sides of every patch. Here one Agent serves every request with the same TLS
 * identity (a rotated client certificate gets a new one). Returns `kc`, changed in place.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  if (sharing.has(kc)) return kc;
  sharing.add(kc);
  const target = kc as unknown as {
    createDispatcher(cluster: Cluster | null, agentOptions: AgentOptions): unknown;
  };
  const create = target.createDispatcher.bind(kc);
  const agents = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const identity = JSON.stringify([cluster?.server, kc.createDispatcherOptions(cluster, agentOptions)]);
    const key = createHash('sha256').update(identity).digest('hex');
    let agent = agents.get(key);
    if (agent === undefined) {
      if (agents.size >= 4) agents.clear(); // rotated credentials: the old agents close when idle
      agent = create(cluster, agentOptions);
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}
