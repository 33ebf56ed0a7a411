#!/usr/bin/env bash
# Installs what the one-node test cluster needs from the machine's package manager when it is
# missing: containerd 1.6 + runc (Debian), the CNI plugins, iptables and conntrack (kube-proxy).
# kubelet and friends are built from Go modules by build.sh instead. Without root or apt-get it
# only says what is missing: the e2e test then skips and names it.
set -euo pipefail
need=(/usr/bin/containerd /usr/bin/ctr /usr/sbin/runc /usr/lib/cni/bridge /usr/sbin/iptables /usr/sbin/conntrack)
packages="containerd runc containernetworking-plugins iptables conntrack"
missing=()
for f in "${need[@]}"; do [[ -x "$f" ]] || missing+=("$f"); done
if [[ ${#missing[@]} -eq 0 ]]; then echo "node tools: present"; exit 0; fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "node tools: missing ${missing[*]}; install as root: apt-get install $packages (the e2e test skips without them)" >&2
  exit 0
fi
echo "node tools: installing $packages (missing: ${missing[*]})"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends $packages
