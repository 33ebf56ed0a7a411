// report()'s conditions as a table: for each way a pass can end (a write that succeeded, failed
// for a while, was refused or throttled; a pass that made no call), the Ready and Synced a user
// reads, and whether kstatus (Flux's wait) and `kubectl wait --for=condition=Ready` agree.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../src/vpsserver/plan.ts';
import { type ActOutcome, type ProviderCall, report } from '../../src/vpsserver/status.ts';
import { FINALIZER, type VpsServer, type VpsServerStatus } from '../../src/vpsserver/types.ts';
import { kstatus, toolsAgree } from '../support/kstatus.ts';

const NOW = '2026-12-02T17:00:00.000Z';
const EARLIER = '2026-12-02T16:00:00.000Z';

function vps(status: VpsServerStatus = {}, generation = 1): VpsServer {
  return {
    apiVersion: 'vps.org/v1alpha1',
    kind: 'VpsServer',
    metadata: {
      name: 'web-01',
      namespace: 'shop',
      uid: 'uid-1',
      generation,
      resourceVersion: '1',
      finalizers: [FINALIZER],
      annotations: {},
      labels: {},
    },
    spec: {
      planId: 1,
      osId: 5,
      location: 'us-west',
      backupsEnabled: false,
      powerState: 'Running',
      deletionPolicy: 'Delete',
      managementPolicy: 'Full',
    },
    status,
  };
}

const OK: ActOutcome = { ok: true };
const transient = (reason: string, message: string): ActOutcome => ({
  ok: false,
  terminal: false,
  reason,
  message,
});
const refused = (reason: string, message: string): ActOutcome => ({
  ok: false,
  terminal: true,
  reason,
  message,
});
const create: Action = {
  type: 'Create',
  request: { name: 'web-01', planId: 1, osId: 5, location: 'us-west', backupsEnabled: false },
};
const available: Action = { type: 'Nothing', reason: 'Available', message: 'Server 7 (web-01) is active' };
const previouslyRefused: VpsServerStatus = {
  observedGeneration: 1,
  conditions: [
    {
      type: 'Synced',
      status: 'False',
      reason: 'ProviderRejected',
      message: 'fix spec.planId: VPS.org has no plan 99',
      lastTransitionTime: EARLIER,
    },
  ],
};

type Row = [
  string,
  { action: Action; outcome: ActOutcome; call?: ProviderCall; status?: VpsServerStatus },
  { ready: string; synced: string; kstatus: string },
];

