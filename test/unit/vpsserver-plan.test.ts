// plan() as a table: one row per situation of docs/design.md's reconcile semantics, each naming the
// one action a pass must take.
import { describe, expect, it } from 'vitest';
import { formatCreatePending } from '../../src/vpsserver/markers.ts';
import type { CredentialsCheck, Observation, ObservedServer } from '../../src/vpsserver/observed.ts';
import {
  type Action,
  createCandidates,
  DEFAULT_TIMINGS,
  type PlanInput,
  plan,
} from '../../src/vpsserver/plan.ts';
import {
  CREATE_PENDING_ANNOTATION,
  FINALIZER,
  PAUSED_ANNOTATION,
  REBOOT_PENDING_ANNOTATION,
  type VpsServer,
  type VpsServerSpec,
} from '../../src/vpsserver/types.ts';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const W = DEFAULT_TIMINGS.transitionalWaitMs;

interface VpsOpts {
  spec?: Partial<VpsServerSpec>;
  status?: VpsServer['status'];
  annotations?: Record<string, string>;
  finalizers?: string[];
  deleting?: boolean;
}

function vps(o: VpsOpts = {}): VpsServer {
  return {
    apiVersion: 'vps.org/v1alpha1',
    kind: 'VpsServer',
    metadata: {
      name: 'web-01',
      namespace: 'shop',
      uid: 'uid-1',
      generation: 1,
      resourceVersion: '1',
      finalizers: o.finalizers ?? [FINALIZER],
      annotations: o.annotations ?? {},
      labels: {},
      ...(o.deleting && { deletionTimestamp: '2026-11-25T12:00:00Z' }),
    },
    spec: {
      planId: 1,
      osId: 5,
      location: 'us-west',
      backupsEnabled: false,
      powerState: 'Running',
      deletionPolicy: 'Delete',
      managementPolicy: 'Full',
      ...o.spec,
    },
    status: o.status ?? {},
  };
}

function server(o: Partial<ObservedServer> = {}): ObservedServer {
  return {
    id: 12345,
    name: 'web-01',
    hostname: null,
    state: 'active',
    ipAddress: '203.0.113.10',
    location: 'us-west',
    plan: { id: 1, name: 'Standard VPS', vcpus: 2, memory: 4096, storage: 80 },
    os: { id: 5, name: 'Ubuntu 22.04 LTS' },
    createdAt: NOW - 1000,
    ...o,
  };
}

const ok: CredentialsCheck = { ok: true, version: 'v1' };
const seen = (s?: ObservedServer, candidates: ObservedServer[] = [], snapshotAt = NOW): Observation => ({
  snapshotAt,
  server: s,
  candidates,
});
const none = (snapshotAt = NOW): Observation => seen(undefined, [], snapshotAt);
const owned = { serverId: 12345 };
const pending = (at = NOW - 1000) => ({
  [CREATE_PENDING_ANNOTATION]: formatCreatePending({ at, name: 'web-01' }),
});
const createReq = { name: 'web-01', planId: 1, osId: 5, location: 'us-west', backupsEnabled: false };

type Row = [
  string,
  Omit<PlanInput, 'credentials'> & { credentials?: CredentialsCheck },
  Action | { type: Action['type'] },
];

