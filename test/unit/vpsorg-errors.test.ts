// The client's one error type: how each HTTP status is classified, how its message reads, and
// that the API token survives in none of the places an error is printed from.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type CallSite,
  describeCall,
  errorFromResponse,
  invalidResponse,
  isNotFound,
  isTerminal,
  isTransient,
  isUnauthorized,
  isVpsApiError,
  kindOfStatus,
  networkError,
  timeoutError,
  VpsApiError,
} from '../../src/vpsorg/errors.ts';

const TOKEN = 'tok_9f8e7d6c5b4a';
const NOW = Date.parse('2025-01-16T15:30:00Z');
const create: CallSite = { endpoint: 'create', method: 'POST' };
const get: CallSite = { endpoint: 'get', method: 'GET', serverId: 12345 };

const answer = (status: number, bodyText = '', retryAfter: string | null = null) =>
  errorFromResponse(create, { status, bodyText, retryAfter }, NOW, [TOKEN]);

describe('kindOfStatus', () => {
  it.each([
    [400, 'terminal'],
    [402, 'terminal'],
    [409, 'terminal'],
    [422, 'terminal'],
    [302, 'terminal'],
    [401, 'unauthorized'],
    [403, 'unauthorized'],
    [404, 'notFound'],
    [410, 'notFound'],
    [408, 'transient'],
    [429, 'transient'],
    [500, 'transient'],
    [502, 'transient'],
    [503, 'transient'],
    [504, 'transient'],
  ] as const)('classifies %i as %s', (status, kind) => {
    expect(kindOfStatus(status)).toBe(kind);
  });
});

describe('describeCall', () => {
  it.each([
    [{ endpoint: 'list', method: 'GET' }, 'list servers'],
    [{ endpoint: 'create', method: 'POST' }, 'create server'],
    [{ endpoint: 'get', method: 'GET', serverId: 7 }, 'get server 7'],
    [{ endpoint: 'put', method: 'PUT', serverId: 7 }, 'update server 7'],
    [{ endpoint: 'patch', method: 'PATCH', serverId: 7 }, 'patch server 7'],
    [{ endpoint: 'delete', method: 'DELETE', serverId: 7 }, 'delete server 7'],
    [{ endpoint: 'reboot', method: 'POST', serverId: 7 }, 'reboot server 7'],
  ] as [CallSite, string][])('names %o as "%s"', (site, words) => {
    expect(describeCall(site)).toBe(words);
  });
});

describe('errorFromResponse', () => {
  it('names the call, the status and the provider message', () => {
    const err = answer(402, '{"detail": "Insufficient credits"}');
    expect(err.message).toBe('VPS.org create server: 402 Payment Required: Insufficient credits');
    expect(err).toMatchObject({ kind: 'terminal', status: 402, endpoint: 'create', method: 'POST' });
    expect(err.providerMessage).toBe('Insufficient credits');
  });

  it('names the server a call was about', () => {
    const err = errorFromResponse(
      get,
      { status: 404, bodyText: '{"detail":"Not found."}', retryAfter: null },
      NOW,
      [],
    );
    expect(err.message).toBe('VPS.org get server 12345: 404 Not Found: Not found.');
    expect(err.serverId).toBe(12345);
  });

  it('ends at the status when the body says nothing', () => {
    expect(answer(503).message).toBe('VPS.org create server: 503 Service Unavailable');
    expect(answer(503).providerMessage).toBeUndefined();
  });

  it('carries field errors of a 400', () => {
    const err = answer(400, '{"name": ["Invalid name."], "plan_id": ["Unknown plan."]}');
    expect(err.fieldErrors).toEqual({ name: ['Invalid name.'], plan_id: ['Unknown plan.'] });
    expect(err.message).toBe(
      'VPS.org create server: 400 Bad Request: name: Invalid name.; plan_id: Unknown plan.',
    );
  });

  it('turns Retry-After seconds into retryAfterMs', () => {
    expect(answer(429, '', '7').retryAfterMs).toBe(7_000);
  });

  it('turns a Retry-After date into a wait from now', () => {
    expect(answer(503, '', 'Thu, 16 Jan 2025 15:31:00 GMT').retryAfterMs).toBe(60_000);
  });

  it('leaves retryAfterMs undefined without a Retry-After', () => {
    expect(answer(429).retryAfterMs).toBeUndefined();
  });
});

