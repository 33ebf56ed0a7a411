// Each verb of act() against an in-memory provider port (our own ServerProvider interface, not
// a Kubernetes fake): what it asks VPS.org, what it writes to the resource, which event it
// records, and how the pass is told it ended.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { VpsApiError } from '../../src/vpsorg/index.ts';
import type { Account } from '../../src/vpsserver/accounts.ts';
import { type ActDeps, act } from '../../src/vpsserver/act.ts';
import { formatCreatePending } from '../../src/vpsserver/markers.ts';
import { ObservationCache } from '../../src/vpsserver/observation-cache.ts';
import type { Action } from '../../src/vpsserver/plan.ts';
import type { ServerProvider } from '../../src/vpsserver/provider.ts';
import {
  CREATE_PENDING_ANNOTATION,
  FINALIZER,
  REBOOT_PENDING_ANNOTATION,
} from '../../src/vpsserver/types.ts';
import { NOW, recordingWriter, server, vps } from '../fixtures/vps-server.ts';

const signal = new AbortController().signal;
const request = { name: 'web-01', planId: 1, osId: 5, location: 'us-west', backupsEnabled: false };

/** A provider port that records calls and answers from `answers` (or fails with `fail`). */
function world(fail?: unknown) {
  const calls: string[] = [];
  const answer = async <T>(call: string, value: T): Promise<T> => {
    calls.push(call);
    if (fail !== undefined) throw fail;
    return value;
  };
  const provider: ServerProvider = {
    listServers: async () => [],
    getServer: async () => undefined,
    createServer: (r) => answer(`create ${r.name}`, server({ id: 7, state: 'provisioning' })),
    updateServer: (id, changes) => answer(`update ${id} ${JSON.stringify(changes)}`, { id }),
    powerAction: (id, verb) => answer(`${verb} ${id}`, { id, state: `${verb}ing` }),
    deleteServer: (id) => answer(`delete ${id}`, undefined),
    longWait: () => undefined,
  };
  const observation = new ObservationCache({ listServers: async () => [], getServer: async () => undefined });
  const account: Account = { id: 'acct', provider, observation };
  const writer = recordingWriter();
  const events: string[] = [];
  const deps: ActDeps = {
    writer,
    event: (_vps, type, reason) => void events.push(`${type} ${reason}`),
    logger: pino({ level: 'silent' }),
    now: () => NOW,
  };
  const run = (action: Action, resource = vps()) => act(deps, resource, action, account, signal);
  return { calls, writer, events, observation, run };
}

const refused = (status: number) =>
  new VpsApiError({
    kind: 'terminal',
    status,
    endpoint: 'create',
    method: 'POST',
    reason: `${status} refused`,
  });

