# vps-operator — every developer and CI entry point.
# `make test` and `make dev` work on a fresh machine: they fetch Node 24 from the npm registry
# (the machine's node may be older), install the locked npm packages, and build the local
# Kubernetes control plane from Go modules. Slow artefacts are cached outside the work tree in
# $(CACHE_DIR) so a fresh clone on the same machine (as CI makes) reuses them.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

NODE_VERSION := 24.21.0
CACHE_DIR ?= $(HOME)/.cache/vps-operator
NODE_PLATFORM := $(shell uname -s | tr A-Z a-z)-$(shell uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
NODE_HOME := $(CACHE_DIR)/node-$(NODE_VERSION)
NODE_BIN := $(NODE_HOME)/node_modules/node-$(NODE_PLATFORM)/bin
K8S_VERSION := $(shell cat test/controlplane/VERSION 2>/dev/null || echo unknown)
CONTROLPLANE_DIR ?= $(CACHE_DIR)/controlplane-v$(K8S_VERSION)

export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export CONTROLPLANE_DIR
export VPS_CACHE_DIR := $(CACHE_DIR)
# npm must not write into the user's global config or prompt.
export npm_config_update_notifier := false
export npm_config_fund := false
export npm_config_audit := false

.PHONY: help node deps controlplane kube-node node-tools build lint typecheck unit test dev run bench chaos e2e clean image image-base image-tools

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's/:.*## /\t/' | expand -t 16

node: $(NODE_BIN)/node ## install the pinned Node.js 24 from the npm registry (cached)
$(NODE_BIN)/node:
	@echo ">> installing Node.js $(NODE_VERSION) ($(NODE_PLATFORM)) into $(NODE_HOME)"
	@command -v npm >/dev/null || { echo "npm is needed once to fetch Node $(NODE_VERSION); install nodejs/npm first" >&2; exit 1; }
	@rm -rf $(NODE_HOME).tmp && mkdir -p $(NODE_HOME).tmp
	npm install --no-save --no-package-lock --prefix $(NODE_HOME).tmp node-$(NODE_PLATFORM)@$(NODE_VERSION)
	@rm -rf $(NODE_HOME) && mv $(NODE_HOME).tmp $(NODE_HOME)
	@$(NODE_BIN)/node --version

deps: node node_modules/.installed ## install the locked npm packages
node_modules/.installed: package-lock.json | $(NODE_BIN)/node
	npm ci --no-audit --no-fund
	@touch $@

controlplane: ## build kube-apiserver, etcd and kubectl from Go modules (cached by version)
	bash test/controlplane/build.sh

kube-node: ## build kubelet, kube-controller-manager, kube-scheduler and kube-proxy from Go modules (cached)
	bash test/node/build.sh

node-tools: ## containerd, runc, CNI plugins, iptables, conntrack for the e2e node (apt-get when missing)
	bash test/node/tools.sh

build: deps ## bundle src/ into dist/ with esbuild (what the image runs; bench runs it too)
	rm -rf dist
	node build.ts

lint: deps ## biome lint + format check
	biome check .

typecheck: deps ## tsc --noEmit over src, test and bench
	tsc --noEmit -p tsconfig.json

unit: deps build ## unit tests only (no control plane needed)
	vitest run test/unit

test: deps controlplane image tools lint typecheck build ## everything CI runs: lint, type-check, build, image, tools, unit, integration, bench smoke
	vitest run

# The image (scripts/image.sh): podman and friends from apt-get when missing, a local base from
# Debian packages when no registry is reachable, both cached in podman's store; the operator image
# is tagged by a content hash of its inputs, so an unchanged tree builds nothing. IMAGE=name:tag
# adds a tag of your own (to push). test/integration/image.test.ts runs what this builds.
image-tools: ## install podman, buildah, runc and debootstrap with apt-get when missing
	NODE_VERSION=$(NODE_VERSION) bash scripts/image.sh tools

image-base: node ## the base image: IMAGE_BASE if set, the official node image, or one made locally (cached)
	NODE_VERSION=$(NODE_VERSION) bash scripts/image.sh base

image: node ## build the operator image with podman (localhost/vps-operator:<hash> and :dev)
	NODE_VERSION=$(NODE_VERSION) bash scripts/image.sh build

dev: deps controlplane ## the local demo: control plane + simulator + operator + samples
	node src/cli/main.ts dev

run: dev ## alias of dev

bench: deps controlplane build ## benchmarks; writes bench/RESULTS.md
	node bench/run.ts

chaos: deps controlplane ## the long reliability suite; writes test/chaos/RESULTS.md
	rm -f test/chaos/RESULTS.md
	CHAOS_LONG=1 vitest run --project integration test/chaos

e2e: deps controlplane kube-node node-tools image ## deploy/ as pods on a one-node cluster (needs root; skips naming what is missing)
	VPS_E2E=1 vitest run --project e2e

clean: ## remove local build outputs (not the shared cache)
	rm -rf node_modules .cache coverage dist

# --- release-checking tools (issue 20: chart, alert rules, Argo CD health) -------------------
# helm, promtool and the gopher-lua runner of the Argo CD health check, built from Go modules
# into $(CACHE_DIR)/<tool>-<version> by test/tools/build.sh (versions in test/tools/VERSIONS),
# plus the ServiceMonitor/PrometheusRule CRDs of the prometheus-operator module. Cached: a
# second run is a no-op. test/integration/{chart,alerts,argocd-health}.test.ts use them.
.PHONY: tools
tools: ## build helm, promtool and the Argo CD Lua health runner from Go modules (cached by version)
	bash test/tools/build.sh
