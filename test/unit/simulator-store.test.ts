// The in-memory provider without HTTP: lazy state transitions on a fake clock, credits,
// addresses, accounts, suspension and out-of-band drift.
import { describe, expect, it } from 'vitest';
import { buildCatalogue } from '../../src/simulator/catalogue.ts';
import { seededRandom } from '../../src/simulator/random.ts';
import { SimTime } from '../../src/simulator/sim-time.ts';
import { type Account, type ServerRecord, SimulatorStore } from '../../src/simulator/store.ts';
import type { CreateFields } from '../../src/simulator/validation.ts';

const START = Date.parse('2026-01-01T00:00:00Z');

function fixture(timeScale = 1) {
  let wall = START;
  const time = new SimTime(() => wall, timeScale);
  const store = new SimulatorStore({
    catalogue: buildCatalogue(),
    time,
    random: seededRandom(1),
    provisioningSeconds: { min: 120, max: 300 },
    transitionSeconds: { min: 10, max: 30 },
    accounts: [
      { name: 'alice', token: 'tok-a', credits: 12 },
      { name: 'bob', token: 'tok-b', credits: 100 },
    ],
  });
  const alice = store.accountByName('alice')!;
  const bob = store.accountByName('bob')!;
  const sleep = (ms: number) => {
    wall += ms;
  };
  return { store, alice, bob, sleep, time };
}

const fields = (overrides: Partial<CreateFields> = {}): CreateFields => ({
  name: 'web-01',
  planId: 1,
  osId: 5,
  location: 'us-west',
  hostname: null,
  sshKeyId: null,
  backupsEnabled: false,
  ...overrides,
});

function created(
  store: SimulatorStore,
  account: Account,
  overrides: Partial<CreateFields> = {},
): ServerRecord {
  const outcome = store.createServer(account, fields(overrides));
  if (outcome.kind !== 'ok') throw new Error(`create failed: ${outcome.kind}`);
  return outcome.server;
}

