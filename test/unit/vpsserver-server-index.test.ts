// The server → resources index: every resource naming a server hears of it, in claimant order.
import { describe, expect, it } from 'vitest';
import { ServerIndex } from '../../src/vpsserver/server-index.ts';

const obj = (
  ns: string,
  name: string,
  o: { spec?: number; status?: number; pending?: boolean; at?: string } = {},
) => ({
  metadata: {
    namespace: ns,
    name,
    creationTimestamp: o.at ?? '2026-12-02T10:00:00Z',
    annotations: o.pending ? { 'vps.org/create-pending': '{}' } : {},
  },
  spec: o.spec === undefined ? {} : { serverId: o.spec },
  status: o.status === undefined ? {} : { serverId: o.status },
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
});