describe('the other failures', () => {
  it('calls a 2xx with the wrong shape an invalid response, transient', () => {
    const err = invalidResponse(get, 200, 'plan.vcpus: expected an integer, got "2"', []);
    expect(err.message).toBe(
      'VPS.org get server 12345: 200 OK: invalid response from VPS.org: plan.vcpus: expected an integer, got "2"',
    );
    expect(err).toMatchObject({ kind: 'transient', status: 200 });
  });

  it('calls a timeout transient, with no status', () => {
    const err = timeoutError(get, 250, []);
    expect(err.message).toBe('VPS.org get server 12345: no answer within 250 ms');
    expect(err).toMatchObject({ kind: 'transient', status: undefined });
  });

  it('names the innermost cause and its code of a network error', () => {
    const socket = Object.assign(new Error('other side closed'), {
      name: 'SocketError',
      code: 'UND_ERR_SOCKET',
    });
    const err = networkError(create, new TypeError('fetch failed', { cause: socket }), []);
    expect(err.message).toBe('VPS.org create server: network error: other side closed (UND_ERR_SOCKET)');
    expect(err.kind).toBe('transient');
  });

  it('reads the first error of an AggregateError (every address refused)', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const all = Object.assign(new AggregateError([refused], ''), { code: 'ECONNREFUSED' });
    const err = networkError(create, new TypeError('fetch failed', { cause: all }), []);
    expect(err.message).toBe('VPS.org create server: network error: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('keeps a plain copy of the cause chain with names and codes', () => {
    const socket = Object.assign(new Error('other side closed'), {
      name: 'SocketError',
      code: 'UND_ERR_SOCKET',
    });
    const err = networkError(create, new TypeError('fetch failed', { cause: socket }), []);
    const cause = err.cause as Error & { code?: string; cause?: Error & { code?: string } };
    expect(cause).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(cause.cause).toMatchObject({
      name: 'SocketError',
      message: 'other side closed',
      code: 'UND_ERR_SOCKET',
    });
    expect(cause.cause).not.toBe(socket);
  });
});

describe('predicates', () => {
  it.each([
    ['isTransient', isTransient, 503],
    ['isTerminal', isTerminal, 402],
    ['isUnauthorized', isUnauthorized, 401],
    ['isNotFound', isNotFound, 404],
  ])('%s is true for its kind only', (_, predicate, status) => {
    const statuses = [503, 402, 401, 404];
    expect(statuses.filter((s) => predicate(answer(s)))).toEqual([status]);
  });

  it('are false for anything that is not a VpsApiError', () => {
    const other = Object.assign(new Error('x'), { kind: 'transient' });
    expect([isVpsApiError, isTransient, isTerminal, isUnauthorized, isNotFound].map((p) => p(other))).toEqual(
      [false, false, false, false, false],
    );
  });
});

describe('the API token', () => {
  // A provider (or a proxy) that echoes the request back, and a low-level error that quotes it.
  const echoed = `{"name": ["Bearer ${TOKEN} is wrong"], "${TOKEN}": ["field ${TOKEN}"]}`;
  const leakyCause = new TypeError(`fetch failed for Bearer ${TOKEN}`, {
    cause: Object.assign(new Error(`socket to ?t=${encodeURIComponent(TOKEN)}`), { code: 'ECONNRESET' }),
  });
  const errors: [string, VpsApiError][] = [
    [
      'a response error',
      errorFromResponse(create, { status: 400, bodyText: echoed, retryAfter: null }, NOW, [TOKEN]),
    ],
    ['a network error', networkError(create, leakyCause, [TOKEN])],
    ['an invalid response', invalidResponse(create, 200, `got ${TOKEN}`, [TOKEN], leakyCause)],
  ];

  it.each(errors)('is absent from %s: message, stack, cause, inspect and JSON', (_, err) => {
    const printed = [
      err.message,
      err.stack ?? '',
      err.providerMessage ?? '',
      JSON.stringify(err.fieldErrors ?? {}),
      String(err.cause),
      inspect(err, { depth: 10, showHidden: true }),
      JSON.stringify(err),
      String(err),
    ];
    for (const text of printed) expect(text).not.toContain(TOKEN);
    expect(inspect(err, { depth: 10 })).toContain('[REDACTED]');
  });

  it('is replaced in the provider message and field errors, keeping the rest', () => {
    const err = errors[0]?.[1];
    expect(err?.providerMessage).toBe('name: Bearer [REDACTED] is wrong; [REDACTED]: field [REDACTED]');
    expect(err?.fieldErrors).toEqual({
      name: ['Bearer [REDACTED] is wrong'],
      '[REDACTED]': ['field [REDACTED]'],
    });
  });
});

describe('toJSON', () => {
  it('gives a structured log line the message and the classification', () => {
    const logged = JSON.parse(JSON.stringify(answer(429, '{"detail":"slow down"}', '3')));
    expect(logged).toEqual({
      name: 'VpsApiError',
      message: 'VPS.org create server: 429 Too Many Requests: slow down',
      kind: 'transient',
      status: 429,
      endpoint: 'create',
      method: 'POST',
      providerMessage: 'slow down',
      retryAfterMs: 3000,
    });
  });

  it('is an Error and a VpsApiError', () => {
    const err = answer(500);
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(VpsApiError);
    expect(err.name).toBe('VpsApiError');
  });
});
