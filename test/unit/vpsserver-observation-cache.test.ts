// The observation cache's merge rules: a list never undoes a newer write of ours, servers gone
// from a later list vanish, and only observable changes are announced.
import { describe, expect, it } from 'vitest';
import { ObservationCache, type ObservationSource } from '../../src/vpsserver/observation-cache.ts';
import type { ObservedServer } from '../../src/vpsserver/observed.ts';

const srv = (id: number, o: Partial<ObservedServer> = {}): ObservedServer => ({
  id,
  name: `s${id}`,
  hostname: null,
  state: 'active',
  ipAddress: null,
  location: 'us-west',
  plan: { id: 1, name: 'Standard VPS', vcpus: 2, memory: 4096, storage: 80 },
  os: { id: 5, name: 'Ubuntu 22.04 LTS' },
  createdAt: 0,
  ...o,
});

/** A source whose list answers are scripted, with a controllable clock. */
function scripted() {
  let clock = 1_000;
  const lists: ObservedServer[][] = [];
  const changes: number[][] = [];
  let listCalls = 0;
  const source: ObservationSource = {
    listServers: async () => {
      listCalls += 1;
      return lists.shift() ?? [];
    },
    getServer: async () => undefined,
  };
  const cache = new ObservationCache(source, { now: () => clock, onChange: (ids) => changes.push(ids) });
  return {
    cache,
    changes,
    lists,
    tick: (ms: number) => {
      clock += ms;
    },
    listCalls: () => listCalls,
  };
}

describe('ObservationCache', () => {
  it('holds every listed server and records when the list started', async () => {
    const t = scripted();
    t.lists.push([srv(1), srv(2)]);
    await t.cache.refresh();
    expect([...t.cache.servers()].map((s) => s.id)).toEqual([1, 2]);
    expect(t.cache.snapshotAt).toBe(1_000);
  });

  it('finds servers by name, following renames by our writes and by later lists', async () => {
    const t = scripted();
    t.lists.push([srv(1, { name: 'web' }), srv(2, { name: 'web' }), srv(3, { name: 'db' })]);
    await t.cache.refresh();
    expect(t.cache.named('web').map((s) => s.id)).toEqual([1, 2]);
    t.tick(10);
    t.cache.upsert({ id: 2, name: 'api' });
    expect(t.cache.named('web').map((s) => s.id)).toEqual([1]);
    expect(t.cache.named('api').map((s) => s.id)).toEqual([2]);
    t.tick(10);
    t.lists.push([srv(3, { name: 'web' })]);
    await t.cache.refresh();
    expect(t.cache.named('web').map((s) => s.id)).toEqual([3]);
    expect(t.cache.named('db')).toEqual([]);
  });

  it('joins concurrent refreshes into one list call', async () => {
    const t = scripted();
    await Promise.all([t.cache.refresh(), t.cache.refresh(), t.cache.refresh()]);
    expect(t.listCalls()).toBe(1);
  });

  it('keeps a server we created after a list began that does not show it', async () => {
    const t = scripted();
    t.tick(10);
    t.cache.upsert(srv(7, { state: 'provisioning' }));
    t.tick(-5); // the next list started before the create
    t.lists.push([]);
    await t.cache.refresh();
    expect(t.cache.get(7)?.state).toBe('provisioning');
  });

  it('does not let an older list undo the answer to our write', async () => {
    const t = scripted();
    t.lists.push([srv(1, { state: 'active' })]);
    await t.cache.refresh();
    t.tick(10);
    t.cache.upsert({ id: 1, state: 'stopping' });
    t.tick(-5);
    t.lists.push([srv(1, { state: 'active' })]);
    await t.cache.refresh();
    expect(t.cache.get(1)?.state).toBe('stopping');
  });

  it('dates a list from its first request, not from when it queued for the budget', async () => {
    let clock = 1_000;
    let release: (() => void) | undefined;
    const source: ObservationSource = {
      listServers: async (_signal, onFirstRequest) => {
        await new Promise<void>((r) => {
          release = r;
        });
        onFirstRequest?.(); // the budget lets the first page go
        return [srv(7, { state: 'active' })];
      },
      getServer: async () => undefined,
    };
    const cache = new ObservationCache(source, { now: () => clock });
    const listing = cache.refresh(); // queued at 1 000
    clock = 2_000;
    cache.upsert(srv(7, { state: 'provisioning' })); // our create answered while the list waited
    clock = 3_000;
    release?.();
    await listing;
    expect(cache.get(7)?.state).toBe('active');
    expect(cache.snapshotAt).toBe(3_000);
  });

  it('drops a server that a later list no longer shows, and announces it', async () => {
    const t = scripted();
    t.lists.push([srv(1), srv(2)]);
    await t.cache.refresh();
    t.tick(1_000);
    t.lists.push([srv(1)]);
    await t.cache.refresh();
    expect(t.cache.get(2)).toBeUndefined();
    expect(t.changes.at(-1)).toEqual([2]);
  });

  it('drops a deleted server once a list started after the delete lacks it', async () => {
    const t = scripted();
    t.lists.push([srv(3)]);
    await t.cache.refresh();
    t.tick(10);
    t.cache.markDeleted(3);
    expect(t.cache.get(3)?.deleteRequested).toBe(true);
    t.tick(10);
    t.lists.push([]);
    await t.cache.refresh();
    expect(t.cache.get(3)).toBeUndefined();
  });

  it('remembers a server a later list lacks as proven gone, so no pass has to ask for it', async () => {
    const t = scripted();
    t.lists.push([srv(1), srv(2)]);
    await t.cache.refresh();
    t.tick(1_000);
    t.lists.push([srv(1)]);
    await t.cache.refresh();
    expect(t.cache.provenGone(2)).toBe(true);
    expect(t.cache.provenGone(1)).toBe(false);
  });

  it('does not call a server it never saw gone: the list may predate it', async () => {
    const t = scripted();
    t.lists.push([srv(1)]);
    await t.cache.refresh();
    expect(t.cache.provenGone(9)).toBe(false);
  });

  it('does not call a server gone when the list that lacks it began before we heard of it', async () => {
    let release: (() => void) | undefined;
    const source: ObservationSource = {
      listServers: () =>
        new Promise((resolve) => {
          release = () => resolve([]);
        }),
      getServer: async () => undefined,
    };
    let clock = 1_000;
    const cache = new ObservationCache(source, { now: () => clock });
    const listing = cache.refresh();
    clock += 10;
    cache.upsert(srv(5));
    release?.();
    await listing;
    expect(cache.get(5)).toBeDefined();
    expect(cache.provenGone(5)).toBe(false);
  });

  it('announces a state change but not an unchanged list', async () => {
    const t = scripted();
    t.lists.push([srv(1)], [srv(1)], [srv(1, { state: 'stopped' })]);
    await t.cache.refresh();
    await t.cache.refresh();
    await t.cache.refresh();
    expect(t.changes).toEqual([[1], [1]]);
  });

  it('keeps detail fields a list does not carry', async () => {
    const t = scripted();
    t.cache.upsert(srv(1, { backupsEnabled: true, ipv6Address: '2001:db8::1' }));
    t.tick(10);
    t.lists.push([srv(1)]);
    await t.cache.refresh();
    expect(t.cache.get(1)).toMatchObject({ backupsEnabled: true, ipv6Address: '2001:db8::1' });
  });

  it('passes a failed list to the caller of refresh', async () => {
    const cache = new ObservationCache({
      listServers: async () => {
        throw new Error('401 Unauthorized');
      },
      getServer: async () => undefined,
    });
    await expect(cache.refresh()).rejects.toThrow('401');
  });

  it('remembers why the latest list failed until a list succeeds', async () => {
    let fail = true;
    const cache = new ObservationCache({
      listServers: async () => {
        if (fail) throw new Error('503 Service Unavailable');
        return [srv(1)];
      },
      getServer: async () => undefined,
    });
    expect(cache.listFailure).toBeUndefined();
    await cache.refresh().catch(() => {});
    expect(String(cache.listFailure)).toContain('503');
    fail = false;
    await cache.refresh();
    expect(cache.listFailure).toBeUndefined();
  });
});

