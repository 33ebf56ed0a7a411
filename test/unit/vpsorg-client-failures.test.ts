// How the client fails over real HTTP: every status, odd 2xx bodies, Retry-After, timeouts,
// resets, refused connections, aborts, redirects and broken pagination, each one VpsApiError
// with the right kind, and the API token in none of them.
import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CallEvent, VpsOrgClient } from '../../src/vpsorg/client.ts';
import type { ErrorKind, VpsApiError } from '../../src/vpsorg/errors.ts';
import { detail, listItem } from '../fixtures/vpsorg-wire.ts';
import { failure } from '../support/vpsorg-failure.ts';
import { json, raw, startTestServer, type TestServer } from '../support/vpsorg-test-server.ts';

const TOKEN = 'tok_live_0a1b2c3d4e5f';
const NOW = Date.parse('2025-01-16T15:30:00Z');
let server: TestServer;
let client: VpsOrgClient;
let calls: CallEvent[];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  calls = [];
  client = new VpsOrgClient({
    token: TOKEN,
    baseUrl: server.apiBaseUrl,
    // Long enough that a normal answer never times out on a loaded CI machine (it did at 300 ms).
    timeoutMs: 1_000,
    now: () => NOW,
    onCall: (e) => calls.push(e),
  });
});

/** Everything an error could be printed from; the token must be in none of it. */
function printed(err: VpsApiError): string {
  return [
    err.message,
    err.stack,
    String(err),
    inspect(err, { depth: 10, showHidden: true }),
    JSON.stringify(err),
    JSON.stringify(calls),
  ].join('\n');
}

describe('error statuses', () => {
  it.each([
    [400, '{"name": ["Invalid name."]}', 'terminal', '400 Bad Request: name: Invalid name.'],
    [401, '{"detail": "Invalid token."}', 'unauthorized', '401 Unauthorized: Invalid token.'],
    [402, '{"detail": "Insufficient credits"}', 'terminal', '402 Payment Required: Insufficient credits'],
    [403, '', 'unauthorized', '403 Forbidden'],
    [404, '{"detail": "Not found."}', 'notFound', '404 Not Found: Not found.'],
    [422, '{"error": "Unprocessable"}', 'terminal', '422 Unprocessable Entity: Unprocessable'],
    [
      429,
      '{"detail": "Request was throttled."}',
      'transient',
      '429 Too Many Requests: Request was throttled.',
    ],
    [500, 'Internal Server Error', 'transient', '500 Internal Server Error: Internal Server Error'],
    [502, '<html><title>502 Bad Gateway</title></html>', 'transient', '502 Bad Gateway: 502 Bad Gateway'],
    [503, '', 'transient', '503 Service Unavailable'],
  ] as [number, string, ErrorKind, string][])('answers %i as %s', async (status, body, kind, reason) => {
    server.respond((_req, res) =>
      raw(res, status, body, body.startsWith('{') ? 'application/json' : 'text/html'),
    );
    const err = await failure(client.getServer(7));
    expect(err).toMatchObject({ kind, status, endpoint: 'get', method: 'GET', serverId: 7 });
    expect(err.message).toBe(`VPS.org get server 7: ${reason}`);
    expect(calls).toEqual([
      { endpoint: 'get', method: 'GET', status, outcome: kind, durationMs: expect.any(Number) },
    ]);
  });

  it('surfaces 404 of a delete as notFound, for the caller to read as done', async () => {
    server.respond((_req, res) => json(res, 404, { detail: 'Not found.' }));
    expect((await failure(client.deleteServer(7))).kind).toBe('notFound');
  });

  it('does not follow a redirect, which would carry the token elsewhere', async () => {
    server.respond((req, res) => {
      if (req.url.startsWith('/elsewhere')) return json(res, 200, detail());
      res.writeHead(302, { Location: `${server.origin}/elsewhere/` });
      res.end();
    });
    const err = await failure(client.getServer(7));
    expect(err).toMatchObject({ kind: 'terminal', status: 302 });
    expect(server.requests).toHaveLength(1);
  });
});

