// Reads API tokens from Secrets on demand, with a short cache. A watch on every Secret of the
// cluster would hold them all in memory and need list/watch on all Secrets; reading the few
// referenced ones with a TTL picks up a changed Secret within seconds at a handful of GETs.
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { kubeRequest, segment } from '../runtime/index.ts';
import { isForbidden, isNotFound } from './errors.ts';

/** Annotation on a credentials Secret giving its account a rate of its own, e.g. `30/s`. */
export const API_RATE_ANNOTATION = 'vps.org/api-rate';

export type SecretValue =
  | {
      ok: true;
      value: string /** the Secret's resourceVersion: changes when the token may have */;
      version: string;
      /** The Secret's API_RATE_ANNOTATION, unparsed, when it has one. */
      rate?: string;
    }
  | { ok: false; reason: 'CredentialsNotFound' | 'CredentialsInvalid'; message: string };

export interface SecretReaderOptions {
  /** How long a read Secret is reused before it is read again. Default 10 s. */
  ttlMs?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

export class SecretReader {
  readonly #kc: KubeConfig;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { at: number; value: Promise<SecretValue> }>();

  constructor(kc: KubeConfig, options: SecretReaderOptions = {}) {
    this.#kc = kc;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** The value of `key` in Secret `namespace/name`, or why it cannot be had (never the value in a message). */
  read(namespace: string, name: string, key: string): Promise<SecretValue> {
    const cacheKey = `${namespace}/${name}/${key}`;
    const hit = this.#cache.get(cacheKey);
    if (hit !== undefined && this.#now() - hit.at < this.#ttlMs) return hit.value;
    const value = this.#fetch(namespace, name, key);
    this.#cache.set(cacheKey, { at: this.#now(), value });
    return value;
  }

  /** Forget cached Secrets (e.g. after a 401 that suggests the token changed). */
  invalidate(): void {
    this.#cache.clear();
  }

  async #fetch(namespace: string, name: string, key: string): Promise<SecretValue> {
    const where = `Secret ${namespace}/${name}`;
    try {
      const secret = await kubeRequest<V1Secret>(this.#kc, {
        method: 'GET',
        path: `/api/v1/namespaces/${segment(namespace)}/secrets/${segment(name)}`,
      });
      const encoded = secret.data?.[key];
      if (encoded === undefined) {
        const keys = Object.keys(secret.data ?? {});
        return {
          ok: false,
          reason: 'CredentialsNotFound',
          message: `${where} has no key "${key}" (it has: ${keys.join(', ') || 'no keys'}); set spec.credentialsSecretRef.key`,
        };
      }
      const value = Buffer.from(encoded, 'base64').toString('utf8').trim();
      if (value === '')
        return {
          ok: false,
          reason: 'CredentialsInvalid',
          message: `${where} key "${key}" is empty; put the VPS.org API token there`,
        };
      const rate = secret.metadata?.annotations?.[API_RATE_ANNOTATION];
      return {
        ok: true,
        value,
        version: secret.metadata?.resourceVersion ?? '',
        ...(rate !== undefined && { rate }),
      };
    } catch (err) {
      this.#cache.delete(`${namespace}/${name}/${key}`);
      if (isNotFound(err))
        return {
          ok: false,
          reason: 'CredentialsNotFound',
          message: `${where} not found; create it with the VPS.org API token under key "${key}"`,
        };
      if (isForbidden(err))
        return {
          ok: false,
          reason: 'CredentialsNotFound',
          message: `the operator may not read ${where} (RBAC: secrets get)`,
        };
      throw err;
    }
  }
}
