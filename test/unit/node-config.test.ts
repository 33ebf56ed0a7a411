import { describe, expect, it } from 'vitest';
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  type NodeLayout,
} from '../../src/devcluster/node-config.ts';

const layout: NodeLayout = {
  dir: '/tmp/vps-node',
  nodeName: 'vps-node',
  hostIP: '10.244.0.1',
  podCIDR: '10.244.0.0/24',
  bridge: 'vpsnode0',
  kubeletPort: 40001,
  kubeletHealthzPort: 40002,
  caFile: '/pki/ca.crt',
  sandboxImage: 'registry.k8s.io/pause:3.10',
  cniBinDir: '/usr/lib/cni',
  runcPath: '/usr/sbin/runc',
};

describe('the one-node cluster configuration', () => {
  it('lets the kubelet start on cgroup v1 hosts with the cgroupfs driver', () => {
    expect(kubeletConfig(layout)).toMatchObject({ failCgroupV1: false, cgroupDriver: 'cgroupfs' });
  });

  it('points the kubelet at its own containerd socket, static pod dir and ports', () => {
    expect(kubeletConfig(layout)).toMatchObject({
      containerRuntimeEndpoint: 'unix:///tmp/vps-node/containerd/containerd.sock',
      staticPodPath: '/tmp/vps-node/manifests',
      address: '10.244.0.1',
      port: 40001,
      healthzPort: 40002,
      readOnlyPort: 0,
    });
  });

  it('never evicts pods or garbage-collects imported images for pressure the node did not cause', () => {
    const c = kubeletConfig(layout);
    expect(c.imageGCHighThresholdPercent).toBe(100);
    expect(c.evictionHard).toEqual({
      'memory.available': '1Mi',
      'nodefs.available': '1%',
      'imagefs.available': '1%',
    });
  });

  it('runs containerd on its own root, state and socket with Debian runc and cgroupfs', () => {
    const toml = containerdConfig(layout);
    for (const line of [
      'root = "/tmp/vps-node/containerd/root"',
      'state = "/tmp/vps-node/containerd/state"',
      'address = "/tmp/vps-node/containerd/containerd.sock"',
      'BinaryName = "/usr/sbin/runc"',
      'SystemdCgroup = false',
      'sandbox_image = "registry.k8s.io/pause:3.10"',
      'netns_mounts_under_state_dir = true',
    ]) {
      expect(toml).toContain(line);
    }
  });

  it('gives pods a bridge with host-local addresses and no NAT rule on the host', () => {
    const plugin = JSON.parse(cniConfig(layout)).plugins[0];
    expect(plugin).toMatchObject({ type: 'bridge', bridge: 'vpsnode0', isGateway: true, ipMasq: false });
    expect(plugin.ipam.ranges).toEqual([[{ subnet: '10.244.0.0/24', gateway: '10.244.0.1' }]]);
    expect(plugin.ipam.dataDir).toBe('/tmp/vps-node/cni-ipam');
  });

  it('keeps kube-proxy from changing conntrack sysctls or route_localnet on the host', () => {
    expect(kubeProxyConfig(layout, '/k', 1, 2)).toMatchObject({
      mode: 'iptables',
      conntrack: { maxPerCore: 0, min: 0 },
      iptables: { localhostNodePorts: false },
      metricsBindAddress: '127.0.0.1:1',
      healthzBindAddress: '127.0.0.1:2',
    });
  });
});
