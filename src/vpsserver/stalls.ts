// The terminal refusals this process remembers, by object uid, so a refusal only a human can
// fix (402, 401, a rejected spec) is not retried on every resync: it stays in force until the
// resource's generation or its credentials change, or the resource is being deleted.
import type { CredentialsCheck, StallMemory } from './observed.ts';
import type { VpsServer } from './types.ts';

export class Stalls {
  readonly #byUid = new Map<string, StallMemory>();

  /** The stall remembered for `vps`, if spec and credentials are still the ones refused. */
  inForce(vps: VpsServer, credentials: CredentialsCheck): StallMemory | undefined {
    const s = this.#byUid.get(vps.metadata.uid);
    if (s === undefined) return undefined;
    if (
      s.generation === vps.metadata.generation &&
      s.credentialsVersion === credentialsVersion(credentials) &&
      vps.metadata.deletionTimestamp === undefined
    )
      return s;
    this.#byUid.delete(vps.metadata.uid);
    return undefined;
  }

  remember(vps: VpsServer, credentials: CredentialsCheck, reason: string, message: string): void {
    this.#byUid.set(vps.metadata.uid, {
      generation: vps.metadata.generation,
      credentialsVersion: credentialsVersion(credentials),
      reason,
      message,
    });
  }

  forget(vps: VpsServer): void {
    this.#byUid.delete(vps.metadata.uid);
  }
}

const credentialsVersion = (c: CredentialsCheck): string => (c.ok ? c.version : '');
