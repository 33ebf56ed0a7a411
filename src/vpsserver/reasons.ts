// Every condition reason the operator writes, what it means and what the user does about it, in
// one table. README's "Troubleshooting by condition reason" is rendered from it and a test keeps
// the two identical (test/unit/vpsserver-reasons.test.ts), and report() reads from it which
// reasons only a human can move on (Stalled=True), so a new reason is one row here: its kind
// decides the conditions, its row the documentation.

/** How a reason shows in the conditions (and so in kstatus: Current, InProgress or Failed). */
export type ReasonKind =
  /** Ready=True: the server is as the spec asks. kstatus Current. */
  | 'ready'
  /** Ready=False, Reconciling=True: the operator is working on it; wait. kstatus InProgress. */
  | 'progress'
  /** Synced=False (and, unless Ready, Reconciling=True): a failure retried with backoff. InProgress. */
  | 'retrying'
  /** Ready=False, Stalled=True: nothing changes until a human acts. kstatus Failed. */
  | 'stalled';

export interface ReasonRow {
  reasons: readonly string[];
  kind: ReasonKind;
  /** README's "condition / reason" prefix, e.g. `Stalled`, `Ready=False`. */
  condition: string;
  meaning: string;
  whatToDo: string;
}

/** The troubleshooting table, in README order. */
export const REASON_ROWS: readonly ReasonRow[] = [
  {
    reasons: ['Available', 'Stopped', 'Observed'],
    kind: 'ready',
    condition: 'Ready=True',
    meaning: 'the server matches the spec',
    whatToDo: 'nothing',
  },
  {
    reasons: [
      'Initializing',
      'Creating',
      'Adopting',
      'Provisioning',
      'Transitioning',
      'Updating',
      'Starting',
      'Stopping',
      'Rebooting',
      'Deleting',
      'Reconciling',
    ],
    kind: 'progress',
    condition: 'Ready=False',
    meaning: 'work in progress (Reconciling=True)',
    whatToDo: 'wait; provisioning takes 2–5 minutes at VPS.org',
  },
  {
    reasons: ['UnknownState'],
    kind: 'progress',
    condition: 'Ready=False',
    meaning: 'VPS.org reports a state the operator does not know (Reconciling=True)',
    whatToDo: 'it waits and looks again; report the state if it persists',
  },
  {
    reasons: ['ProviderRejected'],
    kind: 'stalled',
    condition: 'Stalled',
    meaning:
      'VPS.org answered 400; the message leads with the field, e.g. `fix spec.planId: VPS.org has no plan 99`',
    whatToDo: 'fix the field it names',
  },
  {
    reasons: ['InsufficientCredits'],
    kind: 'stalled',
    condition: 'Stalled',
    meaning: 'VPS.org answered 402',
    whatToDo: 'add credits, then change the spec (any field) to retry',
  },
  {
    reasons: ['Unauthorized'],
    kind: 'stalled',
    condition: 'Stalled',
    meaning: 'VPS.org refused the token (401/403)',
    whatToDo: 'fix the token in the Secret the message names; it is picked up within seconds',
  },
  {
    reasons: ['CredentialsNotFound', 'CredentialsInvalid'],
    kind: 'stalled',
    condition: 'Stalled',
    meaning: 'the Secret or its key is missing or empty, or the operator may not read it',
    whatToDo: 'create it, or fix `spec.credentialsSecretRef`',
  },
  {
    reasons: ['AdoptionMismatch'],
    kind: 'stalled',
    condition: 'Stalled',
    meaning: '`spec.serverId` names a server with another plan, OS or location',
    whatToDo: 'fix or unset those fields',
  },
  {
    reasons: ['ServerNotFound'],
    kind: 'stalled',
    condition: 'Stalled',
    meaning:
      '`spec.serverId` names no server of this account: VPS.org answered 404 to a GET of the id (or, ObserveOnly, the server is gone)',
    whatToDo:
      'fix the id or the credentials, or delete the resource; it adopts the server by itself once a list shows it (or within 5 minutes)',
  },
  {
    reasons: ['ServerClaimed'],
    kind: 'stalled',
    condition: 'Stalled',
    meaning:
      'another VpsServer, named in the message, manages this server (one owner per server, cluster-wide); nothing is written to it, and deleting this resource leaves it alone',
    whatToDo:
      'delete this resource, or hand the server over by deleting the owner with `deletionPolicy: Orphan` (waiting resources take over oldest first)',
  },
  {
    reasons: ['CredentialsNotAllowed'],
    kind: 'stalled',
    condition: 'Stalled',
    meaning: "this namespace may not use the operator's default credentials",
    whatToDo:
      'set `spec.credentialsSecretRef` to a Secret in this namespace, or an admin adds the namespace to `--default-credentials-namespaces`',
  },
  {
    reasons: ['AdoptionNotAllowed'],
    kind: 'stalled',
    condition: 'Stalled',
    meaning: 'this namespace may not adopt existing servers by `spec.serverId`',
    whatToDo:
      'remove `spec.serverId` to create a new server, or an admin adds the namespace to `--adoption-namespaces`',
  },
  {
    reasons: ['Recreating'],
    kind: 'progress',
    condition: 'Ready=False',
    meaning:
      'the managed server vanished at VPS.org (deleted outside Kubernetes): a Warning Event `ServerVanished` names it, `status.vanishedServerId` keeps its id, and a new, empty server is created',
    whatToDo:
      'restore your data from backups; to stop the re-creation, set annotation `vps.org/paused: "true"`',
  },
  {
    reasons: ['Suspended'],
    kind: 'stalled',
    condition: 'Stalled',
    meaning: 'VPS.org suspended the server; the operator does not fight it',
    whatToDo: 'contact VPS.org',
  },
  {
    reasons: ['Paused'],
    kind: 'stalled',
    condition: 'Stalled',
    meaning: 'annotation `vps.org/paused: "true"`: nothing is sent to VPS.org',
    whatToDo: 'remove it',
  },
  {
    reasons: ['ProviderUnavailable', 'RateLimited', 'InvalidResponse', 'NotFound'],
    kind: 'retrying',
    condition: 'Synced=False',
    meaning: 'a transient failure; retried with backoff (429 pauses every call for its Retry-After)',
    whatToDo: 'nothing, unless it persists',
  },
  {
    reasons: ['StaleObservation'],
    kind: 'retrying',
    condition: 'Synced=False',
    meaning:
      'VPS.org refused a start/stop for a state the operator had not seen yet (an earlier answer was lost); it lists again and replans',
    whatToDo: 'nothing',
  },
];

const KINDS = new Map<string, ReasonKind>(
  REASON_ROWS.flatMap((row) => row.reasons.map((r) => [r, row.kind])),
);

/** The kind of a reason; a reason missing from the table counts as work in progress. */
export const reasonKind = (reason: string): ReasonKind => KINDS.get(reason) ?? 'progress';

/** Whether the table knows this reason (report() writes no other; a test checks). */
export const isKnownReason = (reason: string): boolean => KINDS.has(reason);

/** README's troubleshooting table, as markdown. */
export function troubleshootingTable(): string {
  const lines = ['| condition / reason | meaning | what to do |', '|---|---|---|'];
  for (const row of REASON_ROWS) {
    const reasons = row.reasons.map((r) => `\`${r}\``).join(row.kind === 'ready' ? ' / ' : ', ');
    lines.push(`| ${row.condition} ${reasons} | ${row.meaning} | ${row.whatToDo} |`);
  }
  return lines.join('\n');
}
