# vps-operator image: src/ bundled into dist/ by build.ts (esbuild, as `make build` does) plus the
# production node_modules, on a distroless-style final stage: the node binary, the few shared
# libraries it links and nothing else (no shell, no apt, no npm). Bundled rather than run through
# Node's type stripping (~25 MiB of resident memory per process) and with client-node tree-shaken
# into the bundle (~20 MiB less again; docs/performance.md). Sizes: docs/shipping.md.
#
# Built by `make image` (scripts/image.sh), or by hand:
#   podman build --build-arg BASE=node:24.21.0-bookworm-slim \
#     --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t vps-operator .
# BASE defaults to the official Node image; `make image` passes a local equivalent made from
# Debian packages when no registry is reachable. Pin it by digest in your registry mirror
# (node:24.21.0-bookworm-slim@sha256:…) for reproducible builds. The `ca` secret is optional: the
# CA bundle npm needs behind a TLS-intercepting proxy, mounted only while npm runs, never stored.
ARG BASE=node:24.21.0-bookworm-slim

FROM ${BASE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --ignore-scripts --no-audit --no-fund
COPY build.ts ./
COPY src ./src
RUN node build.ts

# Production packages only, and not @kubernetes/client-node: build.ts bundles it (and its
# dependencies) into dist/, so its 65 MB in node_modules would never be loaded.
FROM ${BASE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm pkg delete 'dependencies.@kubernetes/client-node' \
    && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
    && find node_modules -depth -type d -empty -delete

# The runtime's root filesystem, gathered from the same base: node, the libraries `ldd` names
# (libc, libstdc++, libgcc_s, libm, the loader), passwd/group entries for the unprivileged user
# and an nsswitch.conf so name lookups read /etc/hosts, then DNS.
FROM ${BASE} AS runtime
RUN set -eu; \
    node=$(command -v node); \
    mkdir -p /rootfs/usr/local/bin /rootfs/etc /rootfs/home/nonroot; \
    cp "$node" /rootfs/usr/local/bin/node; \
    for lib in $(ldd "$node" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do \
      cp --parents -L "$lib" /rootfs; \
    done; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > /rootfs/etc/passwd; \
    printf 'root:x:0:\nnonroot:x:65532:\n' > /rootfs/etc/group; \
    printf 'hosts: files dns\n' > /rootfs/etc/nsswitch.conf; \
    chown 65532:65532 /rootfs/home/nonroot

FROM scratch
COPY --from=runtime /rootfs/ /
WORKDIR /app
ENV NODE_ENV=production PATH=/usr/local/bin
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/node", "dist/cli.js"]
CMD ["run"]
