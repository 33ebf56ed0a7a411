// One provider port and one observation cache per VPS.org account (API token), shared by every
// resource that uses that token: this is what keeps the list calls per minute independent of
// the number of resources. Tokens are held in memory only, keyed by a SHA-256 fingerprint that
// is never logged either.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { deferred, type Result } from '../runtime/index.ts';
import { ObservationCache, type ObservationCacheOptions } from './observation-cache.ts';
import type { ServerProvider } from './provider.ts';

/** The id of the account of `token`: the first 12 hex digits of SHA-256(token), never the token. */
export function accountIdOf(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

export interface Account {
  /** Short, non-reversible id for logs and metrics: the first 12 hex digits of SHA-256(token). */
  id: string;
  provider: ServerProvider;
  observation: ObservationCache;
}

export interface AccountsOptions {
  /** Builds the provider port for a token (the wiring puts the API client and budget behind it). */
  providerFor: (token: string, accountId: string) => ServerProvider;
  observation: Omit<ObservationCacheOptions, 'onChange' | 'onError'>;
  /** Server ids of this account whose observable state changed, and the names of those still there. */
  onServersChanged: (accountId: string, ids: number[], names: string[]) => void;
  onObservationError: (accountId: string, err: unknown, what: 'list' | 'get') => void;
}

/**
 * The pass gives its worker back instead of waiting `ms` in the account's call budget for a
 * `call` (paused by a 429's Retry-After, or a long line): the call is not queued, and the pass
 * runs again when the budget should be ready, its backoff untouched. Waiting there instead, the
 * passes of one throttled account held every worker while other accounts' passes queued.
 */
export function deferredPass(log: Logger, call: 'read' | 'write', ms: number): Result {
  log.debug(
    { call, waitMs: ms },
    "the account's call budget would hold this pass; requeued for when it is ready",
  );
  return deferred(ms);
}

export class Accounts {
  readonly #options: AccountsOptions;
  readonly #byFingerprint = new Map<string, Account>();
  #stopped = false;

  constructor(options: AccountsOptions) {
    this.#options = options;
  }

  /** The account for this token, created (and its observation started) on first use. */
  for(token: string): Account {
    const fingerprint = createHash('sha256').update(token).digest('hex');
    let account = this.#byFingerprint.get(fingerprint);
    if (account === undefined) {
      const id = fingerprint.slice(0, 12);
      const provider = this.#options.providerFor(token, id);
      const observation = new ObservationCache(
        {
          listServers: (s, onFirstRequest, resume) => provider.listServers(s, onFirstRequest, resume),
          getServer: (sid, s) => provider.getServer(sid, s),
        },
        {
          ...this.#options.observation,
          onChange: (ids) => this.#options.onServersChanged(id, ids, named(ids)),
          onError: (err, what) => this.#options.onObservationError(id, err, what),
        },
      );
      const named = (ids: number[]): string[] => {
        const names = new Set<string>();
        for (const sid of ids) {
          const name = observation.get(sid)?.name;
          if (name !== undefined) names.add(name);
        }
        return [...names];
      };
      account = { id, provider, observation };
      this.#byFingerprint.set(fingerprint, account);
      if (!this.#stopped) observation.start();
    }
    return account;
  }

  get size(): number {
    return this.#byFingerprint.size;
  }

  *all(): Iterable<Account> {
    yield* this.#byFingerprint.values();
  }

  stop(): void {
    this.#stopped = true;
    for (const a of this.#byFingerprint.values()) a.observation.stop();
  }
}
