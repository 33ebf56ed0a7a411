// The client over real HTTP against a scripted loopback server: what each of the 9 endpoints
// sends (method, path, headers, body) and what it returns, pagination and onCall reports.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CallEvent, DEFAULT_USER_AGENT, ListCursor, VpsOrgClient } from '../../src/vpsorg/client.ts';
import { created, detail, listItem, started } from '../fixtures/vpsorg-wire.ts';
import { json, raw, startTestServer, type TestServer } from '../support/vpsorg-test-server.ts';

const TOKEN = 'tok_live_5f4e3d2c1b0a';
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
  client = new VpsOrgClient({ token: TOKEN, baseUrl: server.apiBaseUrl, onCall: (e) => calls.push(e) });
});

const power = (status: string) => ({ ...started(), server: { ...started().server, status } });

describe('each endpoint', () => {
  it.each([
    [
      'listServers',
      () => client.listServers(),
      'GET',
      '/api/v1/servers/',
      '',
      200,
      { count: 1, results: [listItem()] },
    ],
    ['getServer', () => client.getServer(12345), 'GET', '/api/v1/servers/12345/', '', 200, detail()],
    [
      'createServer',
      () =>
        client.createServer({
          name: 'web-server-02',
          planId: 1,
          osId: 5,
          location: 'us-west',
          backupsEnabled: true,
        }),
      'POST',
      '/api/v1/servers/',
      '{"name":"web-server-02","plan_id":1,"os_id":5,"location":"us-west","backups_enabled":true}',
      201,
      created(),
    ],
    [
      'updateServer',
      () => client.updateServer(12345, { name: 'a', hostname: 'a.example.com', backupsEnabled: false }),
      'PUT',
      '/api/v1/servers/12345/',
      '{"name":"a","hostname":"a.example.com","backups_enabled":false}',
      200,
      detail(),
    ],
    [
      'patchServer',
      () => client.patchServer(12345, { name: 'new-server-name' }),
      'PATCH',
      '/api/v1/servers/12345/',
      '{"name":"new-server-name"}',
      200,
      detail(),
    ],
    [
      'deleteServer',
      () => client.deleteServer(12345),
      'DELETE',
      '/api/v1/servers/12345/',
      '',
      204,
      undefined,
    ],
    [
      'startServer',
      () => client.startServer(12345),
      'POST',
      '/api/v1/servers/12345/start/',
      '',
      200,
      power('starting'),
    ],
    [
      'stopServer',
      () => client.stopServer(12345),
      'POST',
      '/api/v1/servers/12345/stop/',
      '',
      200,
      power('stopping'),
    ],
    [
      'rebootServer',
      () => client.rebootServer(12345),
      'POST',
      '/api/v1/servers/12345/reboot/',
      '',
      200,
      power('rebooting'),
    ],
  ] as const)(
    '%s sends %s %s with the body and headers of the contract',
    async (_, call, method, path, body, status, answer) => {
      server.respond((_req, res) =>
        answer === undefined ? raw(res, status, '') : json(res, status, answer),
      );
      await call();
      expect(server.requests).toHaveLength(1);
      const [req] = server.requests;
      expect(req).toMatchObject({ method, url: path, body });
      expect(req?.headers).toMatchObject({
        authorization: `Bearer ${TOKEN}`,
        accept: 'application/json',
        'content-type': 'application/json',
        'user-agent': DEFAULT_USER_AGENT,
      });
    },
  );

  it('listServers returns camelCase summaries', async () => {
    server.respond((_req, res) => json(res, 200, { count: 1, results: [listItem()] }));
    expect(await client.listServers()).toEqual([
      expect.objectContaining({ id: 12345, ipAddress: '203.0.113.10' }),
    ]);
  });

  it('getServer returns the detail', async () => {
    server.respond((_req, res) => json(res, 200, detail()));
    expect(await client.getServer(12345)).toMatchObject({
      id: 12345,
      ipv6Address: '2001:0db8::1',
      backupsEnabled: true,
    });
  });

  it('createServer returns the new server and the provider message', async () => {
    server.respond((_req, res) => json(res, 201, created()));
    const made = await client.createServer({
      name: 'web-server-02',
      planId: 1,
      osId: 5,
      location: 'us-west',
    });
    expect(made).toMatchObject({
      id: 12347,
      status: 'provisioning',
      ipAddress: null,
      message: expect.any(String),
    });
  });

  it('patchServer returns what the answer says of the server', async () => {
    server.respond((_req, res) => json(res, 200, { ...detail(), name: 'new-server-name' }));
    expect(await client.patchServer(12345, { name: 'new-server-name' })).toMatchObject({
      id: 12345,
      name: 'new-server-name',
    });
  });

  it('deleteServer resolves on 204', async () => {
    server.respond((_req, res) => raw(res, 204, ''));
    await expect(client.deleteServer(12345)).resolves.toBeUndefined();
  });

  it('a power action returns the envelope with the transitional state', async () => {
    server.respond((_req, res) => json(res, 200, power('rebooting')));
    expect(await client.rebootServer(12345)).toEqual({
      status: 'success',
      message: 'Server is starting',
      server: { id: 12345, name: 'web-server-01', status: 'rebooting' },
    });
  });
});