// ready / synced as "Status Reason".
const rows: Row[] = [
  [
    'a create that succeeded: not Ready yet, Synced',
    { action: create, outcome: OK },
    { ready: 'False Creating', synced: 'True ReconcileSuccess', kstatus: 'InProgress' },
  ],
  [
    'a server at rest: Ready and Synced by the list that observed it',
    { action: available, outcome: OK },
    { ready: 'True Available', synced: 'True ReconcileSuccess', kstatus: 'Current' },
  ],
  [
    'a create that failed for a while (503): retried, both say why',
    {
      action: create,
      outcome: transient('ProviderUnavailable', 'nothing to do, retrying with backoff: 503'),
    },
    { ready: 'False ProviderUnavailable', synced: 'False ProviderUnavailable', kstatus: 'InProgress' },
  ],
  [
    'a throttled create (429): retried after Retry-After, both say so',
    {
      action: create,
      outcome: transient('RateLimited', "nothing to do, retrying after VPS.org's Retry-After"),
    },
    { ready: 'False RateLimited', synced: 'False RateLimited', kstatus: 'InProgress' },
  ],
  [
    'a refused create (400): Stalled, and Synced is False with the refusal',
    { action: create, outcome: refused('ProviderRejected', 'fix spec.planId: VPS.org has no plan 99') },
    { ready: 'False ProviderRejected', synced: 'False ProviderRejected', kstatus: 'Failed' },
  ],
  [
    'a remembered refusal makes no call: Synced still says what the last call did',
    {
      action: {
        type: 'Stalled',
        reason: 'ProviderRejected',
        message: 'fix spec.planId: VPS.org has no plan 99',
      },
      outcome: OK,
      call: 'none',
      status: previouslyRefused,
    },
    { ready: 'False ProviderRejected', synced: 'False ProviderRejected', kstatus: 'Failed' },
  ],
  [
    'missing credentials before any call: Synced is Unknown',
    {
      action: { type: 'Stalled', reason: 'CredentialsNotFound', message: 'create Secret shop/x: not found' },
      outcome: OK,
      call: 'none',
    },
    { ready: 'False CredentialsNotFound', synced: 'Unknown NoCallYet', kstatus: 'Failed' },
  ],
  [
    'a spec-level stall found by observing (AdoptionMismatch): Synced by the list',
    {
      action: {
        type: 'Stalled',
        reason: 'AdoptionMismatch',
        message: 'fix or unset spec.planId to adopt server 7: …',
      },
      outcome: OK,
      call: 'observed',
    },
    { ready: 'False AdoptionMismatch', synced: 'True ReconcileSuccess', kstatus: 'Failed' },
  ],
  [
    'a suspended server is Stalled: only VPS.org support can move it on',
    { action: { type: 'Nothing', reason: 'Suspended', message: 'contact VPS.org support: …' }, outcome: OK },
    { ready: 'False Suspended', synced: 'True ReconcileSuccess', kstatus: 'Failed' },
  ],
  [
    'a paused resource is Stalled until the annotation goes',
    {
      action: { type: 'Nothing', reason: 'Paused', message: 'remove annotation vps.org/paused: …' },
      outcome: OK,
    },
    { ready: 'False Paused', synced: 'True ReconcileSuccess', kstatus: 'Failed' },
  ],
  [
    'a provisioning server is waited for',
    {
      action: { type: 'Wait', ms: 5000, reason: 'Provisioning', message: 'Server 7 is provisioning' },
      outcome: OK,
    },
    { ready: 'False Provisioning', synced: 'True ReconcileSuccess', kstatus: 'InProgress' },
  ],
  [
    'a server in an unknown state is waited out',
    { action: { type: 'Wait', ms: 30000, reason: 'UnknownState', message: 'nothing to do: …' }, outcome: OK },
    { ready: 'False UnknownState', synced: 'True ReconcileSuccess', kstatus: 'InProgress' },
  ],
  [
    'a refused token while listing (401): Stalled, Synced False',
    {
      action: { type: 'Stalled', reason: 'Unauthorized', message: 'fix the API token in Secret shop/t: …' },
      outcome: refused('Unauthorized', 'fix the API token in Secret shop/t: …'),
    },
    { ready: 'False Unauthorized', synced: 'False Unauthorized', kstatus: 'Failed' },
  ],
];

const pair = (s: VpsServerStatus, type: string) => {
  const c = s.conditions?.find((x) => x.type === type);
  return `${c?.status} ${c?.reason}`;
};

describe('report', () => {
  it.each(rows)('%s', (_, input, want) => {
    const before = vps(input.status);
    const status = report({ vps: before, server: undefined, now: NOW, ...input });
    const after = { ...before, status };
    expect({
      ready: pair(status, 'Ready'),
      synced: pair(status, 'Synced'),
      kstatus: kstatus(after).status,
    }).toEqual(want);
    expect(toolsAgree(after)).toBe(true);
  });

  it('keeps a remembered Synced with its transition time: no new call, nothing new to say', () => {
    const [, input] = rows[5] as Row;
    const status = report({ vps: vps(input.status), server: undefined, now: NOW, ...input });
    expect(status.conditions?.find((c) => c.type === 'Synced')?.lastTransitionTime).toBe(EARLIER);
  });

  it('names the call whose success Synced reports', () => {
    const status = report({ vps: vps(), action: create, outcome: OK, server: undefined, now: NOW });
    expect(status.conditions?.find((c) => c.type === 'Synced')?.message).toBe(
      'The last call to VPS.org (create server) succeeded',
    );
  });

  it('never leaves Ready=False without Reconciling or Stalled, nor Ready=True with either', () => {
    for (const [, input] of rows) {
      const status = report({ vps: vps(input.status), server: undefined, now: NOW, ...input });
      const is = (t: string) => status.conditions?.find((c) => c.type === t)?.status === 'True';
      expect(is('Ready') ? !is('Reconciling') && !is('Stalled') : is('Reconciling') !== is('Stalled')).toBe(
        true,
      );
    }
  });

  it('reads as InProgress to kstatus while the status describes an older generation', () => {
    const status = report({ vps: vps({}, 1), action: available, outcome: OK, server: undefined, now: NOW });
    expect(kstatus({ metadata: { generation: 2 }, status }).status).toBe('InProgress');
    expect(kstatus({ metadata: { generation: 1 }, status }).status).toBe('Current');
  });

  it('reads as InProgress to kstatus before the operator first reports (the CRD defaults observedGeneration to 0)', () => {
    expect(kstatus({ metadata: { generation: 1 }, status: { observedGeneration: 0 } }).status).toBe(
      'InProgress',
    );
  });
});
