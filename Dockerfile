# vps-operator image: Node 24 runs the TypeScript sources directly (type stripping), so the image
# holds the production node_modules, src/ and crds/ only. Pin the base by digest in your registry
# mirror (node:24.21.0-bookworm-slim@sha256:…) for reproducible builds.
# Not built in this project's CI: its machines have no container engine.

FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24.21.0-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY crds ./crds
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "src/cli.ts"]
CMD ["run"]