describe('requests', () => {
  it('sends the status and location filters as query parameters', async () => {
    server.respond((_req, res) => json(res, 200, { count: 0, results: [] }));
    await client.listServers({ status: 'active', location: 'us-west' });
    expect(server.requests[0]?.url).toBe('/api/v1/servers/?status=active&location=us-west');
  });

  it.each([
    ['without a trailing slash', ''],
    ['with a trailing slash', '/'],
  ])('resolves paths under a base URL %s', async (_, slash) => {
    const c = new VpsOrgClient({ token: TOKEN, baseUrl: `${server.apiBaseUrl}${slash}` });
    server.respond((_req, res) => json(res, 200, detail()));
    await c.getServer(12345);
    expect(server.requests[0]?.url).toBe('/api/v1/servers/12345/');
  });

  it('sends the User-Agent it is given', async () => {
    const c = new VpsOrgClient({ token: TOKEN, baseUrl: server.apiBaseUrl, userAgent: 'probe/1' });
    server.respond((_req, res) => json(res, 200, detail()));
    await c.getServer(1);
    expect(server.requests[0]?.headers['user-agent']).toBe('probe/1');
  });

  it('names the operator and its version in the default User-Agent', () => {
    expect(DEFAULT_USER_AGENT).toMatch(
      /^vps-operator\/\d+\.\d+\.\d+ \(\+https:\/\/github\.com\/vps-org\/vps-operator\)$/,
    );
  });

  it('uses the fetch it is given', async () => {
    const seen: string[] = [];
    const c = new VpsOrgClient({
      token: TOKEN,
      baseUrl: 'https://api.example.test/v1',
      fetch: async (input) => {
        seen.push(String(input));
        return new Response(JSON.stringify(detail()), { status: 200 });
      },
    });
    await c.getServer(3);
    expect(seen).toEqual(['https://api.example.test/v1/servers/3/']);
  });

  it('refuses a server id that is not a positive integer without calling', async () => {
    await expect(client.getServer(0)).rejects.toThrow(RangeError);
    await expect(client.deleteServer(1.5)).rejects.toThrow(RangeError);
    expect(server.requests).toHaveLength(0);
  });

  it('asks beforeSend after the scheduled turn, and sends nothing when it refuses (a lease lost while queued)', async () => {
    const order: string[] = [];
    let leaseFresh = true;
    const call = client.rebootServer(12345, {
      schedule: async (request) => {
        order.push('turn waited');
        await new Promise((r) => setTimeout(r, 20));
        leaseFresh = false; // the process was paused while it waited
        return request();
      },
      beforeSend: () => {
        order.push('checked');
        if (!leaseFresh) throw new Error('lease lost');
      },
    });
    await expect(call).rejects.toThrow('lease lost');
    expect(order).toEqual(['turn waited', 'checked']);
    expect(server.requests).toHaveLength(0);
  });

  it('asks beforeSend again when the connection is about to write, and sends nothing if it refuses then', async () => {
    let asked = 0;
    const call = client.rebootServer(12345, {
      beforeSend: () => {
        asked++;
        if (asked > 1) throw new Error('lease lost before the first byte');
      },
    });
    await expect(call).rejects.toThrow('lease lost before the first byte');
    expect(asked).toBe(2);
    expect(server.requests).toHaveLength(0);
  });

  it('sends the request when beforeSend lets it', async () => {
    server.respond((_req, res) => json(res, 202, power('rebooting')));
    let asked = 0;
    await client.rebootServer(12345, { beforeSend: () => void asked++ });
    expect(server.requests).toHaveLength(1);
    expect(asked).toBe(2);
  });
});

