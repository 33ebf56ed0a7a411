// The provider as the domain uses it: one port per VPS.org account with the six writes and two
// reads a reconcile needs, in ObservedServer terms, every call through the shared call budget
// (writes before observation). Also classifies the client's errors into what a pass does next,
// in one place (kube-rs's error_policy), so nothing else looks at HTTP status codes.
import type { CreateServerRequest, PatchServerRequest } from '../vpsorg/index.ts';
import {
  insufficientCreditsMessage,
  rejectedMessage,
  retryingMessage,
  unauthorizedMessage,
} from './messages.ts';
import type { ObservedServer } from './observed.ts';

/**
 * Where a paged list got to, kept by the caller between attempts so a list that failed on a
 * page goes on from there (the provider fills `place`; the caller only keeps or drops it).
 */
export interface ListResume {
  place?: unknown;
}

export interface ServerProvider {
  /**
   * Every server (all pages); `onFirstRequest` is called when the first page is actually
   * requested. With `resume`, goes on from where a failed attempt with the same object stopped.
   */
  listServers(
    signal: AbortSignal,
    onFirstRequest?: () => void,
    resume?: ListResume,
  ): Promise<ObservedServer[]>;
  getServer(id: number, signal: AbortSignal): Promise<ObservedServer | undefined>;
  createServer(request: CreateServerRequest, signal: AbortSignal): Promise<ObservedServer>;
  /** PATCH with only the changed fields; returns what is known of the server afterwards. */
  updateServer(
    id: number,
    changes: PatchServerRequest,
    signal: AbortSignal,
  ): Promise<Partial<ObservedServer> & { id: number }>;
  powerAction(
    id: number,
    action: 'start' | 'stop' | 'reboot',
    signal: AbortSignal,
  ): Promise<{ id: number; state: string }>;
  /** Resolves when the server is deleted or was already gone (404). */
  deleteServer(id: number, signal: AbortSignal): Promise<void>;
  /**
   * How long a read (list, detail) or a write made now would wait for its turn in the
   * account's call budget, when that is long (over about 1 s: a 429's Retry-After, a long
   * line); undefined: make it now. The pass then gives its worker back instead of waiting.
   */
  longWait(call: 'read' | 'write'): number | undefined;
}

/** What a failed provider call means for the pass that made it. */
export interface ProviderFailure {
  /** Only a human can fix it: Stalled, no retry until spec or credentials change. */
  terminal: boolean;
  /** CamelCase condition reason. */
  reason:
    | 'InsufficientCredits'
    | 'ProviderRejected'
    | 'Unauthorized'
    | 'NotFound'
    | 'RateLimited'
    | 'ProviderUnavailable'
    | 'InvalidResponse'
    /** A power action refused for a state the operator had not seen yet; it looks again. */
    | 'StaleObservation';
  /** What to fix first, then what happened (see messages.ts); never the token. */
  message: string;
  /** What happened: names the call and carries the provider's own words ("VPS.org create server: 400 …"). */
  detail: string;
  /** The provider's validation messages per request field (a 400). */
  fieldErrors?: Readonly<Record<string, readonly string[]>>;
  /** Set for 429: how long the whole account must wait. */
  retryAfterMs?: number;
  /** HTTP status, when an answer came (undefined: network error or timeout, outcome unknown). */
  status?: number;
}

interface ClassifiedError {
  kind: 'transient' | 'terminal' | 'unauthorized' | 'notFound';
  status?: number;
  providerMessage?: string;
  fieldErrors?: Readonly<Record<string, readonly string[]>>;
  retryAfterMs?: number;
  message: string;
}

const isClassified = (err: unknown): err is ClassifiedError =>
  err instanceof Error && 'kind' in err && typeof (err as { kind: unknown }).kind === 'string';

/** Maps any error thrown by a provider call to what the reconcile does about it. */
export function providerFailure(err: unknown): ProviderFailure {
  if (!isClassified(err)) {
    const detail = err instanceof Error ? err.message : String(err);
    return { terminal: false, reason: 'ProviderUnavailable', message: retryingMessage(detail), detail };
  }
  const detail = err.message;
  const base = { detail, ...(err.status !== undefined && { status: err.status }) };
  switch (err.kind) {
    case 'unauthorized':
      return { ...base, terminal: true, reason: 'Unauthorized', message: unauthorizedMessage(detail) };
    case 'terminal':
      return err.status === 402
        ? {
            ...base,
            terminal: true,
            reason: 'InsufficientCredits',
            message: insufficientCreditsMessage(detail),
          }
        : {
            ...base,
            terminal: true,
            reason: 'ProviderRejected',
            message: rejectedMessage(detail, err.fieldErrors),
            ...(err.fieldErrors !== undefined && { fieldErrors: err.fieldErrors }),
          };
    case 'notFound':
      return { ...base, terminal: false, reason: 'NotFound', message: retryingMessage(detail) };
    default:
      if (err.status === 429) {
        return {
          ...base,
          terminal: false,
          reason: 'RateLimited',
          message: retryingMessage(detail, err.retryAfterMs),
          ...(err.retryAfterMs !== undefined && { retryAfterMs: err.retryAfterMs }),
        };
      }
      if (err.status !== undefined && err.status >= 200 && err.status < 300) {
        return { ...base, terminal: false, reason: 'InvalidResponse', message: retryingMessage(detail) };
      }
      return { ...base, terminal: false, reason: 'ProviderUnavailable', message: retryingMessage(detail) };
  }
}

/**
 * Whether the provider certainly did NOT carry out a write that failed this way: it answered,
 * and the answer was a refusal or throttling (4xx/429), or a 502/503 from its front door. A
 * network error, a timeout or a 500 leaves the outcome unknown.
 */
export function certainlyNotDone(failure: ProviderFailure): boolean {
  const s = failure.status;
  return s !== undefined && ((s >= 400 && s < 500) || s === 502 || s === 503);
}
