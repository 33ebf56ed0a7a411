# vps-operator image: src/ bundled into dist/ by build.ts (esbuild, as `make build` does) plus the
# production node_modules. Bundled rather than run through Node's type stripping (~25 MiB of
# resident memory per process) and with client-node tree-shaken into the bundle (~20 MiB less
# again; docs/performance.md).
#
# Built by `make image` (scripts/image.sh), or by hand:
#   podman build --build-arg BASE=node:24.21.0-bookworm-slim --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt .
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

FROM ${BASE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${BASE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run"]
