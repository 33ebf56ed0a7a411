// The words of every Stalled and not-Ready message: "<what to fix and how>: <what happened>",
// so the first words a user reads (in `kubectl get vps -o wide`, or a Warning event) say which
// field or object to change, e.g. "fix spec.planId: VPS.org has no plan 99". Pure functions,
// one per kind of problem, table-tested over every reason in test/unit/vpsserver-messages.test.ts.
import { PAUSED_ANNOTATION } from './types.ts';

/** "<fix>: <detail>", the one shape of a message that asks a human to act. */
export const fixFirst = (fix: string, detail: string): string => `${fix}: ${detail}`;

/** The provider's request fields, as the spec fields a user writes. */
const SPEC_FIELD_OF: Record<string, string> = {
  name: 'spec.name',
  hostname: 'spec.hostname',
  plan_id: 'spec.planId',
  os_id: 'spec.osId',
  location: 'spec.location',
  ssh_key_id: 'spec.sshKeyId',
  backups_enabled: 'spec.backupsEnabled',
};

/** What a catalogue id names, for "VPS.org has no plan 99". */
const CATALOGUE_NOUN: Record<string, string> = { plan_id: 'plan', os_id: 'OS', ssh_key_id: 'SSH key' };

/** The provider's field message in the user's terms, where we know its shape (Django REST Framework's). */
function fieldProblem(field: string, message: string): string {
  const pk = /^Invalid pk "([^"]*)" - object does not exist\.?$/.exec(message);
  const noun = CATALOGUE_NOUN[field];
  if (pk !== null && noun !== undefined) return `VPS.org has no ${noun} ${pk[1]}`;
  const choice = /^"([^"]*)" is not a valid choice\.?$/.exec(message);
  if (choice !== null && field === 'location') return `VPS.org has no location "${choice[1]}"`;
  return `${SPEC_FIELD_OF[field] ?? field}: ${message}`;
}

/**
 * A 400's message: the spec fields to fix first, then what VPS.org said of each, then the full
 * answer. Without field errors the provider named no field, and the message says so.
 */
export function rejectedMessage(detail: string, fieldErrors?: Readonly<Record<string, readonly string[]>>) {
  const fields = Object.entries(fieldErrors ?? {}).filter(([f]) => SPEC_FIELD_OF[f] !== undefined);
  if (fields.length === 0) return fixFirst('fix the spec (VPS.org named no field)', detail);
  const names = fields.map(([f]) => SPEC_FIELD_OF[f] as string);
  const problems = fields.flatMap(([f, ms]) => ms.map((m) => fieldProblem(f, m)));
  return fixFirst(`fix ${names.join(' and ')}`, `${problems.join('; ')} (${detail})`);
}

/** Where the token came from, for "fix the API token in Secret shop/vps-token (key "token")". */
export const unauthorizedMessage = (detail: string, credentials = 'the credentials Secret'): string =>
  fixFirst(`fix the API token in ${credentials}`, `VPS.org refused it (${detail})`);

export const insufficientCreditsMessage = (detail: string): string =>
  fixFirst('add credits to the VPS.org account, then change any spec field to retry', detail);

/** Transient failures: the operator retries by itself, and the message says so first. */
export const retryingMessage = (detail: string, retryAfterMs?: number): string =>
  fixFirst(
    retryAfterMs !== undefined && retryAfterMs > 0
      ? `nothing to do, retrying after VPS.org's Retry-After of ${Math.ceil(retryAfterMs / 1000)}s`
      : 'nothing to do, retrying with backoff',
    detail,
  );

export const staleObservationMessage = (detail: string): string =>
  fixFirst('nothing to do, looking again', `${detail} (the operator's view of the server was out of date)`);

export const adoptionMismatchMessage = (serverId: number, fields: string[], diffs: string[]): string =>
  fixFirst(`fix or unset ${fields.join(', ')} to adopt server ${serverId}`, diffs.join('; '));

export const serverNotFoundMessage = (serverId: number): string =>
  fixFirst(
    'fix spec.serverId or the credentials',
    `server ${serverId} does not exist at VPS.org for these credentials`,
  );

