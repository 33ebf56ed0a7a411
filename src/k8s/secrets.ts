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
  | {
      ok: false;
      reason: 'CredentialsNotFound' | 'CredentialsInvalid';
      message: string;
      problem: SecretProblem;
    };

/** Why a Secret's key cannot be used, in terms a message can be built from. */
export interface SecretProblem {
  kind: 'missing' | 'noKey' | 'empty' | 'forbidden';
  namespace: string;
  name: string;
  key: string;
  /** The keys the Secret has (noKey). */
  keys?: string[];
}

/**
 * The message for a Secret problem, fix first; `via` names what points at the Secret
 * (`spec.credentialsSecretRef`, or the operator's `--default-credentials-secret`).
 */
export function secretProblemMessage(p: SecretProblem, via = 'spec.credentialsSecretRef'): string {
  const where = `Secret ${p.namespace}/${p.name}`;
  switch (p.kind) {
    case 'missing':
      return `create ${where} with the VPS.org API token under key "${p.key}", or fix ${via}: ${where} not found`;
    case 'noKey': {
      const keys = p.keys ?? [];
      const fixKey = via === 'spec.credentialsSecretRef' ? 'spec.credentialsSecretRef.key' : via;
      const fix =
        keys.length > 0
          ? `add key "${p.key}" to ${where}, or set ${fixKey} to one of its keys`
          : `add key "${p.key}" with the VPS.org API token to ${where}`;
      return `${fix}: ${where} has no key "${p.key}" (it has: ${keys.join(', ') || 'no keys'})`;
    }
    case 'empty':
      return `put the VPS.org API token in key "${p.key}" of ${where}: ${where} key "${p.key}" is empty`;
    case 'forbidden':
      return `grant the operator's ServiceAccount get on ${where} (RBAC, secrets get): the operator may not read ${where}`;
  }
}

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
    const fail = (
      reason: 'CredentialsNotFound' | 'CredentialsInvalid',
      problem: Omit<SecretProblem, 'namespace' | 'name' | 'key'>,
    ): SecretValue => {
      const full = { namespace, name, key, ...problem };
      return { ok: false, reason, problem: full, message: secretProblemMessage(full) };
    };
    try {
      const secret = await kubeRequest<V1Secret>(this.#kc, {
        method: 'GET',
        path: `/api/v1/namespaces/${segment(namespace)}/secrets/${segment(name)}`,
      });
      const encoded = secret.data?.[key];
      if (encoded === undefined)
        return fail('CredentialsNotFound', { kind: 'noKey', keys: Object.keys(secret.data ?? {}) });
      const value = Buffer.from(encoded, 'base64').toString('utf8').trim();
      if (value === '') return fail('CredentialsInvalid', { kind: 'empty' });
      const rate = secret.metadata?.annotations?.[API_RATE_ANNOTATION];
      return {
        ok: true,
        value,
        version: secret.metadata?.resourceVersion ?? '',
        ...(rate !== undefined && { rate }),
      };
    } catch (err) {
      this.#cache.delete(`${namespace}/${name}/${key}`);
      if (isNotFound(err)) return fail('CredentialsNotFound', { kind: 'missing' });
      if (isForbidden(err)) return fail('CredentialsNotFound', { kind: 'forbidden' });
      throw err;
    }
  }
}
