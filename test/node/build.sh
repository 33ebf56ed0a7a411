#!/usr/bin/env bash
# Builds the node half of the one-node test cluster (kubelet, kube-controller-manager,
# kube-scheduler, kube-proxy) from this Go module into a cache directory keyed by the
# Kubernetes version of ../controlplane/VERSION, and skips the build when that directory already
# holds a complete build of the same sources. The container runtime (containerd, runc) and
# the CNI plugins come from Debian packages (see README.md), not from here.
#
#   NODE_DIR  output dir (default ${VPS_CACHE_DIR:-$HOME/.cache/vps-operator}/node-v<VERSION>)
#   GO        go binary to use (default: `go` on PATH, else /usr/local/go/bin/go)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(tr -d ' \n' < "$here/../controlplane/VERSION")"
minor="${version#*.}"; minor="${minor%%.*}"
out="${NODE_DIR:-${VPS_CACHE_DIR:-$HOME/.cache/vps-operator}/node-v$version}"
bins=(kubelet kube-controller-manager kube-scheduler kube-proxy pause)

die() { echo "node build: error: $*" >&2; exit 1; }

stamp="$(cd "$here" && { echo "$version"; cat go.mod go.sum build.sh; find cmd internal -name '*.go' -type f | LC_ALL=C sort | xargs cat; } | sha256sum | cut -d' ' -f1)"

complete() {
  [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$stamp" ]] || return 1
  for b in "${bins[@]}"; do [[ -x "$out/$b" ]] || return 1; done
}

if complete; then
  echo "node: Kubernetes v$version node binaries up to date in $out"
  exit 0
fi

go_bin="${GO:-}"
if [[ -z "$go_bin" ]]; then
  if command -v go >/dev/null 2>&1; then go_bin="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then go_bin=/usr/local/go/bin/go
  else die "the Go toolchain was not found (no 'go' on PATH, no /usr/local/go/bin/go). Install Go >= 1.26 and put it on PATH, or set GO=/path/to/go."
  fi
fi
need="$(awk '$1=="go"{print $2; exit}' "$here/go.mod")"
have="$(GOTOOLCHAIN=local "$go_bin" env GOVERSION 2>/dev/null || true)"; have="${have#go}"
[[ -n "$have" ]] || die "'$go_bin' does not run"
if [[ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]]; then
  die "Go $have at $go_bin is too old: Kubernetes v$version needs Go >= $need"
fi

mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
if complete; then echo "node: built by a concurrent run: $out"; exit 0; fi

tmp="$(mktemp -d "$out.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

pkgs=()
for b in "${bins[@]}"; do pkgs+=("./cmd/$b"); done
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=v$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

echo "node: building Kubernetes v$version (${bins[*]}) with Go $have into $out"
echo "node: a cold build takes several minutes on 2 cores (it shares the module and build caches with the control plane)"
start=$SECONDS
# nice: the machine is shared; the node is not on anyone's critical path but its own test's.
if ! (cd "$here" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off \
      nice -n 10 "$go_bin" build -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}"); then
  die "go build failed (see the messages above); nothing was written to $out"
fi
for b in "${bins[@]}"; do [[ -x "$tmp/$b" ]] || die "go build did not produce $b"; done
echo "$stamp" > "$tmp/.stamp"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "node: built in $((SECONDS - start))s: $out"
