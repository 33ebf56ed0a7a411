// report() as a table: for each kind of pass (action and how it ended), the conditions the
// status says, then the server fields it mirrors and when a condition's time moves.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../src/vpsserver/plan.ts';
import { type ActOutcome, report, statusChanged } from '../../src/vpsserver/status.ts';
import type { Condition, VpsServerStatus } from '../../src/vpsserver/types.ts';
import { server, vps } from '../fixtures/vps-server.ts';

const NOW = '2026-11-25T12:00:00.000Z';
const OK: ActOutcome = { ok: true };
const retrying: ActOutcome = { ok: false, terminal: false, reason: 'RateLimited', message: '429' };
const refused: ActOutcome = { ok: false, terminal: true, reason: 'InsufficientCredits', message: '402' };

/** The four conditions as "status reason" strings, in the order Ready, Reconciling, Stalled, Synced. */
const summary = (status: VpsServerStatus) =>
  Object.fromEntries((status.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));

describe('report', () => {
  it.each<[string, Action, ActOutcome, Record<string, string>]>([
    [
      'a server at rest and available is Ready',
      { type: 'Nothing', reason: 'Available', message: '' },
      OK,
      {
        Ready: 'True Available',
        Reconciling: 'False Idle',
        Stalled: 'False Healthy',
        Synced: 'True ReconcileSuccess',
      },
    ],
    [
      'a paused resource is Stalled: only removing the annotation moves it on',
      { type: 'Nothing', reason: 'Paused', message: '' },
      OK,
      {
        Ready: 'False Paused',
        Reconciling: 'False Idle',
        Stalled: 'True Paused',
        Synced: 'True ReconcileSuccess',
      },
    ],
    [
      'a create in progress is Reconciling, not Ready',
      { type: 'Create', request: { name: 'web-01', planId: 1, osId: 5, location: 'us-west' } },
      OK,
      {
        Ready: 'False Creating',
        Reconciling: 'True Creating',
        Stalled: 'False Healthy',
        Synced: 'True ReconcileSuccess',
      },
    ],
    [
      'a wait names what it waits for',
      { type: 'Wait', ms: 1000, reason: 'Provisioning', message: 'provisioning' },
      OK,
      {
        Ready: 'False Provisioning',
        Reconciling: 'True Provisioning',
        Stalled: 'False Healthy',
        Synced: 'True ReconcileSuccess',
      },
    ],
    [
      'a failure being retried names the failure, not the step it blocked',
      { type: 'Delete', serverId: 7 },
      retrying,
      {
        Ready: 'False RateLimited',
        Reconciling: 'True RateLimited',
        Stalled: 'False Healthy',
        Synced: 'False RateLimited',
      },
    ],
    [
      'a refusal only a human can fix is Stalled',
      { type: 'Create', request: { name: 'web-01', planId: 1, osId: 5, location: 'us-west' } },
      refused,
      {
        Ready: 'False InsufficientCredits',
        Reconciling: 'False Idle',
        Stalled: 'True InsufficientCredits',
        Synced: 'False InsufficientCredits',
      },
    ],
    [
      'a remembered stall keeps Stalled without a new call',
      { type: 'Stalled', reason: 'InsufficientCredits', message: '402' },
      OK,
      {
        Ready: 'False InsufficientCredits',
        Reconciling: 'False Idle',
        Stalled: 'True InsufficientCredits',
        // No call was made, and none is on record: Synced cannot claim one succeeded.
        Synced: 'Unknown NoCallYet',
      },
    ],
  ])('%s', (_what, action, outcome, want) => {
    expect(summary(report({ vps: vps(), action, outcome, server: undefined, now: NOW }))).toEqual(want);
  });

  it('keeps Synced as it was when a remembered stall is reported again', () => {
    const synced: Condition = {
      type: 'Synced',
      status: 'False',
      reason: 'InsufficientCredits',
      message: '402',
      observedGeneration: 1,
      lastTransitionTime: NOW,
    };
    const status = report({
      vps: vps({ status: { conditions: [synced] } }),
      action: { type: 'Stalled', reason: 'InsufficientCredits', message: '402' },
      outcome: OK,
      server: undefined,
      now: NOW,
    });
    expect(summary(status).Synced).toBe('False InsufficientCredits');
  });

  it('mirrors the managed server and records the generation it observed', () => {
    const status = report({
      vps: vps({ generation: 3 }),
      action: { type: 'Nothing', reason: 'Available', message: '' },
      outcome: OK,
      server: server({ id: 7, hostname: 'web.example.com', ipv6Address: '2001:db8::1' }),
      now: NOW,
    });
    expect(status).toMatchObject({
      observedGeneration: 3,
      serverId: 7,
      state: 'active',
      ipAddress: '203.0.113.10',
      ipv6Address: '2001:db8::1',
      hostname: 'web.example.com',
      location: 'us-west',
    });
  });

  it('drops every server field once the server is forgotten', () => {
    const status = report({
      vps: vps({ status: { serverId: 7, state: 'active', ipAddress: '203.0.113.10' } }),
      action: { type: 'ForgetServer', serverId: 7 },
      outcome: OK,
      server: undefined,
      now: NOW,
    });
    expect([status.serverId, status.state, status.ipAddress]).toEqual([undefined, undefined, undefined]);
  });

  it('moves lastTransitionTime only for a condition whose status changes', () => {
    const earlier = '2026-11-24T00:00:00.000Z';
    const before = report({
      vps: vps(),
      action: { type: 'Nothing', reason: 'Available', message: '' },
      outcome: OK,
      server: undefined,
      now: earlier,
    });
    const after = report({
      vps: vps({ status: before }),
      action: { type: 'Delete', serverId: 7 },
      outcome: OK,
      server: undefined,
      now: NOW,
    });
    const times = Object.fromEntries((after.conditions ?? []).map((c) => [c.type, c.lastTransitionTime]));
    expect(times).toEqual({ Ready: NOW, Reconciling: NOW, Stalled: earlier, Synced: earlier });
  });
});

describe('report: status.leakedServerIds', () => {
  const atRest: Action = { type: 'Nothing', reason: 'Available', message: '' };
  const leakedAfter = (before: number[] | undefined, leaked: number[] | undefined) =>
    report({
      vps: vps({ status: { serverId: 1, ...(before !== undefined && { leakedServerIds: before }) } }),
      action: atRest,
      outcome: OK,
      server: server({ id: 1 }),
      now: NOW,
      ...(leaked !== undefined && { leaked }),
    }).leakedServerIds;

  it('lists the leaks the pass found', () => expect(leakedAfter(undefined, [7, 9])).toEqual([7, 9]));
  it('drops the field once there are none', () => expect(leakedAfter([7], [])).toBeUndefined());
  it('keeps the last list when the pass could not tell', () =>
    expect(leakedAfter([7], undefined)).toEqual([7]));
  it('keeps at most 100, as the CRD allows', () =>
    expect(
      leakedAfter(
        undefined,
        Array.from({ length: 150 }, (_, i) => i + 2),
      ),
    ).toHaveLength(100));
});

describe('statusChanged', () => {
  it('ignores key order and undefined fields', () => {
    expect(
      statusChanged({ serverId: 7, state: 'active' }, { state: 'active', serverId: 7, ipAddress: undefined }),
    ).toBe(false);
  });

  it('sees a changed field', () => {
    expect(statusChanged({ state: 'active' }, { state: 'stopped' })).toBe(true);
  });
});