describe('construction', () => {
  it.each([
    ['an empty token', { token: '' }],
    ['a token with a line break', { token: 'abc\ndef' }],
    ['a token with a space', { token: 'abc def' }],
    ['a base URL that is not one', { token: TOKEN, baseUrl: 'admin.vps.org' }],
    ['a base URL with credentials', { token: TOKEN, baseUrl: 'https://u:p@admin.vps.org/api/v1' }],
    ['a base URL with a query', { token: TOKEN, baseUrl: 'https://admin.vps.org/api/v1?token=x' }],
    ['a non-http base URL', { token: TOKEN, baseUrl: 'ftp://admin.vps.org/' }],
    ['a zero timeout', { token: TOKEN, timeoutMs: 0 }],
  ])('refuses %s', (_, options) => {
    expect(() => new VpsOrgClient(options)).toThrow();
  });

  it('does not quote a malformed token in its refusal', () => {
    expect(() => new VpsOrgClient({ token: 'secret-part\nrest' })).toThrow(/^(?!.*secret-part)/s);
  });

  it('defaults to the documented base URL', () => {
    expect(new VpsOrgClient({ token: TOKEN }).baseUrl).toBe('https://admin.vps.org/api/v1/');
  });
});

describe('pagination', () => {
  const page = (ids: number[], next: string | null) => ({
    count: 7,
    next,
    results: ids.map((id) => listItem({ id, name: `s-${id}` })),
  });

  it('follows next across every page and returns all servers in order', async () => {
    server.respond((req, res) => {
      const n = new URL(req.url, server.origin).searchParams.get('page') ?? '1';
      if (n === '1') json(res, 200, page([1, 2, 3], `${server.apiBaseUrl}/servers/?page=2`));
      else if (n === '2') json(res, 200, page([4, 5, 6], '/api/v1/servers/?page=3'));
      else json(res, 200, page([7], null));
    });
    const servers = await client.listServers();
    expect(servers.map((s) => s.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/api/v1/servers/',
      '/api/v1/servers/?page=2',
      '/api/v1/servers/?page=3',
    ]);
  });

  it('keeps the filters on the next pages the provider links to', async () => {
    server.respond((req, res) =>
      req.url.includes('page=2')
        ? json(res, 200, page([2], null))
        : json(res, 200, page([1], '/api/v1/servers/?location=us-east&page=2')),
    );
    await client.listServers({ location: 'us-east' });
    expect(server.requests.map((r) => r.url)).toEqual([
      '/api/v1/servers/?location=us-east',
      '/api/v1/servers/?location=us-east&page=2',
    ]);
  });

  it('returns a server seen on two pages once (the list shifted while paging)', async () => {
    server.respond((req, res) =>
      req.url.includes('page=2')
        ? json(res, 200, page([3, 4], null))
        : json(res, 200, page([1, 2, 3], '/api/v1/servers/?page=2')),
    );
    expect((await client.listServers()).map((s) => s.id)).toEqual([1, 2, 3, 4]);
  });

  it('reports each page as one list call', async () => {
    server.respond((req, res) =>
      req.url.includes('page=2') ? json(res, 200, page([2], null)) : json(res, 200, page([1], '?page=2')),
    );
    await client.listServers();
    expect(calls.map((c) => [c.endpoint, c.method, c.status, c.outcome])).toEqual([
      ['list', 'GET', 200, 'ok'],
      ['list', 'GET', 200, 'ok'],
    ]);
  });

  it('runs each page through the schedule option (a rate budget counts pages, not lists)', async () => {
    server.respond((req, res) =>
      req.url.includes('page=2') ? json(res, 200, page([2], null)) : json(res, 200, page([1], '?page=2')),
    );
    let scheduled = 0;
    const ids = await client.listServers(
      {},
      {
        schedule: (request) => {
          scheduled += 1;
          return request();
        },
      },
    );
    expect(ids.map((s) => s.id)).toEqual([1, 2]);
    expect(scheduled).toBe(2);
    expect(server.requests).toHaveLength(2);
  });
});