describe('Retry-After', () => {
  it.each([
    ['seconds', '30', 30_000],
    ['an HTTP date, from the injected now', 'Thu, 16 Jan 2025 15:32:00 GMT', 120_000],
  ])('is read from a 429 given in %s', async (_, header, ms) => {
    server.respond((_req, res) =>
      json(res, 429, { detail: 'Request was throttled.' }, { 'Retry-After': header }),
    );
    expect((await failure(client.listServers())).retryAfterMs).toBe(ms);
  });

  it('is read from a 503 too', async () => {
    server.respond((_req, res) => json(res, 503, {}, { 'Retry-After': '5' }));
    expect((await failure(client.stopServer(7))).retryAfterMs).toBe(5_000);
  });
});

describe('a 2xx that is not the documented shape', () => {
  const cases: [string, (res: ServerResponse) => void, string][] = [
    ['an empty body', (res) => raw(res, 200, ''), 'empty body'],
    ['truncated JSON', (res) => raw(res, 200, '{"id": 12345, "na'), 'body is not JSON'],
    ['an HTML page', (res) => raw(res, 200, '<html>maintenance</html>', 'text/html'), 'body is not JSON'],
    ['a wrong type', (res) => json(res, 200, { ...detail(), id: '12345' }), 'id: expected an id'],
    [
      'a missing field',
      (res) => json(res, 200, { ...detail(), resource_usage: undefined }),
      'resource_usage: missing',
    ],
    ['JSON null', (res) => raw(res, 200, 'null', 'application/json'), 'body: expected an object, got null'],
  ];
  it.each(cases)('is a transient invalid response: %s', async (_, answer, problem) => {
    server.respond((_req, res) => answer(res));
    const err = await failure(client.getServer(12345));
    expect(err).toMatchObject({ kind: 'transient', status: 200 });
    expect(err.message).toContain('VPS.org get server 12345: 200 OK: invalid response from VPS.org: ');
    expect(err.message).toContain(problem);
  });

  it('keeps a server state the docs do not name', async () => {
    server.respond((_req, res) => json(res, 200, { ...detail(), status: 'migrating' }));
    expect((await client.getServer(12345)).status).toBe('migrating');
  });
});

describe('no usable answer', () => {
  it('is transient when no answer comes within the timeout', async () => {
    server.respond(() => undefined);
    const err = await failure(client.getServer(7));
    expect(err).toMatchObject({ kind: 'transient', status: undefined });
    expect(err.message).toBe('VPS.org get server 7: no answer within 1000 ms');
  });

  it('is transient when the body stalls after the headers', async () => {
    server.respond((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"id": 7,');
    });
    expect(await failure(client.getServer(7))).toMatchObject({
      kind: 'transient',
      message: expect.stringMatching(/no answer within 1000 ms/),
    });
  });

  it('is transient when the connection is reset before an answer', async () => {
    server.respond((_req, res) => void res.socket?.destroy());
    const err = await failure(client.createServer({ name: 'a', planId: 1, osId: 3, location: 'us-west' }));
    expect(err).toMatchObject({ kind: 'transient', status: undefined });
    expect(err.message).toMatch(/^VPS\.org create server: network error: /);
  });

  it('is transient when the connection drops in the middle of the body', async () => {
    server.respond((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '500' });
      res.write('{"id": 7,', () => res.socket?.destroy());
    });
    const err = await failure(client.getServer(7));
    expect(err).toMatchObject({ kind: 'transient' });
    expect(err.message).toMatch(/network error/);
  });

  it('is transient when nothing listens on the port', async () => {
    const closed = await startTestServer();
    await closed.close();
    const c = new VpsOrgClient({ token: TOKEN, baseUrl: closed.apiBaseUrl });
    const err = await failure(c.listServers());
    expect(err.kind).toBe('transient');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('still classifies by status when an error body is cut short', async () => {
    server.respond((_req, res) => {
      res.writeHead(503, { 'Content-Length': '100' });
      res.write('partial', () => res.socket?.destroy());
    });
    expect(await failure(client.getServer(7))).toMatchObject({ kind: 'transient', status: 503 });
  });
});

