// The leak report's decision: which servers shaped like a managed resource's are reported as
// leaked, and which `--leaked-servers=delete` deletes (past the grace, never owned or claimed).
import { describe, expect, it } from 'vitest';
import { type LeakInput, leakedServers } from '../../src/vpsserver/leaks.ts';
import type { ObservedServer } from '../../src/vpsserver/observed.ts';
import type { VpsServer } from '../../src/vpsserver/types.ts';
import { server as fixtureServer, vps as fixtureVps } from '../fixtures/vps-server.ts';

const NOW = Date.parse('2026-12-03T08:00:00Z');
const HOUR = 3_600_000;

// The shared builders (test/fixtures/vps-server.ts), as this table needs them: a resource made
// three hours before NOW whose status names server 2, and servers with its name, made two hours
// before NOW.
const CREATED = NOW - 3 * HOUR;
const vps = (status: VpsServer['status'] = { serverId: 2 }, spec: Partial<VpsServer['spec']> = {}) => {
  const v = fixtureVps({ status, spec });
  return { ...v, metadata: { ...v.metadata, creationTimestamp: new Date(CREATED).toISOString() } };
};

const server = (id: number, o: Partial<ObservedServer> = {}): ObservedServer =>
  fixtureServer({ id, createdAt: NOW - 2 * HOUR, ...o });

const input = (o: Partial<LeakInput> = {}): LeakInput => ({
  vps: vps(),
  servers: [server(1), server(2)],
  everOwned: (id) => id === 2,
  everClaimed: () => false,
  now: NOW,
  graceMs: HOUR,
  policy: 'report',
  clockSkewMs: 300_000,
  ...o,
});

describe('leakedServers', () => {
  it.each<[string, Partial<LeakInput>, number[], number[]]>([
    ['reports a server of the same name and shape that nothing owns', {}, [1], []],
    ['reports nothing when the only such server is the resource’s own', { servers: [server(2)] }, [], []],
    [
      'does not report a server of another name',
      { servers: [server(1, { name: 'other' }), server(2)] },
      [],
      [],
    ],
    [
      'does not report a server of another plan',
      { servers: [server(1, { plan: { ...server(1).plan, id: 2 } })] },
      [],
      [],
    ],
    [
      'does not report a server of another location',
      { servers: [server(1, { location: 'eu-central' })] },
      [],
      [],
    ],
    [
      'does not report a server of another OS',
      { servers: [server(1, { os: { id: 9, name: 'x' } })] },
      [],
      [],
    ],
    ['does not report a server being deleted', { servers: [server(1, { deleteRequested: true })] }, [], []],
    ['does not report a server another resource owns or owned', { everOwned: () => true }, [], []],
    ['does not report a server a claim names', { everClaimed: (id) => id === 1 }, [], []],
    ['reports nothing for a resource without its server yet', { vps: vps({}) }, [], []],
    [
      'reports nothing for an ObserveOnly resource',
      { vps: vps({ serverId: 2 }, { managementPolicy: 'ObserveOnly' }) },
      [],
      [],
    ],
    [
      'lists several leaks oldest first',
      { servers: [server(7, { createdAt: NOW - HOUR }), server(1), server(2)] },
      [1, 7],
      [],
    ],
    ['deletes, with policy delete, a leak older than the grace', { policy: 'delete' }, [1], [1]],
    [
      'keeps, with policy delete, a leak younger than the grace',
      { policy: 'delete', graceMs: 3 * HOUR },
      [1],
      [],
    ],
    [
      'deletes nothing a claim ever named, whatever the policy',
      { policy: 'delete', everClaimed: (id) => id === 1 },
      [],
      [],
    ],
    [
      'does not report a server made before the resource (an orphan kept by an earlier one, one made by hand)',
      { servers: [server(1, { createdAt: CREATED - HOUR }), server(2)] },
      [],
      [],
    ],
    [
      'reports, but never deletes, a server stamped a little before the resource (the provider’s clock may lag)',
      { policy: 'delete', servers: [server(1, { createdAt: CREATED - 60_000 }), server(2)] },
      [1],
      [],
    ],
    [
      'reports nothing for a resource being deleted',
      { vps: { ...vps(), metadata: { ...vps().metadata, deletionTimestamp: '2026-12-03T07:00:00Z' } } },
      [],
      [],
    ],
    [
      'reports nothing for a resource whose creation time is unknown',
      { vps: { ...vps(), metadata: { ...vps().metadata, creationTimestamp: undefined } } },
      [],
      [],
    ],
  ])('%s', (_what, o, leaked, toDelete) => {
    const { recheckInMs: _, ...decision } = leakedServers(input(o));
    expect(decision).toEqual({ leaked, toDelete });
  });

  it('says, with policy delete, when the youngest leak still inside its grace becomes deletable', () => {
    const young = [server(1, { createdAt: NOW - 10 * 60_000 }), server(3, { createdAt: NOW - 40 * 60_000 })];
    expect(leakedServers(input({ policy: 'delete', servers: young })).recheckInMs).toBe(20 * 60_000);
  });

  it('asks for no recheck when it only reports', () => {
    expect(
      leakedServers(input({ servers: [server(1, { createdAt: NOW - 60_000 })] })).recheckInMs,
    ).toBeUndefined();
  });
});