describe('SimulatorStore', () => {
  it('gives servers increasing ids starting at 12345', () => {
    const { store, alice, bob } = fixture();
    expect([created(store, alice).id, created(store, bob).id, created(store, bob).id]).toEqual([
      12345, 12346, 12347,
    ]);
  });

  it('keeps a new server provisioning without addresses until its provisioning time has passed', () => {
    const { store, alice, sleep } = fixture();
    const server = created(store, alice);
    sleep(119_000);
    expect(store.getServer(alice, server.id)).toMatchObject({ status: 'provisioning', addresses: null });
    sleep(181_001);
    expect(store.getServer(alice, server.id)).toMatchObject({
      status: 'active',
      addresses: { ipv4: '203.0.113.10', ipv6: '2001:0db8::1' },
    });
  });

  it('dates a completed transition when it fell due, not when it was observed', () => {
    const { store, alice, sleep } = fixture();
    const server = created(store, alice);
    const dueAt = server.transition!.dueAt;
    sleep(3_600_000);
    expect(store.getServer(alice, server.id)!.updatedAt).toBe(dueAt);
  });

  it('divides transition durations by the time-scale', () => {
    const { store, alice, sleep } = fixture(60);
    const server = created(store, alice);
    sleep(5_001);
    expect(store.getServer(alice, server.id)!.status).toBe('active');
  });

  it('takes a server through stopping to stopped and through starting back to active', () => {
    const { store, alice, sleep } = fixture();
    const { id } = created(store, alice);
    sleep(300_001);
    expect(store.powerAction(alice, id, 'stop')).toMatchObject({
      kind: 'ok',
      server: { status: 'stopping' },
    });
    sleep(30_001);
    expect(store.getServer(alice, id)!.status).toBe('stopped');
    expect(store.powerAction(alice, id, 'start')).toMatchObject({
      kind: 'ok',
      server: { status: 'starting' },
    });
    sleep(30_001);
    expect(store.getServer(alice, id)!.status).toBe('active');
  });

  it('keeps the addresses of a server across stop and start', () => {
    const { store, alice, sleep } = fixture();
    const { id } = created(store, alice);
    sleep(300_001);
    const before = store.getServer(alice, id)!.addresses;
    store.powerAction(alice, id, 'stop');
    sleep(30_001);
    expect(store.getServer(alice, id)!.addresses).toEqual(before);
  });

  it('reboots an active server through rebooting back to active', () => {
    const { store, alice, sleep } = fixture();
    const { id } = created(store, alice);
    sleep(300_001);
    expect(store.powerAction(alice, id, 'reboot')).toMatchObject({
      kind: 'ok',
      server: { status: 'rebooting' },
    });
    sleep(30_001);
    expect(store.getServer(alice, id)!.status).toBe('active');
  });

  it('moves updated_at on every change', () => {
    const { store, alice, sleep } = fixture();
    const { id } = created(store, alice);
    sleep(300_001);
    const seen = [store.getServer(alice, id)!.updatedAt];
    sleep(1_000);
    store.updateServer(alice, id, { name: 'web-02' });
    seen.push(store.getServer(alice, id)!.updatedAt);
    sleep(1_000);
    store.powerAction(alice, id, 'stop');
    seen.push(store.getServer(alice, id)!.updatedAt);
    sleep(30_001);
    seen.push(store.getServer(alice, id)!.updatedAt);
    expect(new Set(seen).size).toBe(4);
  });

  it('deducts the plan cost from the account on create', () => {
    const { store, alice } = fixture();
    created(store, alice, { planId: 2 });
    expect(alice.credits).toBe(2);
  });

  it('refuses a create that costs more than the account has, keeping credits and servers as they were', () => {
    const { store, alice } = fixture();
    created(store, alice, { planId: 2 });
    const outcome = store.createServer(alice, fields({ planId: 1 }));
    expect(outcome).toMatchObject({ kind: 'paymentRequired' });
    expect(outcome.kind === 'paymentRequired' && outcome.message).toMatch(/^Insufficient credits/);
    expect(alice.credits).toBe(2);
    expect(store.listServers(alice)).toHaveLength(1);
  });

  it('hides one account’s servers from another', () => {
    const { store, alice, bob } = fixture();
    const { id } = created(store, alice);
    expect(store.getServer(bob, id)).toBeUndefined();
    expect(store.listServers(bob)).toEqual([]);
    expect(store.deleteServer(bob, id)).toBe(false);
    expect(store.powerAction(bob, id, 'stop')).toEqual({ kind: 'notFound' });
  });

  it('filters the list by status and location', () => {
    const { store, bob, sleep } = fixture();
    created(store, bob, { location: 'us-east' });
    sleep(300_001);
    created(store, bob, { location: 'us-west' });
    expect(store.listServers(bob, { status: 'active' }).map((s) => s.location)).toEqual(['us-east']);
    expect(store.listServers(bob, { location: 'us-west' }).map((s) => s.status)).toEqual(['provisioning']);
  });

  it('refuses updates while a server is provisioning', () => {
    const { store, alice } = fixture();
    const { id } = created(store, alice);
    expect(store.updateServer(alice, id, { name: 'x' })).toMatchObject({ kind: 'refused' });
  });

  it('deletes a server in any state and frees it from the account', () => {
    const { store, alice } = fixture();
    const { id } = created(store, alice);
    expect(store.deleteServer(alice, id)).toBe(true);
    expect(store.getServer(alice, id)).toBeUndefined();
    expect(store.findServer(id)).toBeUndefined();
  });

  it('suspends a provisioning server as the active server it was becoming, and restores it on unsuspend', () => {
    const { store, alice } = fixture();
    const { id } = created(store, alice);
    expect(store.suspend(id)).toMatchObject({ status: 'suspended', transition: null });
    expect(store.unsuspend(id)).toMatchObject({ status: 'active' });
    expect(store.findServer(id)!.addresses).not.toBeNull();
  });

  it('restores a suspended stopped server to stopped', () => {
    const { store, alice } = fixture();
    const { id } = created(store, alice);
    store.drift(id, { status: 'stopped' });
    store.suspend(id);
    expect(store.unsuspend(id)!.status).toBe('stopped');
  });

  it('applies out-of-band drift without the API’s state rules', () => {
    const { store, alice, sleep } = fixture();
    const { id } = created(store, alice);
    sleep(1_000);
    const drifted = store.drift(id, { name: 'renamed', status: 'stopped', backupsEnabled: true });
    expect(drifted).toMatchObject({
      name: 'renamed',
      status: 'stopped',
      backupsEnabled: true,
      transition: null,
    });
    expect(drifted!.updatedAt).toBe(START + 1_000);
  });

  it('completes every pending transition at once on finishTransitions', () => {
    const { store, alice, bob } = fixture();
    created(store, alice);
    created(store, bob);
    store.finishTransitions();
    expect(store.allServers().map((s) => s.status)).toEqual(['active', 'active']);
  });

  it('moves time forward for every server with advance', () => {
    const { store, alice, time } = fixture();
    const { id } = created(store, alice);
    time.advance(300_001);
    expect(store.getServer(alice, id)!.status).toBe('active');
  });

  it('refuses an account whose name or token is taken', () => {
    const { store } = fixture();
    expect(() => store.addAccount({ name: 'alice', token: 'new', credits: 1 })).toThrow(/already exists/);
    expect(() => store.addAccount({ name: 'carol', token: 'tok-a', credits: 1 })).toThrow(/already in use/);
  });
});