describe('act', () => {
  it('adds the finalizer and nothing else', async () => {
    const w = world();
    const r = await w.run({ type: 'AddFinalizer' }, vps({ finalizers: [] }));
    expect([w.writer.changes, w.calls, r.vps.metadata.finalizers]).toEqual([
      [{ finalizers: [FINALIZER] }],
      [],
      [FINALIZER],
    ]);
  });

  it('removes the finalizer and says the server is left behind when orphaned', async () => {
    const w = world();
    await w.run({ type: 'RemoveFinalizer', reason: 'Orphaned' }, vps({ status: { serverId: 7 } }));
    expect([w.writer.changes, w.events]).toEqual([[{ finalizers: [] }], ['Normal ServerOrphaned']]);
  });

  it('creates after writing the create-pending marker, and reports the new server id', async () => {
    const w = world();
    const r = await w.run({ type: 'Create', request });
    expect(w.writer.changes).toEqual([
      { annotations: { [CREATE_PENDING_ANNOTATION]: formatCreatePending({ at: NOW, name: 'web-01' }) } },
    ]);
    expect([w.calls, w.events, r.outcome, r.statusPatch]).toEqual([
      ['create web-01'],
      ['Normal ServerCreated'],
      { ok: true },
      { serverId: 7 },
    ]);
    expect(w.observation.get(7)?.state).toBe('provisioning');
  });

  it('writes the finalizer with the create-pending marker, in one write before the call, when the resource has none', async () => {
    const w = world();
    await w.run({ type: 'Create', request, addFinalizer: true }, vps({ finalizers: [] }));
    expect([w.writer.changes, w.calls]).toEqual([
      [
        {
          annotations: { [CREATE_PENDING_ANNOTATION]: formatCreatePending({ at: NOW, name: 'web-01' }) },
          finalizers: [FINALIZER],
        },
      ],
      ['create web-01'],
    ]);
  });

  it('clears the create-pending marker when VPS.org refused the create', async () => {
    const w = world(refused(402));
    const r = await w.run({ type: 'Create', request });
    expect(w.writer.changes.at(-1)).toEqual({ annotations: { [CREATE_PENDING_ANNOTATION]: null } });
    // The Warning is the reconcile's, once per stall (warnings.ts), not act's on every refusal.
    expect([r.outcome.ok, r.failure?.reason, w.events]).toEqual([false, 'InsufficientCredits', []]);
  });

  it('keeps the create-pending marker when the create answer was lost', async () => {
    const w = world(new Error('socket hang up'));
    const r = await w.run({ type: 'Create', request });
    expect([
      w.writer.changes.length,
      r.vps.metadata.annotations[CREATE_PENDING_ANNOTATION] !== undefined,
    ]).toEqual([1, true]);
    expect(r.failure).toMatchObject({ terminal: false, reason: 'ProviderUnavailable' });
  });

  it('adopts without calling VPS.org, carrying an earlier reboot value as history', async () => {
    const w = world();
    const r = await w.run(
      { type: 'Adopt', serverId: 7, reason: 'SpecServerId' },
      vps({ spec: { rebootRequestedAt: 't0' } }),
    );
    expect([w.calls, w.events, r.statusPatch]).toEqual([
      [],
      ['Normal ServerAdopted'],
      { serverId: 7, lastRebootRequestedAt: 't0' },
    ]);
  });

  it('updates only the drifted fields', async () => {
    const w = world();
    await w.run({ type: 'Update', serverId: 7, changes: { name: 'web-02' } });
    expect([w.calls, w.events, w.observation.get(7)?.name]).toEqual([
      ['update 7 {"name":"web-02"}'],
      ['Normal ServerUpdated'],
      'web-02',
    ]);
  });

  it.each([
    ['Start', 'start', 'ServerStarting'],
    ['Stop', 'stop', 'ServerStopping'],
  ] as const)('%s asks VPS.org to %s the server', async (type, verb, reason) => {
    const w = world();
    await w.run({ type, serverId: 7 });
    expect([w.calls, w.events]).toEqual([[`${verb} 7`], [`Normal ${reason}`]]);
  });

  it('turns a power action refused for the current state into a retry from a fresh look', async () => {
    const w = world(refused(400));
    const r = await w.run({ type: 'Stop', serverId: 7 });
    expect(r.failure).toMatchObject({ terminal: false, reason: 'StaleObservation' });
  });

  it('reboots after writing the reboot-pending marker, and records the value', async () => {
    const w = world();
    const r = await w.run({ type: 'Reboot', serverId: 7, requestedAt: 't1' });
    expect([w.writer.changes, w.calls, r.statusPatch]).toEqual([
      [{ annotations: { [REBOOT_PENDING_ANNOTATION]: 't1' } }],
      ['reboot 7'],
      { lastRebootRequestedAt: 't1' },
    ]);
  });

  it('records a reboot whose answer was lost without sending it again', async () => {
    const w = world();
    const r = await w.run({ type: 'RecordReboot', requestedAt: 't1', outcome: 'Unknown' });
    expect([w.calls, w.events, r.statusPatch]).toEqual([
      [],
      ['Warning RebootOutcomeUnknown'],
      { lastRebootRequestedAt: 't1' },
    ]);
  });

  it('deletes the server and marks it deleting in the observation', async () => {
    const w = world();
    w.observation.upsert(server({ id: 7 }));
    await w.run({ type: 'Delete', serverId: 7 });
    expect([w.calls, w.events, w.observation.get(7)?.deleteRequested]).toEqual([
      ['delete 7'],
      ['Normal ServerDeleted'],
      true,
    ]);
  });

  it('reports a failed delete for a retry', async () => {
    const w = world(new Error('timeout'));
    const r = await w.run({ type: 'Delete', serverId: 7 });
    expect([r.outcome.ok, r.failure?.terminal, w.events]).toEqual([false, false, []]);
  });

  it('forgets a server deleted outside Kubernetes with a Warning', async () => {
    const w = world();
    await w.run({ type: 'ForgetServer', serverId: 7 });
    expect([w.calls, w.events]).toEqual([[], ['Warning ServerVanished']]);
  });

  it.each<Action>([
    { type: 'Wait', ms: 1000, reason: 'Provisioning', message: '' },
    { type: 'Nothing', reason: 'Available', message: '' },
  ])('does nothing for $type', async (action) => {
    const w = world();
    const r = await w.run(action);
    expect([w.calls, w.writer.changes, w.events, r.outcome]).toEqual([[], [], [], { ok: true }]);
  });

  it('says which action needed credentials when there is no account', async () => {
    const w = world();
    const deps = { writer: w.writer, event: () => {}, logger: pino({ level: 'silent' }), now: () => NOW };
    await expect(act(deps, vps(), { type: 'Delete', serverId: 7 }, undefined, signal)).rejects.toThrow(
      'action Delete needs credentials',
    );
  });
});
