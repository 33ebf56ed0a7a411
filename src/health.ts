// The operator's HTTP endpoints: /metrics (Prometheus text format) on the metrics address and
// /healthz + /readyz on the probe address, as controller-runtime's manager serves them. node:http
// is enough for three read-only paths; a framework would add weight and nothing else.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface HttpEndpointsOptions {
  /** `host:port`, `:port` (all interfaces) or `0` to disable. */
  metricsAddress: string;
  healthAddress: string;
  registry: Registry;
  /** Readiness: true once caches are synced (and, when leading, the first observation is done). */
  ready: () => { ready: boolean; reason?: string };
  logger: Logger;
}

export interface HttpEndpoints {
  metricsPort?: number;
  healthPort?: number;
  close(): Promise<void>;
}

/** Splits `host:port` / `:port` / `[::1]:port`; undefined for `0` (disabled). Throws on anything else. */
export function parseBindAddress(address: string): { host: string | undefined; port: number } | undefined {
  if (address === '0') return undefined;
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(address);
  const port = Number(m?.[2]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new Error(`invalid bind address "${address}": expected host:port, :port, or 0 to disable`);
  }
  const host = m[1] === '' ? undefined : m[1]?.replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

export async function startHttpEndpoints(o: HttpEndpointsOptions): Promise<HttpEndpoints> {
  const servers: Server[] = [];
  const result: HttpEndpoints = {
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
  const metricsAt = parseBindAddress(o.metricsAddress);
  const healthAt = parseBindAddress(o.healthAddress);

  if (metricsAt !== undefined) {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
        return;
      }
      o.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': o.registry.contentType }).end(text),
        (err: unknown) =>
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`),
      );
    });
    result.metricsPort = await listen(server, metricsAt);
    servers.push(server);
    o.logger.info({ port: result.metricsPort }, 'serving /metrics');
  }

  if (healthAt !== undefined) {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/healthz' || path === '/livez') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const r = o.ready();
        res
          .writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' })
          .end(r.ready ? 'ok\n' : `not ready: ${r.reason ?? 'starting'}\n`);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /healthz or /readyz\n');
      }
    });
    result.healthPort = await listen(server, healthAt);
    servers.push(server);
    o.logger.info({ port: result.healthPort }, 'serving /healthz and /readyz');
  }
  return result;
}

function listen(server: Server, at: { host: string | undefined; port: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `port ${at.port} is already in use` : err.message)),
    );
    server.listen(at.port, at.host, () => resolve((server.address() as AddressInfo).port));
  });
}
