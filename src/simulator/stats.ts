// Counters of what the provider API saw, for tests and benchmarks to assert on: calls per
// endpoint, answers per status, throttling and the Retry-After violations the reliability
// suite must keep at zero. The inspection API serves a snapshot; nothing here is per server.

import { ENDPOINTS, type EndpointName } from './endpoints.ts';

export interface SimulatorStats {
  /** Requests per endpoint, whatever their fate (including 401, 429, injected faults). */
  calls: Record<EndpointName, number>;
  /** Replies per HTTP status ("200", "429", ...); dropped and lost replies are not here. */
  byStatus: Record<string, number>;
  /** Replies per endpoint and status, e.g. `{create: {"201": 3, "402": 1}}`. */
  byEndpointStatus: Partial<Record<EndpointName, Record<string, number>>>;
  /** Requests to paths or methods the API does not have (404/405). */
  unmatched: number;
  /** 429 answers. */
  throttled: number;
  /** Requests that arrived while their token was inside an announced Retry-After window. */
  retryAfterViolations: number;
  /** The last (at most 50) of those: who, where, and how far into the window. */
  retryAfterViolationLog: RetryAfterViolation[];
  /** Injected 5xx answers. */
  injectedErrors: number;
  /** Connections closed by injection before the API acted. */
  droppedConnections: number;
  /** Requests held unanswered by injection until the client gave up. */
  hungRequests: number;
  /** Requests the API carried out whose reply was then lost by injection. */
  lostResponses: number;
  /** Requests the API carried out whose reply was then garbled by injection. */
  garbledReplies: number;
}

export interface RetryAfterViolation {
  account: string;
  endpoint: EndpointName;
  msAfterWindowOpened: number;
  msBeforeWindowEnd: number;
}

export type StatsEvent =
  | 'throttled'
  | 'injectedErrors'
  | 'droppedConnections'
  | 'lostResponses'
  | 'hungRequests'
  | 'garbledReplies';

export class StatsRecorder {
  #stats = emptyStats();

  call(endpoint: EndpointName): void {
    this.#stats.calls[endpoint]++;
  }

  unmatched(): void {
    this.#stats.unmatched++;
  }

  reply(endpoint: EndpointName | null, status: number): void {
    const key = String(status);
    this.#stats.byStatus[key] = (this.#stats.byStatus[key] ?? 0) + 1;
    if (endpoint === null) return;
    const perEndpoint = this.#stats.byEndpointStatus[endpoint] ?? {};
    perEndpoint[key] = (perEndpoint[key] ?? 0) + 1;
    this.#stats.byEndpointStatus[endpoint] = perEndpoint;
  }

  count(event: StatsEvent): void {
    this.#stats[event]++;
  }

  violation(v: RetryAfterViolation): void {
    this.#stats.retryAfterViolations++;
    this.#stats.retryAfterViolationLog.push(v);
    if (this.#stats.retryAfterViolationLog.length > 50) this.#stats.retryAfterViolationLog.shift();
  }

  /** A deep copy, safe to hand out. */
  snapshot(): SimulatorStats {
    return structuredClone(this.#stats);
  }

  reset(): void {
    this.#stats = emptyStats();
  }
}

function emptyStats(): SimulatorStats {
  return {
    calls: Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as Record<EndpointName, number>,
    byStatus: {},
    byEndpointStatus: {},
    unmatched: 0,
    throttled: 0,
    retryAfterViolations: 0,
    retryAfterViolationLog: [],
    injectedErrors: 0,
    droppedConnections: 0,
    lostResponses: 0,
    hungRequests: 0,
    garbledReplies: 0,
  };
}
