// The VPS.org Servers API client: the 9 endpoints of the contract (../../shared/vps-api.md) over
// Node's fetch, typed camelCase in, camelCase out. Each call is one HTTP exchange with its own
// timeout; every failure becomes one VpsApiError with a classification, and the client never
// retries on its own: whether and when to try again is the caller's decision (the controller's
// queue and call budget). Knows nothing about Kubernetes.
import packageJson from '../../package.json' with { type: 'json' };
import { gatedDispatcher, globalDispatcher } from '../net/write-gate.ts';
import {
  type CallSite,
  type Endpoint,
  type ErrorKind,
  errorFromResponse,
  type HttpMethod,
  invalidResponse,
  networkError,
  timeoutError,
  VpsApiError,
} from './errors.ts';
import {
  type CreatedServer,
  type CreateServerRequest,
  decodeCreatedServer,
  decodePowerActionResult,
  decodeServerDetail,
  decodeServerListPage,
  decodeUpdatedServer,
  type PatchServerRequest,
  type PowerActionResult,
  type ServerDetail,
  type ServerListFilter,
  type ServerListPage,
  type ServerSummary,
  toWireCreateRequest,
  toWirePatchRequest,
  toWireUpdateRequest,
  type UpdatedServer,
  type UpdateServerRequest,
} from './models.ts';
import { DecodeError } from './shape.ts';
import type { PowerAction } from './wire.ts';

export const DEFAULT_BASE_URL = 'https://admin.vps.org/api/v1';
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_USER_AGENT = `vps-operator/${packageJson.version} (+https://github.com/vps-org/vps-operator)`;
export const DEFAULT_MAX_LIST_PAGES = 1000;

/** What the client reports about each HTTP call it makes (one per page of a list). */
export interface CallEvent {
  endpoint: Endpoint;
  method: HttpMethod;
  /** The HTTP status, when a response came. */
  status?: number;
  /** `aborted`: the caller's signal ended the call; it says nothing about the provider. */
  outcome: 'ok' | ErrorKind | 'aborted';
  durationMs: number;
}

export interface VpsOrgClientOptions {
  /** The account's API token. Sent as `Authorization: Bearer …` and never kept anywhere else. */
  token: string;
  /** Root of the API; a trailing slash is optional. @default 'https://admin.vps.org/api/v1' */
  baseUrl?: string;
  /** Limit of one HTTP call, from connect to the last byte of the body, in ms. @default 10000 */
  timeoutMs?: number;
  /** @default 'vps-operator/<version> (+https://github.com/vps-org/vps-operator)' */
  userAgent?: string;
  /** The fetch to use (tests, proxies). @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Called once per HTTP call, after it ended, for metrics and logs. Carries no URL, header or
   * body, so it cannot leak the token. A hook that throws is ignored. @default none
   */
  onCall?: (event: CallEvent) => void;
  /** Current time in ms, to turn a `Retry-After` date into a wait. @default Date.now */
  now?: () => number;
  /** A list that has not ended after this many pages is treated as broken. @default 1000 */
  maxListPages?: number;
}

/** Per call. */
export interface CallOptions {
  /** Aborting it ends the call with the signal's reason (not a VpsApiError). */
  signal?: AbortSignal;
  /**
   * Runs each HTTP request of the call, e.g. in a rate budget: a list makes one request per
   * page, and each must be counted, or a long list bursts past the provider's limit.
   * @default runs it at once
   */
  schedule?: <T>(request: () => Promise<T>) => Promise<T>;
  /**
   * Called right before each HTTP request is handed to fetch, after every await of the call
   * (its turn in a budget included); throwing refuses the request and nothing is sent. The
   * lease guard of a write: a leader paused while it waited must not send on waking.
   */
  beforeSend?: () => void;
}

/** Options of a list call. */
export interface ListCallOptions extends CallOptions {
  /**
   * Where an earlier attempt of the same list got to: the call goes on from its next page and
   * returns the servers of the earlier pages too. The caller decides how long a cursor may be
   * reused (a provider keeps its `next` URLs valid for a while). @default start at page 1
   */
  resume?: ListCursor;
}

/** The place of a paged list between attempts: pages read, servers seen, the next page. */
export class ListCursor {
  first: string | undefined;
  next: URL | undefined;
  readonly visited = new Set<string>();
  readonly servers = new Map<number, ServerSummary>();
  /** Pages read so far by this list (over all attempts). */
  pages = 0;

