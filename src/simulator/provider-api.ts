// The nine VPS.org endpoints over the store: authentication, the per-token rate limit, body
// parsing and validation, and the documented status codes and JSON shapes. Synchronous and
// socket-free; http.ts wraps it with routing, fault injection and logging.

import { type PowerAction, SERVER_STATES } from '../vpsorg/wire.ts';
import type { EndpointName } from './endpoints.ts';
import { INVALID_PAGE, paginate } from './pagination.ts';
import type { TokenBucketLimiter } from './rate-limit.ts';
import { renderCreated, renderDetail, renderListItem, renderPowerAction } from './render.ts';
import { detailReply, jsonReply, NOT_FOUND, type Reply } from './reply.ts';
import type { StatsRecorder } from './stats.ts';
import type { Account, Outcome, SimulatorStore } from './store.ts';
import { validateCreate, validateUpdate } from './validation.ts';

export interface ApiRequest {
  endpoint: EndpointName;
  serverId: number | null;
  /** Absolute URL of the request (pagination links are built from it). */
  url: URL;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

export interface ProviderApiDeps {
  store: SimulatorStore;
  limiter: TokenBucketLimiter;
  stats: StatsRecorder;
  pageSize: number;
}

// DRF's authentication messages, verbatim.
const NO_CREDENTIALS = 'Authentication credentials were not provided.';
const INVALID_TOKEN = 'Invalid token.';
const EMPTY_TOKEN = 'Invalid token header. No credentials provided.';
const SPACES_IN_TOKEN = 'Invalid token header. Token string should not contain spaces.';
const WWW_AUTHENTICATE = { 'WWW-Authenticate': 'Bearer realm="api"' };

type Authentication = { ok: true; account: Account } | { ok: false; reply: Reply };

export class ProviderApi {
  readonly #store: SimulatorStore;
  readonly #limiter: TokenBucketLimiter;
  readonly #stats: StatsRecorder;
  readonly #pageSize: number;

  constructor(deps: ProviderApiDeps) {
    this.#store = deps.store;
    this.#limiter = deps.limiter;
    this.#stats = deps.stats;
    this.#pageSize = deps.pageSize;
  }

  /**
   * Called first for every provider request, before any injected fault: a request from a token
   * that was told to wait (Retry-After) and came back early is a violation, whatever then happens.
   */
  noteArrival(authorization: string | undefined, endpoint: EndpointName): void {
    const account = this.#accountFor(authorization);
    if (account === undefined) return;
    const window = this.#limiter.violatedWindow(account.name);
    if (window !== undefined) this.#stats.violation({ account: account.name, endpoint, ...window });
  }

  /** A 429 the API gave was never delivered (lost reply): its Retry-After window does not count. */
  replyLost(authorization: string | undefined, status: number): void {
    const account = this.#accountFor(authorization);
    if (status === 429 && account !== undefined) this.#limiter.withdrawLastDenial(account.name);
  }

  /** The name of the account a request's Authorization header names, if any (for fault rules). */
  accountNameOf(authorization: string | undefined): string | undefined {
    return this.#accountFor(authorization)?.name;
  }

  /** Authenticates, throttles and carries out one request; `account` labels the log line. */
  handle(request: ApiRequest): { reply: Reply; account: Account | null } {
    const auth = this.#authenticate(request.authorization);
    if (!auth.ok) return { reply: auth.reply, account: null };
    const account = auth.account;
    const admission = this.#limiter.admit(account.name);
    if (!admission.allowed) {
      this.#stats.count('throttled');
      const wait = admission.retryAfterSeconds;
      const unit = wait === 1 ? 'second' : 'seconds';
      return {
        reply: detailReply(429, `Request was throttled. Expected available in ${wait} ${unit}.`, {
          'Retry-After': String(wait),
        }),
        account,
      };
    }
    return { reply: this.#dispatch(request, account), account };
  }

  #dispatch(request: ApiRequest, account: Account): Reply {
    const id = request.serverId ?? 0;
    switch (request.endpoint) {
      case 'list':
        return this.#list(account, request.url);
      case 'create':
        return this.#withBody(request, (body) => this.#create(account, body));
      case 'get': {
        const server = this.#store.getServer(account, id);
        return server === undefined
          ? detailReply(404, NOT_FOUND)
          : jsonReply(200, renderDetail(server, this.#store.now()));
      }
      case 'put':
      case 'patch': {
        const mode = request.endpoint;
        return this.#withBody(request, (body) => this.#update(account, id, body, mode));
      }
      case 'delete':
        return this.#store.deleteServer(account, id) ? { status: 204 } : detailReply(404, NOT_FOUND);
      case 'start':
      case 'stop':
      case 'reboot':
        return this.#power(account, id, request.endpoint);
    }
  }

  #list(account: Account, url: URL): Reply {
    const status = url.searchParams.get('status');
    if (status !== null && !(SERVER_STATES as readonly string[]).includes(status)) {
      return jsonReply(400, {
        status: [`Select a valid choice. ${status} is not one of the available choices.`],
      });
    }
    const location = url.searchParams.get('location');
    const servers = this.#store.listServers(account, {
      ...(status === null ? {} : { status }),
      ...(location === null ? {} : { location }),
    });
    const page = paginate(servers, this.#pageSize, url);
    if (page === null) return detailReply(404, INVALID_PAGE);
    return jsonReply(200, { ...page, results: page.results.map(renderListItem) });
  }