const rows: Row[] = [
  // finalizer and creation
  [
    'a new resource is created with the finalizer in the same write as the create-pending marker',
    { vps: vps({ finalizers: [] }), observed: none() },
    { type: 'Create', request: createReq, addFinalizer: true },
  ],
  [
    'a new resource whose next step is not a create first gets the finalizer',
    { vps: vps({ finalizers: [], spec: { serverId: 12345 } }), observed: seen(server()) },
    { type: 'AddFinalizer' },
  ],
  [
    'a new resource without credentials first gets the finalizer',
    {
      vps: vps({ finalizers: [] }),
      observed: none(),
      credentials: { ok: false, reason: 'CredentialsNotFound', message: 'Secret shop/vps-token not found' },
    },
    { type: 'AddFinalizer' },
  ],
  [
    'an ObserveOnly resource needs no finalizer',
    {
      vps: vps({ finalizers: [], spec: { managementPolicy: 'ObserveOnly', serverId: 12345 } }),
      observed: seen(server()),
    },
    { type: 'Adopt', serverId: 12345, reason: 'SpecServerId' },
  ],
  [
    'a resource with the finalizer and no server is created',
    { vps: vps(), observed: none() },
    { type: 'Create', request: createReq },
  ],
  [
    'spec.name overrides metadata.name at creation',
    { vps: vps({ spec: { name: 'api-1', hostname: 'a.example.com', sshKeyId: 7 } }), observed: none() },
    { type: 'Create', request: { ...createReq, name: 'api-1', hostname: 'a.example.com', sshKeyId: 7 } },
  ],
  // crash-safe create
  [
    'a pending create whose server is in the list is adopted',
    { vps: vps({ annotations: pending() }), observed: seen(undefined, [server({ id: 777 })]) },
    { type: 'Adopt', serverId: 777, reason: 'LostCreateResponse' },
  ],
  [
    'of several candidates the oldest is adopted',
    {
      vps: vps({ annotations: pending() }),
      observed: seen(undefined, [
        server({ id: 779, createdAt: NOW }),
        server({ id: 778, createdAt: NOW - 500 }),
      ]),
    },
    { type: 'Adopt', serverId: 778, reason: 'LostCreateResponse' },
  ],
  [
    'a pending create not yet provably absent waits',
    { vps: vps({ annotations: pending(NOW - 1000) }), observed: none(NOW) },
    { type: 'Wait' },
  ],
  [
    'a pending create proven absent by a later list creates again',
    { vps: vps({ annotations: pending(NOW - DEFAULT_TIMINGS.createProofMs - 1) }), observed: none(NOW) },
    { type: 'Create', request: createReq },
  ],
  // adoption
  [
    'spec.serverId adopts a matching server',
    { vps: vps({ spec: { serverId: 12345 } }), observed: seen(server()) },
    { type: 'Adopt', serverId: 12345, reason: 'SpecServerId' },
  ],
  [
    'spec.serverId with a different plan is stalled',
    { vps: vps({ spec: { serverId: 12345, planId: 2 } }), observed: seen(server()) },
    { type: 'Stalled' },
  ],
  [
    'spec.serverId that does not exist is stalled',
    { vps: vps({ spec: { serverId: 999 } }), observed: none() },
    { type: 'Stalled' },
  ],
  // waiting and reporting
  [
    'a provisioning server is waited for',
    { vps: vps({ status: owned }), observed: seen(server({ state: 'provisioning' })) },
    { type: 'Wait', ms: W, reason: 'Provisioning', message: 'Server 12345 is provisioning' },
  ],
  [
    'a rebooting server is waited for',
    { vps: vps({ status: owned }), observed: seen(server({ state: 'rebooting' })) },
    { type: 'Wait' },
  ],
  [
    'a suspended server is reported, not fought',
    { vps: vps({ status: owned }), observed: seen(server({ state: 'suspended' })) },
    { type: 'Nothing' },
  ],
  [
    'an unknown state is waited out, not acted on',
    { vps: vps({ status: owned }), observed: seen(server({ state: 'migrating' })) },
    { type: 'Wait' },
  ],
  [
    'a server as the spec asks needs nothing',
    { vps: vps({ status: owned }), observed: seen(server()) },
    { type: 'Nothing', reason: 'Available', message: 'Server 12345 (web-01) is active, as the spec asks' },
  ],
  // updates and drift
  [
    'a renamed spec updates only the name',
    { vps: vps({ status: owned, spec: { name: 'web-02' } }), observed: seen(server()) },
    { type: 'Update', serverId: 12345, changes: { name: 'web-02' } },
  ],
  [
    'an out-of-band hostname change is put back',
    {
      vps: vps({ status: owned, spec: { hostname: 'a.example.com' } }),
      observed: seen(server({ hostname: 'b.example.com' })),
    },
    { type: 'Update', serverId: 12345, changes: { hostname: 'a.example.com' } },
  ],
  [
    'an out-of-band backups change is put back',
    { vps: vps({ status: owned }), observed: seen(server({ backupsEnabled: true })) },
    { type: 'Update', serverId: 12345, changes: { backupsEnabled: false } },
  ],
  [
    'an unset hostname leaves the provider value alone',
    { vps: vps({ status: owned }), observed: seen(server({ hostname: 'x.example.com' })) },
    { type: 'Nothing' },
  ],
  // power
  [
    'a stopped server that should run is started',
    { vps: vps({ status: owned }), observed: seen(server({ state: 'stopped' })) },
    { type: 'Start', serverId: 12345 },
  ],
  [
    'a running server that should stop is stopped',
    { vps: vps({ status: owned, spec: { powerState: 'Stopped' } }), observed: seen(server()) },
    { type: 'Stop', serverId: 12345 },
  ],
  [
    'a stopped server that should stay stopped needs nothing',
    {
      vps: vps({ status: owned, spec: { powerState: 'Stopped' } }),
      observed: seen(server({ state: 'stopped' })),
    },
    { type: 'Nothing', reason: 'Stopped', message: 'Server 12345 (web-01) is stopped, as the spec asks' },
  ],
  [
    'updates come before power changes',
    { vps: vps({ status: owned, spec: { name: 'x' } }), observed: seen(server({ state: 'stopped' })) },
    { type: 'Update', serverId: 12345, changes: { name: 'x' } },
  ],
  // reboot
  [
    'a new rebootRequestedAt reboots once',
    { vps: vps({ status: owned, spec: { rebootRequestedAt: 't1' } }), observed: seen(server()) },
    { type: 'Reboot', serverId: 12345, requestedAt: 't1' },
  ],
  [
    'a rebootRequestedAt already acted on does nothing',
    {
      vps: vps({ status: { ...owned, lastRebootRequestedAt: 't1' }, spec: { rebootRequestedAt: 't1' } }),
      observed: seen(server()),
    },
    { type: 'Nothing' },
  ],
  [
    'a reboot whose answer was lost is not sent again',
    {
      vps: vps({
        status: owned,
        spec: { rebootRequestedAt: 't1' },
        annotations: { [REBOOT_PENDING_ANNOTATION]: 't1' },
      }),
      observed: seen(server()),
    },
    { type: 'RecordReboot', requestedAt: 't1', outcome: 'Unknown' },
  ],
  [
    'a reboot asked of a server that should be stopped is skipped',
    {
      vps: vps({ status: owned, spec: { rebootRequestedAt: 't1', powerState: 'Stopped' } }),
      observed: seen(server({ state: 'stopped' })),
    },
    { type: 'RecordReboot', requestedAt: 't1', outcome: 'Skipped' },
  ],
  // out-of-band deletion
  [
    'a server deleted out of band is forgotten so it is recreated',
    { vps: vps({ status: owned }), observed: none() },
    { type: 'ForgetServer', serverId: 12345 },
  ],
  // policies
  [
    'ObserveOnly never writes, even when drifted',
    {
      vps: vps({
        status: owned,
        spec: { managementPolicy: 'ObserveOnly', serverId: 12345, powerState: 'Stopped', name: 'zzz' },
      }),
      observed: seen(server()),
    },
    { type: 'Nothing', reason: 'Observed', message: 'Server 12345 (zzz) is observed (ObserveOnly)' },
  ],
  [
    'a paused resource sends nothing',
    {
      vps: vps({ status: owned, spec: { name: 'web-02' }, annotations: { [PAUSED_ANNOTATION]: 'true' } }),
      observed: seen(server()),
    },
    {
      type: 'Nothing',
      reason: 'Paused',
      message:
        'remove annotation vps.org/paused to resume: no changes are sent to VPS.org while it is "true"',
    },
  ],
  [
    'a paused resource is not created',
    { vps: vps({ annotations: { [PAUSED_ANNOTATION]: 'true' } }), observed: none() },
    { type: 'Nothing' },
  ],
  // credentials and stalls
  [
    'missing credentials stall',
    {
      vps: vps({ status: owned }),
      observed: seen(server()),
      credentials: { ok: false, reason: 'CredentialsNotFound', message: 'Secret shop/vps-token not found' },
    },
    { type: 'Stalled', reason: 'CredentialsNotFound', message: 'Secret shop/vps-token not found' },
  ],
  [
    'a remembered refusal is not retried',
    {
      vps: vps(),
      observed: none(),
      stall: {
        generation: 1,
        credentialsVersion: 'v1',
        reason: 'InsufficientCredits',
        message: 'no credits',
      },
    },
    { type: 'Stalled', reason: 'InsufficientCredits', message: 'no credits' },
  ],
  // in flight when the old leader lost its lease (issue 16): what the next leader's plan sees
  [
    'a reboot an old leader marked but maybe never sent is recorded as unknown, never sent by the next leader',
    {
      vps: vps({
        status: owned,
        spec: { rebootRequestedAt: 't2' },
        annotations: { [REBOOT_PENDING_ANNOTATION]: 't2' },
      }),
      observed: seen(server({ state: 'active' })),
    },
    { type: 'RecordReboot', requestedAt: 't2', outcome: 'Unknown' },
  ],
  [
    'a start an old leader sent shows as a starting server, waited on and not sent again',
    { vps: vps({ status: owned }), observed: seen(server({ state: 'starting' })) },
    { type: 'Wait' },
  ],
  [
    'a stop an old leader sent shows as a stopping server, waited on and not sent again',
    {
      vps: vps({ status: owned, spec: { powerState: 'Stopped' } }),
      observed: seen(server({ state: 'stopping' })),
    },
    { type: 'Wait' },
  ],
  [
    'a start an old leader sent that took effect needs nothing more',
    { vps: vps({ status: owned }), observed: seen(server({ state: 'active' })) },
    { type: 'Nothing' },
  ],
  [
    'a delete an old leader sent shows as a server being deleted, waited on and not sent again',
    { vps: vps({ deleting: true, status: owned }), observed: seen(server({ deleteRequested: true })) },
    { type: 'Wait', ms: W, reason: 'Deleting', message: 'Server 12345 is being deleted' },
  ],
  [
    'a delete an old leader sent that took effect lets the finalizer go',
    { vps: vps({ deleting: true, status: owned }), observed: none() },
    { type: 'RemoveFinalizer', reason: 'Deleted' },
  ],
  // deletion
  [
    'deleting with policy Delete deletes the server',
    { vps: vps({ deleting: true, status: owned }), observed: seen(server()) },
    { type: 'Delete', serverId: 12345 },
  ],
  [
    'deleting waits while the delete is in progress',
    { vps: vps({ deleting: true, status: owned }), observed: seen(server({ deleteRequested: true })) },
    { type: 'Wait' },
  ],
  [
    'deleting drops the finalizer once the server is gone',
    { vps: vps({ deleting: true, status: owned }), observed: none() },
    { type: 'RemoveFinalizer', reason: 'Deleted' },
  ],
  [
    'deleting with policy Orphan only drops the finalizer',
    {
      vps: vps({ deleting: true, status: owned, spec: { deletionPolicy: 'Orphan' } }),
      observed: seen(server()),
    },
    { type: 'RemoveFinalizer', reason: 'Orphaned' },
  ],
  [
    'deleting a resource that never created drops the finalizer at once',
    { vps: vps({ deleting: true }), observed: none() },
    { type: 'RemoveFinalizer', reason: 'NeverCreated' },
  ],
  [
    'deleting a resource whose spec.serverId was never adopted leaves the server alone',
    { vps: vps({ deleting: true, spec: { serverId: 12345 } }), observed: seen(server()) },
    { type: 'RemoveFinalizer', reason: 'NeverAdopted' },
  ],
  [
    'deleting after a lost create deletes what it made',
    {
      vps: vps({ deleting: true, annotations: pending() }),
      observed: seen(undefined, [server({ id: 555 })]),
    },
    { type: 'Delete', serverId: 555 },
  ],
  [
    'deleting after a lost create waits until absence is proven',
    { vps: vps({ deleting: true, annotations: pending() }), observed: none() },
    { type: 'Wait' },
  ],
  [
    'deleting waits for a transitional server',
    { vps: vps({ deleting: true, status: owned }), observed: seen(server({ state: 'provisioning' })) },
    { type: 'Wait' },
  ],
  [
    'a paused resource is not deleted at the provider',
    {
      vps: vps({ deleting: true, status: owned, annotations: { [PAUSED_ANNOTATION]: 'true' } }),
      observed: seen(server()),
    },
    { type: 'Nothing' },
  ],
  [
    'a deleted resource without the finalizer needs nothing',
    { vps: vps({ deleting: true, finalizers: [] }), observed: none() },
    { type: 'Nothing' },
  ],
];

