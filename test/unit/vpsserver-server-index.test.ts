// The server → resources index: every resource naming a server hears of it, in claimant order.
import { describe, expect, it } from 'vitest';
import { ServerIndex } from '../../src/vpsserver/server-index.ts';

const obj = (
  ns: string,
  name: string,
  o: {
    spec?: number;
    status?: number;
    pending?: boolean;
    at?: string;
    serverName?: string;
    leaked?: number[];
  } = {},
) => ({
  metadata: {
    namespace: ns,
    name,
    creationTimestamp: o.at ?? '2026-12-02T10:00:00Z',
    annotations: o.pending ? { 'vps.org/create-pending': '{}' } : {},
  },
  spec: {
    ...(o.spec !== undefined && { serverId: o.spec }),
    ...(o.serverName !== undefined && { name: o.serverName }),
  },
  status: {
    ...(o.status !== undefined && { serverId: o.status }),
    ...(o.leaked !== undefined && { leakedServerIds: o.leaked }),
  },
});

describe('ServerIndex', () => {
  it('finds every resource naming a server, by spec.serverId or status.serverId', () => {
    const index = new ServerIndex();
    index.update(obj('demo', 'web-01', { status: 7 }));
    index.update(obj('evil', 'grab', { spec: 7 }));
    index.update(obj('other', 'db', { status: 8 }));
    expect(index.keysNaming([7])).toEqual(['demo/web-01', 'evil/grab']);
  });

  it('includes lost-create candidates, which may adopt any new server', () => {
    const index = new ServerIndex();
    index.update(obj('demo', 'new', { pending: true }));
    expect(index.keysNaming([99])).toEqual(['demo/new']);
  });

  it('lists claimants oldest first, then by namespace/name', () => {
    const index = new ServerIndex();
    index.update(obj('b', 'late', { spec: 7, at: '2026-12-02T10:00:05Z' }));
    index.update(obj('b', 'early', { spec: 7 }));
    index.update(obj('a', 'early', { spec: 7 }));
    expect(index.keysNaming([7])).toEqual(['a/early', 'b/early', 'b/late']);
  });

  it('follows a resource that moves to another server, and forgets a removed one', () => {
    const index = new ServerIndex();
    index.update(obj('demo', 'web-01', { status: 7 }));
    index.update(obj('demo', 'web-01', { status: 9 }));
    expect(index.keysNaming([7])).toEqual([]);
    expect(index.remove(obj('demo', 'web-01'))).toEqual([9]);
    expect(index.keysNaming([9])).toEqual([]);
    expect(index.size).toBe(0);
  });

  it('finds the resources asking for a server name: spec.name, else metadata.name', () => {
    const index = new ServerIndex();
    index.update(obj('demo', 'web-01', { status: 7 }));
    index.update(obj('shop', 'front', { serverName: 'web-01' }));
    index.update(obj('shop', 'db'));
    expect(index.keysAskingFor('web-01').sort()).toEqual(['demo/web-01', 'shop/front']);
    index.remove(obj('shop', 'front'));
    expect(index.keysAskingFor('web-01')).toEqual(['demo/web-01']);
  });

  it('tells when another resource asking for the name has a create in flight', () => {
    const index = new ServerIndex();
    index.update(obj('demo', 'web-01', { status: 7 }));
    expect(index.creating('web-01', 'demo/web-01')).toBe(false);
    index.update(obj('shop', 'web-01', { pending: true }));
    expect(index.creating('web-01', 'demo/web-01')).toBe(true);
    expect(index.creating('web-01', 'shop/web-01')).toBe(false);
  });

  it('tells a resource of changes to the servers it reports as leaked, without making them its own', () => {
    const index = new ServerIndex();
    index.update(obj('demo', 'web-01', { status: 7, leaked: [9] }));
    expect(index.keysNaming([9])).toEqual(['demo/web-01']);
    expect(index.remove(obj('demo', 'web-01'))).toEqual([7]);
    expect(index.keysNaming([9])).toEqual([]);
  });
});