  #create(account: Account, body: unknown): Reply {
    const fields = validateCreate(body, this.#store.catalogue);
    if (!fields.ok) return jsonReply(400, fields.errors);
    const outcome = this.#store.createServer(account, fields.value);
    return outcomeReply(outcome, (server) => jsonReply(201, renderCreated(server)));
  }

  #update(account: Account, id: number, body: unknown, mode: 'put' | 'patch'): Reply {
    // A server that does not exist is 404 before its body is judged, as DRF's get_object() does.
    if (this.#store.getServer(account, id) === undefined) return detailReply(404, NOT_FOUND);
    const fields = validateUpdate(body, mode);
    if (!fields.ok) return jsonReply(400, fields.errors);
    const outcome = this.#store.updateServer(account, id, fields.value);
    return outcomeReply(outcome, (server) => jsonReply(200, renderDetail(server, this.#store.now())));
  }

  #power(account: Account, id: number, action: PowerAction): Reply {
    const outcome = this.#store.powerAction(account, id, action);
    return outcomeReply(outcome, (server) => jsonReply(200, renderPowerAction(server, action)));
  }

  /** Parses a JSON body the way DRF's JSONParser does: empty is `{}`, other media types are 415. */
  #withBody(request: ApiRequest, handle: (body: unknown) => Reply): Reply {
    if (request.body.trim() === '') return handle({});
    const mediaType = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (mediaType !== 'application/json' && !mediaType.endsWith('+json')) {
      return detailReply(415, `Unsupported media type "${request.contentType ?? ''}" in request.`);
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch (err) {
      return detailReply(400, `JSON parse error - ${(err as Error).message}`);
    }
    return handle(body);
  }

  #authenticate(authorization: string | undefined): Authentication {
    const header = parseBearer(authorization);
    const fail = (detail: string): Authentication => ({
      ok: false,
      reply: detailReply(401, detail, WWW_AUTHENTICATE),
    });
    if (header.kind === 'none') return fail(NO_CREDENTIALS);
    if (header.kind === 'empty') return fail(EMPTY_TOKEN);
    if (header.kind === 'spaces') return fail(SPACES_IN_TOKEN);
    const account = this.#store.accountByToken(header.token);
    return account === undefined ? fail(INVALID_TOKEN) : { ok: true, account };
  }

  #accountFor(authorization: string | undefined): Account | undefined {
    const header = parseBearer(authorization);
    return header.kind === 'token' ? this.#store.accountByToken(header.token) : undefined;
  }
}

type BearerHeader =
  | { kind: 'none' }
  | { kind: 'empty' }
  | { kind: 'spaces' }
  | { kind: 'token'; token: string };

/** Reads `Authorization: Bearer <token>`; another scheme counts as no credentials, as in DRF. */
function parseBearer(authorization: string | undefined): BearerHeader {
  const [scheme, token, ...extra] = (authorization ?? '').trim().split(/\s+/);
  if (scheme?.toLowerCase() !== 'bearer') return { kind: 'none' };
  if (token === undefined) return { kind: 'empty' };
  if (extra.length > 0) return { kind: 'spaces' };
  return { kind: 'token', token };
}

function outcomeReply(
  outcome: Outcome,
  ok: (server: Extract<Outcome, { kind: 'ok' }>['server']) => Reply,
): Reply {
  switch (outcome.kind) {
    case 'ok':
      return ok(outcome.server);
    case 'notFound':
      return detailReply(404, NOT_FOUND);
    case 'refused':
      return detailReply(400, outcome.message);
    case 'paymentRequired':
      return detailReply(402, outcome.message);
  }
}
