// A tiny HTTP server on an ephemeral loopback port whose answers each test scripts, for the
// client's HTTP-level tests: odd bodies, slow or dropped answers, pagination loops. Records
// every request so tests can assert what went over the wire.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/api/v1/servers/?status=active`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Responder = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `<origin>/api/v1` */
  apiBaseUrl: string;
  requests: RecordedRequest[];
  /**
   * Answers the next requests; reset() restores a 500 that says "no responder". Connections are
   * kept open across tests: closing them under the client's keep-alive pool would fail a request.
   */
  respond(responder: Responder): void;
  reset(): void;
  close(): Promise<void>;
}

/** Writes a JSON answer. */
export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Writes a raw answer (any text, any content type). */
export function raw(res: ServerResponse, status: number, body: string, contentType = 'text/plain') {
  res.writeHead(status, { 'Content-Type': contentType });
  res.end(body);
}

export async function startTestServer(): Promise<TestServer> {
  const unscripted: Responder = (_req, res) => raw(res, 500, 'no responder');
  let responder = unscripted;
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      void responder(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    apiBaseUrl: `${origin}/api/v1`,
    requests,
    respond(r) {
      responder = r;
    },
    reset() {
      responder = unscripted;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
