// The one error type of the VPS.org client, classified once here so callers never look at HTTP
// status codes: transient (retry with backoff), terminal (a human must change the request),
// unauthorized (the token is wrong), notFound (the server is gone). Its constructor is the single
// place every error passes, so it is also where the API token is scrubbed from anything kept.
import { STATUS_CODES } from 'node:http';
import { readErrorBody } from './error-body.ts';
import { parseRetryAfter } from './retry-after.ts';
import type { Endpoint } from './wire.ts';

export { ENDPOINTS, type Endpoint } from './wire.ts';

export const ERROR_KINDS = ['transient', 'terminal', 'unauthorized', 'notFound'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Which call an error is about. */
export interface CallSite {
  endpoint: Endpoint;
  method: HttpMethod;
  /** The server the call was about; absent for list and create. */
  serverId?: number;
}

export interface VpsApiErrorInit extends CallSite {
  kind: ErrorKind;
  /** What went wrong, after the "VPS.org <call>: " prefix, e.g. "402 Payment Required: …". */
  reason: string;
  status?: number;
  providerMessage?: string;
  fieldErrors?: Record<string, string[]>;
  retryAfterMs?: number;
  /** The underlying failure; only a scrubbed copy of its name, message and code is kept. */
  cause?: unknown;
  /** Strings (the API token) that must not survive into anything the error keeps. */
  secrets?: readonly string[];
}

export class VpsApiError extends Error {
  override name = 'VpsApiError';
  /** How the caller should react; see the file header. */
  readonly kind: ErrorKind;
  /** The HTTP status; undefined when no response came (network error, timeout). */
  readonly status: number | undefined;
  readonly endpoint: Endpoint;
  readonly method: HttpMethod;
  readonly serverId: number | undefined;
  /** The provider's own words from the response body, one line, at most 500 characters. */
  readonly providerMessage: string | undefined;
  /** Validation messages per field path, when the provider sent field errors (a 400). */
  readonly fieldErrors: Readonly<Record<string, readonly string[]>> | undefined;
  /** How long the provider asked us to wait (`Retry-After`), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(init: VpsApiErrorInit) {
    const scrub = scrubber(init.secrets ?? []);
    const cause = copyCause(init.cause, scrub, 0);
    super(
      scrub(`VPS.org ${describeCall(init)}: ${init.reason}`),
      cause === undefined ? undefined : { cause },
    );
    this.kind = init.kind;
    this.status = init.status;
    this.endpoint = init.endpoint;
    this.method = init.method;
    this.serverId = init.serverId;
    this.providerMessage = init.providerMessage === undefined ? undefined : scrub(init.providerMessage);
    this.fieldErrors =
      init.fieldErrors === undefined
        ? undefined
        : Object.fromEntries(Object.entries(init.fieldErrors).map(([f, ms]) => [scrub(f), ms.map(scrub)]));
    this.retryAfterMs = init.retryAfterMs;
  }

  /** The fields a structured log line needs (JSON.stringify of an Error keeps no message). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      kind: this.kind,
      status: this.status,
      endpoint: this.endpoint,
      method: this.method,
      serverId: this.serverId,
      providerMessage: this.providerMessage,
      fieldErrors: this.fieldErrors,
      retryAfterMs: this.retryAfterMs,
    };
  }
}

const CALL_WORDS: Record<Endpoint, string> = {
  list: 'list servers',
  create: 'create server',
  get: 'get server',
  put: 'update server',
  patch: 'patch server',
  delete: 'delete server',
  start: 'start server',
  stop: 'stop server',
  reboot: 'reboot server',
};

/** "create server", "get server 12345": the call in words, for messages. */
export function describeCall(site: CallSite): string {
  const words = CALL_WORDS[site.endpoint];
  return site.serverId === undefined ? words : `${words} ${site.serverId}`;
}

/**
 * The classification of an HTTP error status. 408 (the server timed out waiting for us) is
 * transient like 429 and 5xx; 410 Gone means the same as 404 for a server; any other 3xx/4xx
 * is a refusal that repeating will not change.
 */
export function kindOfStatus(status: number): ErrorKind {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404 || status === 410) return 'notFound';
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  return 'terminal';
}

/** "402 Payment Required". */
export function statusLine(status: number, statusText = ''): string {
  const text = STATUS_CODES[status] ?? statusText;
  return text === '' ? String(status) : `${status} ${text}`;
}

/** The error for a non-2xx response, from its status, `Retry-After` header and body text. */
export function errorFromResponse(
  site: CallSite,
  response: { status: number; statusText?: string; retryAfter: string | null; bodyText: string },
  nowMs: number,
  secrets: readonly string[],
): VpsApiError {
  const { providerMessage, fieldErrors } = readErrorBody(response.bodyText);
  const line = statusLine(response.status, response.statusText);
  const retryAfterMs = parseRetryAfter(response.retryAfter, nowMs);
  return new VpsApiError({
    ...site,
    kind: kindOfStatus(response.status),
    reason: providerMessage === undefined ? line : `${line}: ${providerMessage}`,
    status: response.status,
    ...(providerMessage !== undefined && { providerMessage }),
    ...(fieldErrors !== undefined && { fieldErrors }),
    ...(retryAfterMs !== undefined && { retryAfterMs }),
    secrets,
  });
}

/**
 * A 2xx whose body is not the documented shape. Transient: a proxy's page or a half-deployed
 * provider is usually gone on the next try, and the caller's backoff keeps it from a storm.
 */
export function invalidResponse(
  site: CallSite,
  status: number,
  problem: string,
  secrets: readonly string[],
  cause?: unknown,
): VpsApiError {
  return new VpsApiError({
    ...site,
    kind: 'transient',
    reason: `${statusLine(status)}: invalid response from VPS.org: ${problem}`,
    status,
    cause,
    secrets,
  });
}

/** No usable answer: connection refused or reset, DNS, TLS, a body cut short. Always transient. */
export function networkError(site: CallSite, cause: unknown, secrets: readonly string[]): VpsApiError {
  return new VpsApiError({
    ...site,
    kind: 'transient',
    reason: `network error: ${rootCause(cause)}`,
    cause,
    secrets,
  });
}

export function timeoutError(site: CallSite, timeoutMs: number, secrets: readonly string[]): VpsApiError {
  return new VpsApiError({ ...site, kind: 'transient', reason: `no answer within ${timeoutMs} ms`, secrets });
}

export const isVpsApiError = (err: unknown): err is VpsApiError => err instanceof VpsApiError;
/** Network, timeout, 429, 5xx, invalid response: worth another try later (see retryAfterMs). */
export const isTransient = (err: unknown): err is VpsApiError =>
  isVpsApiError(err) && err.kind === 'transient';
/** The provider refused the request as made (400, 402, 422…): retrying it unchanged is pointless. */
export const isTerminal = (err: unknown): err is VpsApiError => isVpsApiError(err) && err.kind === 'terminal';
/** 401/403: the token is missing, wrong or revoked. */
export const isUnauthorized = (err: unknown): err is VpsApiError =>
  isVpsApiError(err) && err.kind === 'unauthorized';
/** 404: the server does not exist (for a delete: it is already gone). */
export const isNotFound = (err: unknown): err is VpsApiError => isVpsApiError(err) && err.kind === 'notFound';

// ——— scrubbing ———

const REDACTED = '[REDACTED]';

/** Replaces every secret, raw or URL-encoded, in a text. */
export function scrubber(secrets: readonly string[]): (text: string) => string {
  const forms = secrets
    .filter((s) => s !== '')
    .flatMap((s) => [s, encodeURIComponent(s)])
    .sort((a, b) => b.length - a.length);
  return (text) => forms.reduce((t, s) => t.split(s).join(REDACTED), text);
}

interface CodedError extends Error {
  code?: unknown;
}

/**
 * A plain copy of a cause chain: name, scrubbed message and `code` only. fetch's errors can hold
 * the request (and so its Authorization header) in properties that util.inspect would print.
 */
function copyCause(cause: unknown, scrub: (t: string) => string, depth: number): Error | undefined {
  if (cause === undefined || cause === null || depth > 4) return undefined;
  const source = cause instanceof Error ? (cause as CodedError) : undefined;
  const inner = source === undefined ? undefined : copyCause(firstOf(source), scrub, depth + 1);
  const copy: CodedError = new Error(scrub(source?.message ?? String(cause)), inner && { cause: inner });
  copy.name = source?.name ?? 'Error';
  if (typeof source?.code === 'string') copy.code = source.code;
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}

/** The next link of a cause chain: `cause`, or the first of an AggregateError (happy eyeballs). */
function firstOf(err: Error): unknown {
  if (err.cause !== undefined) return err.cause;
  return err instanceof AggregateError ? err.errors[0] : undefined;
}

/** The innermost cause in words: "other side closed (UND_ERR_SOCKET)", "connect ECONNREFUSED …". */
function rootCause(cause: unknown): string {
  let current: unknown = cause;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const next = firstOf(current);
    if (!(next instanceof Error)) break;
    current = next;
  }
  if (!(current instanceof Error)) return String(current);
  const code = (current as CodedError).code;
  const message = current.message === '' ? current.name : current.message;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
