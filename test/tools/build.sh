#!/usr/bin/env bash
# Builds the release-checking tools of `make test` from Go modules into a cache directory keyed
# by tool and version, and skips the build when that directory already holds it:
#
#   helm       helm.sh/helm/v3/cmd/helm          (helm lint / helm template of charts/)
#   promtool   github.com/prometheus/prometheus/cmd/promtool  (check/test the alert rules)
#   luahealth  ./luahealth (gopher-lua, as Argo CD embeds it: runs the health.lua test cases)
#   monitoring-crds  the ServiceMonitor and PrometheusRule CRDs of the prometheus-operator Go module
#              (example/prometheus-operator-crd/), so the chart's test can dry-run them
#
#   test/tools/build.sh [tool...]     default: all; prints nothing but a line per tool
#
# The versions are pinned in VERSIONS (a new version is a new cache directory). The machines pull from
# no binary release site, only the Go module proxy, so each tool is `go install`ed from its
# module. Like test/controlplane/build.sh: nice, one build per directory at a time (flock),
# written to a temporary directory and moved into place only when complete.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${VPS_CACHE_DIR:-$HOME/.cache/vps-operator}"

version() { awk -v t="$1" '$1==t{print $2}' "$here/VERSIONS"; }
HELM_VERSION="$(version helm)"
PROMETHEUS_VERSION="$(version promtool)" # v0.316.0 is the Go module version of Prometheus v3.16.0
LUA_VERSION="$(version luahealth)"      # the gopher-lua version its go.mod requires
PROMOP_VERSION="$(version prometheus-operator)"

die() { echo "tools build: error: $*" >&2; exit 1; }

go_bin="${GO:-}"
if [[ -z "$go_bin" ]]; then
  if command -v go >/dev/null 2>&1; then go_bin="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then go_bin=/usr/local/go/bin/go
  else die "the Go toolchain was not found (no 'go' on PATH, no /usr/local/go/bin/go). Install Go >= 1.26 and put it on PATH, or set GO=/path/to/go."
  fi
fi

# build NAME DIR STAMP COMMAND...: runs COMMAND with GOBIN=<tmp> unless DIR/.stamp == STAMP.
build() {
  local name="$1" out="$2" stamp="$3"; shift 3
  if [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$stamp" && -x "$out/$name" ]]; then
    echo "tools: $name up to date in $out"; return 0
  fi
  mkdir -p "$(dirname "$out")"
  exec 8>"$out.lock"
  flock 8
  if [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$stamp" && -x "$out/$name" ]]; then
    echo "tools: $name built by a concurrent run: $out"; exec 8>&-; return 0
  fi
  local tmp; tmp="$(mktemp -d "$out.tmp.XXXXXX")"
  echo "tools: building $name into $out"
  local start=$SECONDS
  if ! CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOBIN="$tmp" nice -n 10 "$@"; then
    rm -rf "$tmp"; die "go build of $name failed (see the messages above); nothing was written to $out"
  fi
  [[ -x "$tmp/$name" ]] || { rm -rf "$tmp"; die "the build did not produce $name"; }
  echo "$stamp" > "$tmp/.stamp"
  chmod 755 "$tmp"
  rm -rf "$out"; mv "$tmp" "$out"
  exec 8>&-
  echo "tools: built $name in $((SECONDS - start))s: $out"
}

tools=("$@"); [[ ${#tools[@]} -gt 0 ]] || tools=(helm promtool luahealth monitoring-crds)
for t in "${tools[@]}"; do
  case "$t" in
    helm)
      # The Kubernetes version helm assumes without a cluster, as helm's own Makefile sets it
      # (from its client-go, v0.37): left out, `helm template` assumes 1.20.
      k8s="-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37"
      k8s+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37"
      build helm "$cache/helm-$HELM_VERSION" "$HELM_VERSION k8s-1.37" \
        "$go_bin" install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION $k8s" \
        "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" ;;
    promtool)
      build promtool "$cache/promtool-$PROMETHEUS_VERSION" "$PROMETHEUS_VERSION" \
        "$go_bin" install -trimpath -ldflags "-s -w" \
        "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION" ;;
    luahealth)
      # Keyed by the hash of its sources: a change to the runner rebuilds it (in seconds).
      stamp="$(cd "$here/luahealth" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-16)"
      build luahealth "$cache/luahealth-$LUA_VERSION" "$stamp" \
        bash -c "cd '$here/luahealth' && GOFLAGS=-mod=mod '$go_bin' install -trimpath -ldflags '-s -w' ." ;;
    monitoring-crds)
      # Not a binary: the two CRD files out of the module (build() checks for the first).
      build monitoring.coreos.com_servicemonitors.yaml "$cache/prometheus-operator-crds-$PROMOP_VERSION" "$PROMOP_VERSION" \
        bash -c "dir=\$(GOFLAGS= '$go_bin' mod download -json 'github.com/prometheus-operator/prometheus-operator@$PROMOP_VERSION' | sed -n 's/^[[:space:]]*\"Dir\": \"\\(.*\\)\",\$/\\1/p') && [[ -n \"\$dir\" ]] && for f in servicemonitors prometheusrules; do install -m 755 \"\$dir/example/prometheus-operator-crd/monitoring.coreos.com_\$f.yaml\" \"\$GOBIN/\"; done" ;;
    *) die "unknown tool '$t' (known: helm, promtool, luahealth, monitoring-crds)" ;;
  esac
done