describe('the caller aborting', () => {
  it('rejects with the signal reason, not a VpsApiError, and reports aborted', async () => {
    server.respond(() => undefined);
    const controller = new AbortController();
    const call = client.getServer(7, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    await expect(call).rejects.toThrow('shutting down');
    expect(calls.map((c) => c.outcome)).toEqual(['aborted']);
  });

  it('does not call at all with an already aborted signal', async () => {
    await expect(client.getServer(7, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(server.requests).toHaveLength(0);
  });
});

describe('broken pagination', () => {
  const page = (id: number, next: string | null) => ({ count: 3, next, results: [listItem({ id })] });

  it('refuses a next that loops back to a page already read', async () => {
    server.respond((req, res) =>
      req.url.includes('page=2')
        ? json(res, 200, page(2, '/api/v1/servers/?page=1'))
        : json(res, 200, page(1, '/api/v1/servers/?page=2')),
    );
    // ?page=1 is a new URL the first time; the loop is caught when it comes round again.
    const err = await failure(client.listServers());
    expect(err).toMatchObject({ kind: 'transient', endpoint: 'list' });
    expect(err.message).toMatch(/invalid response from VPS\.org: next: points back to a page already read/);
    expect(server.requests.length).toBeLessThanOrEqual(4);
  });

  it('refuses a next on another host, which would receive the token', async () => {
    server.respond((_req, res) => json(res, 200, page(1, 'https://evil.example/api/v1/servers/?page=2')));
    const err = await failure(client.listServers());
    expect(err.message).toMatch(
      /next: points away from http:\/\/127\.0\.0\.1:\d+, to https:\/\/evil\.example/,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('gives up on a list that never ends', async () => {
    let n = 0;
    server.respond((_req, res) => {
      n += 1;
      json(res, 200, page(n, `/api/v1/servers/?page=${n + 1}`));
    });
    const c = new VpsOrgClient({ token: TOKEN, baseUrl: server.apiBaseUrl, maxListPages: 5 });
    const err = await failure(c.listServers());
    expect(err.message).toMatch(/the list did not end after 5 pages/);
    expect(server.requests).toHaveLength(5);
  });
});

describe('the API token', () => {
  // A provider that echoes the request's Authorization header into every error body.
  const echo = (status: number) => (req: { headers: { authorization?: string } }, res: ServerResponse) =>
    json(res, status, { detail: `you sent ${req.headers.authorization}`, [TOKEN]: [TOKEN] });

  it.each([
    ['a 400 echoing the header', () => server.respond(echo(400))],
    ['a 401 echoing the header', () => server.respond(echo(401))],
    [
      'a 2xx body echoing it',
      () => server.respond((req, res) => raw(res, 200, `oops ${req.headers.authorization}`)),
    ],
    ['a timeout', () => server.respond(() => undefined)],
    ['a reset', () => server.respond((_req, res) => void res.socket?.destroy())],
  ])('is absent from the error of %s and from the call reports', async (_, script) => {
    script();
    const err = await failure(client.createServer({ name: 'a', planId: 1, osId: 3, location: 'us-west' }));
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(printed(err)).not.toContain(TOKEN);
  });

  it('is absent from the client when it is printed', () => {
    expect(inspect(client, { showHidden: true, depth: 10 })).not.toContain(TOKEN);
    expect(JSON.stringify(client)).not.toContain(TOKEN);
  });

  it('is never in a URL the client calls', async () => {
    server.respond((_req, res) => json(res, 200, { count: 0, results: [] }));
    await client.listServers({ status: 'active' });
    expect(server.requests.map((r) => r.url).join()).not.toContain(TOKEN);
  });
});
