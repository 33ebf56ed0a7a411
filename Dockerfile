# vps-operator image: src/ bundled into dist/ by build.ts (esbuild, as `make build` does) plus the
# production node_modules. Bundled rather than run through Node's type stripping (~25 MiB of
# resident memory per process) and with client-node tree-shaken into the bundle (~20 MiB less
# again; docs/performance.md). Pin the bases by digest in your registry mirror
# (node:24.21.0-bookworm-slim@sha256:…) for reproducible builds.
# Not built in this project's CI: its machines have no container engine.

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY build.ts ./
COPY src ./src
RUN node build.ts

FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24.21.0-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run"]