describe('ObservationCache, a list that fails part-way', () => {
  /** A source whose first `fails` lists request their first page and then fail. */
  function failingThenOk(fails: number) {
    let clock = 1_000;
    const places: unknown[] = [];
    let left = fails;
    const source: ObservationSource = {
      listServers: async (_signal, onFirstRequest, resume) => {
        places.push(resume);
        if (resume !== undefined && resume.place === undefined) onFirstRequest?.();
        if (resume !== undefined) resume.place ??= 'page 2';
        if (left-- > 0) throw new Error('429 on page 2');
        return [srv(1)];
      },
      getServer: async () => undefined,
    };
    const cache = new ObservationCache(source, { now: () => clock, resumeWithinMs: 30_000 });
    return { cache, places, tick: (ms: number) => (clock += ms) };
  }

  it('hands the next attempt the same place, so the list goes on from the page that failed', async () => {
    const t = failingThenOk(1);
    await t.cache.refresh().catch(() => {});
    t.tick(5_000);
    await t.cache.refresh();
    expect(t.places).toHaveLength(2);
    expect(t.places[1]).toBe(t.places[0]);
  });

  it('dates a resumed list from the first page of its first attempt', async () => {
    const t = failingThenOk(2);
    await t.cache.refresh().catch(() => {});
    t.tick(5_000);
    await t.cache.refresh().catch(() => {});
    t.tick(5_000);
    await t.cache.refresh();
    expect(t.cache.snapshotAt).toBe(1_000);
  });

  it('starts a new list once the failed one is older than resumeWithinMs', async () => {
    const t = failingThenOk(1);
    await t.cache.refresh().catch(() => {});
    t.tick(30_001);
    await t.cache.refresh();
    expect(t.places[1]).not.toBe(t.places[0]);
    expect(t.cache.snapshotAt).toBe(31_001);
  });

  it('starts a new list after a list that succeeded', async () => {
    const t = failingThenOk(0);
    await t.cache.refresh();
    await t.cache.refresh();
    expect(t.places[1]).not.toBe(t.places[0]);
  });
});
