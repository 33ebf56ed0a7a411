// What the operator knows about servers at VPS.org, in the domain's own terms: the input of
// plan() next to the resource. Kept apart from the API client's models so the pure decision
// code depends on neither HTTP nor the observation cache that fills it.

/** States in which the provider is busy with the server: wait, never act. */
export const TRANSITIONAL_STATES: ReadonlySet<string> = new Set([
  'provisioning',
  'starting',
  'stopping',
  'rebooting',
]);

/** One server as last seen (list item, overlaid with answers to our own writes and detail reads). */
export interface ObservedServer {
  id: number;
  name: string;
  hostname: string | null;
  /** The provider's state, verbatim (may be one the docs do not name). */
  state: string;
  ipAddress: string | null;
  location: string;
  plan: { id: number; name: string; vcpus: number; memory: number; storage: number; bandwidth?: number };
  os: { id: number; name: string };
  /** Provider's created_at in ms since the epoch. */
  createdAt: number;
  /** Known only from a detail read or from the answer to a create/update. */
  backupsEnabled?: boolean;
  ipv6Address?: string | null;
  resourceUsage?: { cpuPercent: number; memoryUsed: number; diskUsed: number; bandwidthUsed: number };
  /** Set after our DELETE succeeded, until a list taken afterwards no longer shows the server. */
  deleteRequested?: boolean;
}

/** The credentials a resource uses, as resolved from its Secret or the operator default. */
export type CredentialsCheck =
  | {
      ok: true;
      /** Changes when the token changes (e.g. the Secret's resourceVersion). */
      version: string;
      /** Where the token came from, for messages: `Secret shop/vps-token (key "token")`. */
      source?: string;
    }
  | {
      ok: false;
      reason: 'CredentialsNotFound' | 'CredentialsInvalid' | 'CredentialsNotAllowed';
      message: string;
    };

/** The provider's view for one resource. */
export interface Observation {
  /** When the list snapshot in use was started (ms): every server created before then is in it. */
  snapshotAt: number;
  /** The server with the id this resource manages; undefined when the snapshot lacks it. */
  server?: ObservedServer;
  /**
   * Servers that may be the result of a create whose answer was lost: same name, location, plan
   * and OS. Only filled while a create-pending marker is set and no server id is known.
   */
  candidates: ObservedServer[];
}

/** What the operator remembers of the last terminal refusal, so it does not retry it. */
export interface StallMemory {
  generation: number;
  credentialsVersion: string;
  reason: string;
  message: string;
}