  /** Whether the next call goes on from a page after the first. */
  get resuming(): boolean {
    return this.next !== undefined && this.pages > 0;
  }

  reset(first: URL): void {
    this.first = first.href;
    this.next = first;
    this.visited.clear();
    this.servers.clear();
    this.pages = 0;
  }

  /** Marks the list done: the next call with this cursor starts a new list. */
  finished(): void {
    this.next = undefined;
    this.visited.clear();
    this.servers.clear();
    this.pages = 0;
  }
}

/** One exchange: where, what to send, and how to read a 2xx body (none: the body is ignored). */
interface Exchange<T> {
  site: CallSite;
  url: URL;
  body?: unknown;
  read?: (json: unknown) => T;
}

/** Characters a token may have: anything else would be refused by fetch with the token quoted. */
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

export class VpsOrgClient {
  /** The normalised API root, always ending in `/`. */
  readonly baseUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #fetch: typeof fetch;
  readonly #onCall: ((event: CallEvent) => void) | undefined;
  readonly #now: () => number;
  readonly #maxListPages: number;

  constructor(options: VpsOrgClientOptions) {
    if (typeof options.token !== 'string' || !TOKEN_PATTERN.test(options.token)) {
      // The message must not quote the token, even a malformed one.
      throw new TypeError('VpsOrgClient: token must be a non-empty string of visible ASCII characters');
    }
    this.#token = options.token;
    this.baseUrl = normaliseBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.#timeoutMs > 0 && Number.isFinite(this.#timeoutMs))) {
      throw new RangeError(`VpsOrgClient: timeoutMs must be a positive number, got ${options.timeoutMs}`);
    }
    this.#userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#onCall = options.onCall;
    this.#now = options.now ?? Date.now;
    this.#maxListPages = options.maxListPages ?? DEFAULT_MAX_LIST_PAGES;
  }

  /**
   * Every server of the account (`GET /servers/`), following `next` across pages. A server seen
   * on two pages (the list shifted while we paged) is returned once. With `options.resume`, a
   * list that failed on a page goes on from that page on the next call instead of starting
   * over: against a provider whose limit is below our rate, a list of many pages would
   * otherwise draw a 429 on some page every time and never end.
   */
  async listServers(filter: ServerListFilter = {}, options: ListCallOptions = {}): Promise<ServerSummary[]> {
    const site: CallSite = { endpoint: 'list', method: 'GET' };
    const first = this.#url('servers/');
    if (filter.status !== undefined) first.searchParams.set('status', filter.status);
    if (filter.location !== undefined) first.searchParams.set('location', filter.location);
    const cursor = options.resume;
    // A cursor of another list (filter) or one that finished starts again.
    if (cursor !== undefined && (cursor.first !== first.href || cursor.next === undefined)) {
      cursor.reset(first);
    }
    const place = cursor ?? new ListCursor();
    if (place.first === undefined) place.reset(first);
    while (place.next !== undefined) {
      if (place.visited.size >= this.#maxListPages) {
        throw invalidResponse(site, 200, `the list did not end after ${place.visited.size} pages`, [
          this.#token,
        ]);
      }
      const pageUrl: URL = place.next;
      place.visited.add(pageUrl.href);
      let page: ServerListPage & { nextUrl: URL | undefined };
      try {
        page = await this.#call(
          {
            site,
            url: pageUrl,
            read: (json) => this.#withNextPage(decodeServerListPage(json), pageUrl, place.visited),
          },
          options,
        );
      } catch (err) {
        // Only a page that was read moves the cursor: a failed one is asked for again.
        place.visited.delete(pageUrl.href);
        throw err;
      }
      for (const server of page.results)
        if (!place.servers.has(server.id)) place.servers.set(server.id, server);
      place.pages++;
      place.next = page.nextUrl;
    }
    const all = [...place.servers.values()];
    place.finished();
    return all;
  }

  /** One server in detail (`GET /servers/{id}/`). */
  async getServer(serverId: number, options: CallOptions = {}): Promise<ServerDetail> {
    const site: CallSite = { endpoint: 'get', method: 'GET', serverId };
    return this.#call({ site, url: this.#serverUrl(serverId), read: decodeServerDetail }, options);
  }

  /**
   * Deploys a new server (`POST /servers/`). Not idempotent: a transient error (network,
   * timeout, 5xx) leaves it unknown whether a server was made.
   */
  async createServer(request: CreateServerRequest, options: CallOptions = {}): Promise<CreatedServer> {
    const site: CallSite = { endpoint: 'create', method: 'POST' };
    const body = toWireCreateRequest(request);
    return this.#call({ site, url: this.#url('servers/'), body, read: decodeCreatedServer }, options);
  }

  /** Full update (`PUT /servers/{id}/`): name, hostname and backups all set. */
  async updateServer(
    serverId: number,
    request: UpdateServerRequest,
    options: CallOptions = {},
  ): Promise<UpdatedServer> {
    const site: CallSite = { endpoint: 'put', method: 'PUT', serverId };
    const body = toWireUpdateRequest(request);
    return this.#call({ site, url: this.#serverUrl(serverId), body, read: decodeUpdatedServer }, options);
  }

  /** Partial update (`PATCH /servers/{id}/`): only the fields given are sent. */
  async patchServer(
    serverId: number,
    changes: PatchServerRequest,
    options: CallOptions = {},
  ): Promise<UpdatedServer> {
    const site: CallSite = { endpoint: 'patch', method: 'PATCH', serverId };
    const body = toWirePatchRequest(changes);
    return this.#call({ site, url: this.#serverUrl(serverId), body, read: decodeUpdatedServer }, options);
  }

  /**
   * Deletes the server for good (`DELETE /servers/{id}/`). A server that is already gone fails
   * with a notFound error; the caller decides that this means done.
   */
  async deleteServer(serverId: number, options: CallOptions = {}): Promise<void> {
    const site: CallSite = { endpoint: 'delete', method: 'DELETE', serverId };
    await this.#call({ site, url: this.#serverUrl(serverId) }, options);
  }

  /** Powers a stopped server on. A running one is refused with a terminal 400. */
  async startServer(serverId: number, options: CallOptions = {}): Promise<PowerActionResult> {
    return this.#powerAction('start', serverId, options);
  }

  /** Shuts a running server down gracefully. */
  async stopServer(serverId: number, options: CallOptions = {}): Promise<PowerActionResult> {
    return this.#powerAction('stop', serverId, options);
  }

  /** Reboots a running server gracefully. One that is not running is refused with a terminal 400. */
  async rebootServer(serverId: number, options: CallOptions = {}): Promise<PowerActionResult> {
    return this.#powerAction('reboot', serverId, options);
  }

  async #powerAction(
    action: PowerAction,
    serverId: number,
    options: CallOptions,
  ): Promise<PowerActionResult> {
    const site: CallSite = { endpoint: action, method: 'POST', serverId };
    return this.#call(
      { site, url: this.#serverUrl(serverId, `${action}/`), read: decodePowerActionResult },
      options,
    );
  }

  // ——— one HTTP exchange ———

  /** Makes the exchange (when `options.schedule` lets it) and reports it to onCall, whatever the outcome. */
  #call<T>(exchange: Exchange<T>, options: CallOptions): Promise<T> {
    const run = () => this.#reportedExchange(exchange, options);
    return options.schedule === undefined ? run() : options.schedule(run);
  }

  async #reportedExchange<T>(exchange: Exchange<T>, options: CallOptions): Promise<T> {
    const started = performance.now();
    const answer: { status?: number } = {};
    let outcome: CallEvent['outcome'] = 'ok';
    try {
      return await this.#exchange(exchange, options, answer);
    } catch (err) {
      outcome = err instanceof VpsApiError ? err.kind : options.signal?.aborted ? 'aborted' : 'transient';
      throw err;
    } finally {
      this.#report({
        endpoint: exchange.site.endpoint,
        method: exchange.site.method,
        ...(answer.status !== undefined && { status: answer.status }),
        outcome,
        durationMs: performance.now() - started,
      });
    }
  }

  /**
   * The fetch of one exchange. `beforeSend` is asked now, and again by the connection right
   * before it writes the first byte (net/write-gate.ts): a process paused inside fetch must not
   * send on waking. Its refusal comes back as a RefusedBeforeSend.
   */
  async #send(exchange: Exchange<unknown>, signal: AbortSignal, beforeSend?: () => void): Promise<Response> {
    let refused: unknown;
    const ask = (): void => {
      try {
        beforeSend?.();
      } catch (err) {
        refused = err;
        throw err;
      }
    };
    const gate = beforeSend === undefined ? undefined : globalDispatcher();
    try {
      ask();
      return await this.#fetch(exchange.url, {
        method: exchange.site.method,
        headers: this.#headers(),
        ...(exchange.body !== undefined && { body: JSON.stringify(exchange.body) }),
        signal,
        // A redirect would carry the token to wherever it points; an API does not redirect.
        redirect: 'manual',
        ...(beforeSend !== undefined &&
          gate !== undefined && {
            dispatcher: gatedDispatcher(gate, ask, () => {}),
          }),
      } as RequestInit);
    } catch (err) {
      throw refused === undefined ? err : new RefusedBeforeSend(refused);
    }
  }

  async #exchange<T>(
    exchange: Exchange<T>,
    { signal: callerSignal, beforeSend }: CallOptions,
    answer: { status?: number },
  ): Promise<T> {
    const { site } = exchange;
    callerSignal?.throwIfAborted();
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = callerSignal === undefined ? timeout : AbortSignal.any([callerSignal, timeout]);
    const failure = (err: unknown): unknown => {
      if (callerSignal?.aborted) return callerSignal.reason;
      if (timeout.aborted) return timeoutError(site, this.#timeoutMs, [this.#token]);
      return networkError(site, err, [this.#token]);
    };

    let response: Response;
    try {
      response = await this.#send(exchange, signal, beforeSend);
    } catch (err) {
      if (err instanceof RefusedBeforeSend) throw err.reason;
      throw failure(err);
    }
    answer.status = response.status;

    if (!response.ok) {
      // The status decides the classification; a body cut short only loses the message.
      const bodyText = await response.text().catch(() => '');
      if (callerSignal?.aborted) throw callerSignal.reason;
      throw errorFromResponse(
        site,
        {
          status: response.status,
          statusText: response.statusText,
          retryAfter: response.headers.get('retry-after'),
          bodyText,
        },
        this.#now(),
        [this.#token],
      );
    }

    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw failure(err);
    }
    if (exchange.read === undefined) return undefined as T;
    return this.#decode(site, response.status, text, exchange.read);
  }

  #decode<T>(site: CallSite, status: number, text: string, read: (json: unknown) => T): T {
    const invalid = (problem: string) => invalidResponse(site, status, problem, [this.#token]);
    if (text.trim() === '') throw invalid('empty body');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      const start = text.slice(0, 60).replace(/\s+/g, ' ');
      throw invalid(`body is not JSON: ${start}${text.length > 60 ? '…' : ''}`);
    }
    try {
      return read(json);
    } catch (err) {
      if (err instanceof DecodeError) throw invalid(err.message);
      throw err;
    }
  }

  #headers(): Record<string, string> {
    return {
      Authorization: `Bearer ${this.#token}`,
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'User-Agent': this.#userAgent,
    };
  }

  #report(event: CallEvent): void {
    try {
      this.#onCall?.(event);
    } catch {
      // A metrics or logging bug must not turn a good call into a failed one.
    }
  }

  // ——— URLs ———

  #url(path: string): URL {
    return new URL(path, this.baseUrl);
  }

  #serverUrl(serverId: number, action = ''): URL {
    if (!Number.isSafeInteger(serverId) || serverId < 1) {
      throw new RangeError(`VpsOrgClient: a server id is a positive integer, got ${serverId}`);
    }
    return this.#url(`servers/${serverId}/${action}`);
  }

  /**
   * Resolves a page's `next` against the page's URL. Refuses one that leaves the API's origin
   * (it would receive the token) or returns to a page already read (the list would never end).
   */
  #withNextPage(page: ServerListPage, pageUrl: URL, visited: Set<string>) {
    if (page.next === null || page.next === '') return { ...page, nextUrl: undefined };
    let next: URL;
    try {
      next = new URL(page.next, pageUrl);
    } catch {
      throw new DecodeError('next', `not a URL: ${JSON.stringify(page.next.slice(0, 60))}`);
    }
    if (next.origin !== new URL(this.baseUrl).origin) {
      throw new DecodeError('next', `points away from ${new URL(this.baseUrl).origin}, to ${next.origin}`);
    }
    if (visited.has(next.href))
      throw new DecodeError('next', `points back to a page already read (${next.href})`);
    return { ...page, nextUrl: next };
  }
}

/** Validates the base URL and gives it a trailing slash, so relative paths resolve under it. */
function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError('VpsOrgClient: baseUrl is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`VpsOrgClient: baseUrl must be http(s), got ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new TypeError('VpsOrgClient: baseUrl must not carry credentials, a query or a fragment');
  }
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** beforeSend refused the request: nothing was sent; `reason` is what it threw. */
class RefusedBeforeSend {
  readonly reason: unknown;
  constructor(reason: unknown) {
    this.reason = reason;
  }
}