describe('pagination resumed from the page that failed', () => {
  const page = (ids: number[], next: string | null) => ({
    count: 5,
    next,
    results: ids.map((id) => listItem({ id, name: `s-${id}` })),
  });
  /** Three pages; page 2 answers 429 the first `fails` times it is asked for. */
  const pagesFailingOnPage2 = (fails: number) => {
    let left = fails;
    server.respond((req, res) => {
      const n = new URL(req.url, server.origin).searchParams.get('page') ?? '1';
      if (n === '1') json(res, 200, page([1, 2], '/api/v1/servers/?page=2'));
      else if (n === '2' && left-- > 0) json(res, 429, { detail: 'slow down' }, { 'Retry-After': '1' });
      else if (n === '2') json(res, 200, page([3, 4], '/api/v1/servers/?page=3'));
      else json(res, 200, page([5], null));
    });
  };

  it('goes on from the failed page with the servers of the pages before it', async () => {
    pagesFailingOnPage2(1);
    const cursor = new ListCursor();
    await expect(client.listServers({}, { resume: cursor })).rejects.toMatchObject({ status: 429 });
    expect(cursor.resuming).toBe(true);
    const servers = await client.listServers({}, { resume: cursor });
    expect(servers.map((s) => s.id)).toEqual([1, 2, 3, 4, 5]);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/api/v1/servers/',
      '/api/v1/servers/?page=2',
      '/api/v1/servers/?page=2',
      '/api/v1/servers/?page=3',
    ]);
  });

  it('starts a new list from page 1 once a resumed list has finished', async () => {
    pagesFailingOnPage2(0);
    const cursor = new ListCursor();
    await client.listServers({}, { resume: cursor });
    expect(cursor.resuming).toBe(false);
    await client.listServers({}, { resume: cursor });
    expect(server.requests.map((r) => r.url)).toEqual([
      '/api/v1/servers/',
      '/api/v1/servers/?page=2',
      '/api/v1/servers/?page=3',
      '/api/v1/servers/',
      '/api/v1/servers/?page=2',
      '/api/v1/servers/?page=3',
    ]);
  });

  it('starts over when the cursor belongs to a list with other filters', async () => {
    pagesFailingOnPage2(1);
    const cursor = new ListCursor();
    await client.listServers({}, { resume: cursor }).catch(() => {});
    pagesFailingOnPage2(0);
    await client.listServers({ location: 'us-east' }, { resume: cursor });
    expect(server.requests[2]?.url).toBe('/api/v1/servers/?location=us-east');
  });

  it('starts at page 1 each time without a cursor', async () => {
    pagesFailingOnPage2(1);
    await client.listServers().catch(() => {});
    await client.listServers();
    expect(server.requests.map((r) => r.url)).toEqual([
      '/api/v1/servers/',
      '/api/v1/servers/?page=2',
      '/api/v1/servers/',
      '/api/v1/servers/?page=2',
      '/api/v1/servers/?page=3',
    ]);
  });
});

describe('onCall', () => {
  it('reports a failed call with its status, kind and duration', async () => {
    server.respond((_req, res) => json(res, 402, { detail: 'Insufficient credits' }));
    await expect(
      client.createServer({ name: 'a', planId: 1, osId: 3, location: 'us-west' }),
    ).rejects.toThrow();
    expect(calls).toEqual([
      {
        endpoint: 'create',
        method: 'POST',
        status: 402,
        outcome: 'terminal',
        durationMs: expect.any(Number),
      },
    ]);
  });

  it('reports a call without an answer without a status', async () => {
    server.respond(() => undefined); // never answers
    const c = new VpsOrgClient({
      token: TOKEN,
      baseUrl: server.apiBaseUrl,
      timeoutMs: 50,
      onCall: (e) => calls.push(e),
    });
    await expect(c.getServer(1)).rejects.toThrow();
    expect(calls).toEqual([
      { endpoint: 'get', method: 'GET', outcome: 'transient', durationMs: expect.any(Number) },
    ]);
  });

  it('ignores a hook that throws', async () => {
    const c = new VpsOrgClient({
      token: TOKEN,
      baseUrl: server.apiBaseUrl,
      onCall: () => {
        throw new Error('metrics bug');
      },
    });
    server.respond((_req, res) => json(res, 200, detail()));
    await expect(c.getServer(12345)).resolves.toMatchObject({ id: 12345 });
  });
});
