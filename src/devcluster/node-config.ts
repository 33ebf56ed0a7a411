// The configuration files of the one-node test cluster (src/devcluster/node.ts), as pure
// functions so their choices are tested as a table (test/unit/node-config.test.ts) and explained
// in one place. Every choice that differs from a production node is made because the node
// shares a machine with other work: it must not evict, garbage-collect, or rewrite host sysctls.

/** Where the pieces of one node live and talk (all paths absolute). */
export interface NodeLayout {
  dir: string;
  nodeName: string;
  /** the bridge's address: the node's InternalIP, the gateway of the pods, and the address at
   * which pods reach the host (API server endpoint, simulator) */
  hostIP: string;
  /** e.g. 10.244.0.0/24 */
  podCIDR: string;
  bridge: string;
  kubeletPort: number;
  kubeletHealthzPort: number;
  caFile: string;
  sandboxImage: string;
  cniBinDir: string;
  runcPath: string;
}

export const containerdSocket = (l: NodeLayout): string => `${l.dir}/containerd/containerd.sock`;

/** containerd 1.6 (Debian bookworm): its own root, state and socket, so it never meets another
 * containerd or podman on the machine; runc from Debian (crun refuses hybrid cgroups). */
export function containerdConfig(l: NodeLayout): string {
  const c = `${l.dir}/containerd`;
  return `version = 2
root = "${c}/root"
state = "${c}/state"
[grpc]
  address = "${containerdSocket(l)}"
[ttrpc]
  address = "${containerdSocket(l)}.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${l.sandboxImage}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # Network namespaces under the state dir, not /run/netns: the node's teardown finds them all.
  netns_mounts_under_state_dir = true
  # Root here may not lower oom_score_adj (no CAP_SYS_RESOURCE in this machine's sandbox): runc
  # failed every sandbox with "failed to update /proc/self/oom_score_adj: Permission denied"
  # for the -998 the kubelet asks. Clamp to containerd's own score instead.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "${l.runcPath}"
        Root = "${c}/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${l.cniBinDir}"
    conf_dir = "${c}/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""
`;
}

/** One bridge, host-local addresses. No ipMasq: pods only talk to the host (the API server
 * through kube-proxy, the simulator), so the node adds no NAT rule of its own to the host. */
export function cniConfig(l: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'vps-node',
      plugins: [
        {
          type: 'bridge',
          bridge: l.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: `${l.dir}/cni-ipam`,
            ranges: [[{ subnet: l.podCIDR, gateway: l.hostIP }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
      ],
    },
    null,
    2,
  );
}

/** KubeletConfiguration (v1beta1) for a node on a shared, possibly cgroup-v1 machine. */
export function kubeletConfig(l: NodeLayout): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // These machines mount cgroup v1 controllers (hybrid layout); Kubernetes 1.35+ refuses v1
    // unless told otherwise. Memory limits and peaks are enforced and read through v1 there.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${containerdSocket(l)}`,
    staticPodPath: `${l.dir}/manifests`,
    address: l.hostIP,
    port: l.kubeletPort,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: l.kubeletHealthzPort,
    // The API server has no kubelet client certificate (src/devcluster/control-plane.ts), so
    // `kubectl logs` reaches the kubelet anonymously; it listens on the bridge address only.
    authentication: {
      anonymous: { enabled: true },
      webhook: { enabled: false },
      x509: { clientCAFile: l.caFile },
    },
    authorization: { mode: 'AlwaysAllow' },
    failSwapOn: false,
    resolvConf: '/etc/resolv.conf',
    // Other engineers' processes share the machine: never evict for their memory or disk use,
    // and never garbage-collect images (they were imported; nothing could pull them again).
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // Leave host sysctls alone (a production node would set panic_on_oom, overcommit, ...).
    protectKernelDefaults: false,
    kernelMemcgNotification: false,
    serializeImagePulls: false,
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
    fileCheckFrequency: '5s',
    volumeStatsAggPeriod: '0s',
    podPidsLimit: 1024,
    maxPods: 30,
  };
}

/** kube-proxy (iptables mode) leaving host-wide settings alone. */
export function kubeProxyConfig(
  l: NodeLayout,
  kubeconfig: string,
  metricsPort: number,
  healthzPort: number,
): Record<string, unknown> {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig },
    hostnameOverride: l.nodeName,
    bindAddress: '127.0.0.1',
    metricsBindAddress: `127.0.0.1:${metricsPort}`,
    healthzBindAddress: `127.0.0.1:${healthzPort}`,
    clusterCIDR: l.podCIDR,
    // 0: keep the machine's conntrack table size and timeouts (a shared machine).
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    // Localhost NodePorts would set net.ipv4.conf.all.route_localnet=1 on the host.
    iptables: { localhostNodePorts: false, masqueradeAll: false },
  };
}
