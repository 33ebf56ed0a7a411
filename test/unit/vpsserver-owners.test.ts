// ServerOwners routes a change seen at VPS.org to the resource that manages the server, per
// account; Stalls keeps a terminal refusal in force until spec or credentials change.
import { describe, expect, it } from 'vitest';
import { ServerOwners } from '../../src/vpsserver/owners.ts';
import { Stalls } from '../../src/vpsserver/stalls.ts';
import { vps } from '../fixtures/vps-server.ts';

describe('ServerOwners', () => {
  it('names the resources managing the changed servers, each once', () => {
    const owners = new ServerOwners();
    owners.add('a', 1, 'shop/web');
    owners.add('a', 2, 'shop/web');
    owners.add('a', 3, 'shop/db');
    expect(owners.ownersOf('a', [1, 2, 3, 4])).toEqual(['shop/web', 'shop/db']);
  });

  it('never confuses the same server id across accounts', () => {
    const owners = new ServerOwners();
    owners.add('a', 1, 'shop/web');
    expect([owners.ownersOf('b', [1]), [...owners.claimedByOthers('b', 'shop/db')]]).toEqual([[], []]);
  });

  it('tells a resource which servers of the account others manage', () => {
    const owners = new ServerOwners();
    owners.add('a', 1, 'shop/web');
    owners.add('a', 2, 'shop/db');
    expect([...owners.claimedByOthers('a', 'shop/web')]).toEqual([2]);
  });

  it('forgets every server of a removed resource', () => {
    const owners = new ServerOwners();
    owners.add('a', 1, 'shop/web');
    owners.add('b', 9, 'shop/web');
    owners.remove('shop/web');
    expect([owners.ownersOf('a', [1]), owners.ownersOf('b', [9])]).toEqual([[], []]);
  });
});

describe('Stalls', () => {
  const creds = { ok: true as const, version: 'v1' };

  it('keeps a refusal in force for the same generation and credentials', () => {
    const stalls = new Stalls();
    stalls.remember(vps(), creds, 'InsufficientCredits', '402');
    expect(stalls.inForce(vps(), creds)).toMatchObject({ reason: 'InsufficientCredits' });
  });

  it.each([
    ['the spec changed', vps({ generation: 2 }), creds],
    ['the credentials changed', vps(), { ok: true as const, version: 'v2' }],
    ['the resource is being deleted', vps({ deleting: true }), creds],
  ])('lifts it once %s', (_what, resource, credentials) => {
    const stalls = new Stalls();
    stalls.remember(vps(), creds, 'InsufficientCredits', '402');
    expect(stalls.inForce(resource, credentials)).toBeUndefined();
    expect(stalls.inForce(vps(), creds)).toBeUndefined();
  });
});
