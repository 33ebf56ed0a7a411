// The pure rules of server claims (src/vpsserver/claims.ts) as tables: which server a pass must
// own before it acts, when a holder still holds, the order claimants are tried in, and what a
// resource refused the claim does instead.
import { describe, expect, it } from 'vitest';
import {
  type Claim,
  claimantOrder,
  claimsToRelease,
  claimTarget,
  holderStillClaims,
  refusedAction,
} from '../../src/vpsserver/claims.ts';
import type { Action } from '../../src/vpsserver/plan.ts';
import {
  CREATE_PENDING_ANNOTATION,
  FINALIZER,
  type VpsServer,
  type VpsServerSpec,
} from '../../src/vpsserver/types.ts';

function vps(
  o: {
    spec?: Partial<VpsServerSpec>;
    status?: VpsServer['status'];
    pending?: boolean;
    deleting?: boolean;
  } = {},
): VpsServer {
  return {
    apiVersion: 'vps.org/v1alpha1',
    kind: 'VpsServer',
    metadata: {
      name: 'grab',
      namespace: 'evil',
      uid: 'uid-grab',
      generation: 1,
      resourceVersion: '1',
      finalizers: [FINALIZER],
      annotations: o.pending
        ? { [CREATE_PENDING_ANNOTATION]: '{"at":"2026-12-02T00:00:00Z","name":"grab"}' }
        : {},
      labels: {},
      ...(o.deleting && { deletionTimestamp: '2026-12-02T00:00:00Z' }),
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

const claim = (o: Partial<Claim> = {}): Claim => ({
  accountId: 'acc',
  serverId: 7,
  holder: 'demo/web-01',
  holderUid: 'uid-web',
  uid: 'lease-uid',
  resourceVersion: '5',
  ...o,
});

const nothing: Action = { type: 'Nothing', reason: 'Available', message: '' };

describe('claimTarget: the server a pass must own before it acts', () => {
  const rows: [string, VpsServer, Action, number | undefined][] = [
    [
      'adopting by spec.serverId needs the claim',
      vps({ spec: { serverId: 7 } }),
      { type: 'Adopt', serverId: 7, reason: 'SpecServerId' },
      7,
    ],
    [
      'adopting a lost create needs the claim on the candidate',
      vps({ pending: true }),
      { type: 'Adopt', serverId: 9, reason: 'LostCreateResponse' },
      9,
    ],
    [
      'an update of the managed server needs it',
      vps({ status: { serverId: 7 } }),
      { type: 'Update', serverId: 7, changes: { name: 'x' } },
      7,
    ],
    ['reporting the managed server Ready needs it', vps({ status: { serverId: 7 } }), nothing, 7],
    [
      'deleting the server needs it',
      vps({ status: { serverId: 7 }, deleting: true }),
      { type: 'Delete', serverId: 7 },
      7,
    ],
    [
      'a create names no server yet',
      vps(),
      {
        type: 'Create',
        request: { name: 'g', planId: 1, osId: 5, location: 'us-west', backupsEnabled: false },
      },
      undefined,
    ],
    [
      'a stall writes nothing',
      vps({ spec: { serverId: 7 } }),
      { type: 'Stalled', reason: 'ServerNotFound', message: '' },
      undefined,
    ],
    [
      'forgetting a vanished server needs no claim',
      vps({ status: { serverId: 7 } }),
      { type: 'ForgetServer', serverId: 7 },
      undefined,
    ],
    [
      'removing the finalizer touches no server',
      vps({ status: { serverId: 7 }, deleting: true }),
      { type: 'RemoveFinalizer', reason: 'Orphaned' },
      undefined,
    ],
    [
      'ObserveOnly never claims',
      vps({ spec: { serverId: 7, managementPolicy: 'ObserveOnly' }, status: { serverId: 7 } }),
      { type: 'Nothing', reason: 'Observed', message: '' },
      undefined,
    ],
  ];
  it.each(rows)('%s', (_, v, action, want) => {
    expect(claimTarget(v, action)).toBe(want);
  });
});

describe('holderStillClaims: a holder counts while its object exists and names the server', () => {
  const web = (o: Record<string, unknown> = {}) => ({
    metadata: { uid: 'uid-web', annotations: {} },
    spec: {},
    status: { serverId: 7 },
    ...o,
  });
  const rows: [string, unknown, boolean][] = [
    ['the holder manages the server', web(), true],
    ['the holder names it in spec.serverId (adopting)', web({ status: {}, spec: { serverId: 7 } }), true],
    ['the holder is gone (404)', undefined, false],
    [
      'a new object with the holder name (another uid) is not the holder',
      web({ metadata: { uid: 'other' } }),
      false,
    ],
    ['the holder now manages another server (its own vanished)', web({ status: { serverId: 8 } }), false],
    [
      'the holder resolves a lost create it claimed',
      web({ status: {}, metadata: { uid: 'uid-web', annotations: { [CREATE_PENDING_ANNOTATION]: '{}' } } }),
      true,
    ],
  ];
  it.each(rows)('%s', (_, holder, want) => {
    expect(holderStillClaims(claim(), holder)).toBe(want);
  });
});

describe('claimantOrder: waiting claimants are tried oldest first, then by namespace/name', () => {
  it('sorts by creationTimestamp, then namespace/name', () => {
    const o = (ns: string, name: string, t: string) => ({
      metadata: { namespace: ns, name, creationTimestamp: t },
    });
    const sorted = [
      o('b', 'x', '2026-12-02T10:00:01Z'),
      o('b', 'a', '2026-12-02T10:00:00Z'),
      o('a', 'z', '2026-12-02T10:00:00Z'),
    ].sort(claimantOrder);
    expect(sorted.map((x) => `${x.metadata.namespace}/${x.metadata.name}`)).toEqual(['a/z', 'b/a', 'b/x']);
  });
});

describe('refusedAction: a resource refused the claim never writes to the server', () => {
  it('is Stalled ServerClaimed, naming the owner and how to hand the server over', () => {
    const a = refusedAction(vps({ spec: { serverId: 7 } }), 7, 'demo/web-01');
    expect(a).toMatchObject({ type: 'Stalled', reason: 'ServerClaimed' });
    expect(a.type === 'Stalled' && a.message).toContain('server 7 is managed by demo/web-01');
    expect(a.type === 'Stalled' && a.message).toContain('deletionPolicy Orphan');
  });

  it('when being deleted only drops its finalizer, whatever its deletionPolicy', () => {
    const a = refusedAction(vps({ spec: { serverId: 7 }, deleting: true }), 7, 'demo/web-01');
    expect(a).toMatchObject({ type: 'RemoveFinalizer', reason: 'NotOwner' });
  });
});

describe('claimsToRelease: claims for servers a resource no longer names go back', () => {
  it('keeps the claim on the managed server and releases one whose server it forgot', () => {
    const held = [claim({ serverId: 7 }), claim({ serverId: 8 })];
    expect(claimsToRelease(vps({ status: { serverId: 7 } }), held).map((c) => c.serverId)).toEqual([8]);
  });

  it('keeps a lost-create candidate claim while the create is unresolved', () => {
    expect(claimsToRelease(vps({ pending: true }), [claim({ serverId: 9 })])).toEqual([]);
  });
});