export const observedServerGoneMessage = (serverId: number): string =>
  fixFirst(
    'delete this VpsServer or fix spec.serverId',
    `server ${serverId} no longer exists at VPS.org (ObserveOnly)`,
  );

export const suspendedMessage = (serverId: number): string =>
  fixFirst(
    'contact VPS.org support to lift the suspension',
    `VPS.org suspended server ${serverId}; the operator does not fight it`,
  );

export const pausedMessage = (what: string): string =>
  fixFirst(`remove annotation ${PAUSED_ANNOTATION} to resume`, what);

export const unknownStateMessage = (serverId: number, state: string, waitMs: number): string =>
  fixFirst(
    `nothing to do, looking again in ${Math.round(waitMs / 1000)}s; report state "${state}" to the operator's maintainers if it persists`,
    `server ${serverId} is in state "${state}", which the operator does not know`,
  );

/** Another VpsServer holds the claim on the server (one owner per server, docs/security.md). */
export const serverClaimedMessage = (serverId: number, holder: string, self: string): string =>
  fixFirst(
    `delete this VpsServer, or hand server ${serverId} over by deleting ${holder} with deletionPolicy Orphan`,
    `server ${serverId} is managed by ${holder}; ${self} makes no change to it, and deleting ${self} leaves the server alone`,
  );

/** The Normal Event of a deletion that left another owner's server alone. */
export const serverNotOwnedMessage = (serverId: number, holder: string): string =>
  `Server ${serverId} is managed by ${holder}: left untouched at VPS.org`;

/** The Warning Event of a managed server deleted outside Kubernetes. */
export const serverVanishedMessage = (serverId: number): string =>
  fixFirst(
    `restore from your backups if the data matters (set annotation ${PAUSED_ANNOTATION}=true to stop the re-creation)`,
    `server ${serverId} vanished at VPS.org (deleted outside Kubernetes; its data is gone); a new, empty server will be created, and status.vanishedServerId keeps the old id`,
  );

/** A namespace --default-credentials-namespaces does not allow; `policy` as the admin wrote it. */
export const credentialsNotAllowedMessage = (namespace: string, policy: string): string =>
  fixFirst(
    `set spec.credentialsSecretRef to a Secret in namespace ${namespace}, or ask an admin to add ${namespace} to --default-credentials-namespaces (or give it a label the selector matches)`,
    `namespace ${namespace} may not use the operator's default VPS.org credentials (--default-credentials-namespaces is "${policy}")`,
  );

/** A namespace --adoption-namespaces does not allow. */
export const adoptionNotAllowedMessage = (namespace: string, policy: string): string =>
  fixFirst(
    `remove spec.serverId to create a new server, or ask an admin to add ${namespace} to --adoption-namespaces (or give it a label the selector matches)`,
    `namespace ${namespace} may not adopt existing servers by spec.serverId (--adoption-namespaces is "${policy}")`,
  );

/** The Warning Event of servers that look like this resource's lost duplicates (leaks.ts). */
export const leakedServersMessage = (ids: readonly number[], serverName: string): string =>
  fixFirst(
    `delete ${ids.length === 1 ? 'it' : 'them'} at VPS.org if not needed (or run the operator with --leaked-servers=delete)`,
    `${ids.length === 1 ? 'server' : 'servers'} ${ids.join(', ')} at VPS.org ${ids.length === 1 ? 'has' : 'have'} this resource's name (${serverName}), location, plan and OS, ${ids.length === 1 ? 'was' : 'were'} made after it and ${ids.length === 1 ? 'is' : 'are'} owned by no VpsServer: most likely a duplicate create that lost track of its server, and billed; status.leakedServerIds lists them`,
  );

/** The Normal Event of a leaked server deleted by --leaked-servers=delete. */
export const leakedServerDeletedMessage = (id: number, graceMs: number): string =>
  `deleted server ${id} at VPS.org: it had this resource's name and shape, no owner, and was older than --leaked-server-grace (${Math.round(graceMs / 1000)}s)`;