describe('plan', () => {
  it.each(rows)('%s', (_, input, want) => {
    const got = plan({ credentials: ok, ...input });
    if (Object.keys(want).length === 1) expect(got.type).toBe(want.type);
    else expect(got).toEqual(want);
  });

  it('covers every action type', () => {
    const all: Action['type'][] = [
      'AddFinalizer',
      'RemoveFinalizer',
      'Create',
      'Adopt',
      'Update',
      'Start',
      'Stop',
      'Reboot',
      'RecordReboot',
      'Delete',
      'ForgetServer',
      'Wait',
      'Nothing',
      'Stalled',
    ];
    const seenTypes = new Set(rows.map(([, input]) => plan({ credentials: ok, ...input }).type));
    expect([...seenTypes].sort()).toEqual([...all].sort());
  });
});

describe('createCandidates', () => {
  const res = vps({ annotations: pending(NOW) });
  it('matches a server of the same name, location, plan and OS created after the marker', () => {
    expect(createCandidates(res, [server({ createdAt: NOW + 10 })]).map((s) => s.id)).toEqual([12345]);
  });
  it('ignores a server created long before the marker', () => {
    expect(createCandidates(res, [server({ createdAt: NOW - DEFAULT_TIMINGS.clockSkewMs - 1 })])).toEqual([]);
  });
  it('ignores a server with another plan', () => {
    expect(
      createCandidates(res, [server({ plan: { id: 2, name: 'P', vcpus: 4, memory: 1, storage: 1 } })]),
    ).toEqual([]);
  });
  it('finds nothing when the resource already knows its server', () => {
    expect(createCandidates(vps({ annotations: pending(NOW), status: owned }), [server()])).toEqual([]);
  });
});
