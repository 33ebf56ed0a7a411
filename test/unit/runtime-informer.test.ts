// The informer's reflector loop against a scripted ListWatchClient (a tiny in-memory
// collection with an event log), so watch drops, 410s, bookmarks and backoff are deterministic.
// The same behaviours against a real kube-apiserver: test/integration/runtime-informer.test.ts.
import type { KubernetesObject } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/runtime/clock.ts';
import { enqueueKeys, Informer, stripManagedFields } from '../../src/runtime/informer.ts';
import {
  KubeStatusError,
  type ListWatchClient,
  type ObjectList,
  type WatchEvent,
} from '../../src/runtime/list-watch.ts';
import { ExponentialFailureRateLimiter } from '../../src/runtime/rate-limiters.ts';

type Obj = KubernetesObject;

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

/** An async stream the test pushes watch events into, ends or fails. */
class Stream implements AsyncIterable<WatchEvent<Obj>> {
  #events: WatchEvent<Obj>[] = [];
  #wake: (() => void) | undefined;
  #end: { error?: unknown } | undefined;

  push(event: WatchEvent<Obj>): void {
    this.#events.push(event);
    this.#wake?.();
  }

  end(error?: unknown): void {
    this.#end = error === undefined ? {} : { error };
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<Obj>> {
    for (;;) {
      const next = this.#events.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#end !== undefined) {
        if ('error' in this.#end) throw this.#end.error;
        return;
      }
      await new Promise<void>((r) => {
        this.#wake = r;
      });
    }
  }
}

/** A collection with a resourceVersion counter, an event log and a compaction point. */
class FakeCollection implements ListWatchClient<Obj> {
  objects = new Map<string, Obj>();
  log: { rv: number; event: WatchEvent<Obj> }[] = [];
  rv = 100;
  compactedBelow = 0;
  down = false;
  listCalls = 0;
  watchCalls: string[] = [];
  streams: Stream[] = [];

  write(type: 'ADDED' | 'MODIFIED' | 'DELETED', name: string): void {
    this.rv++;
    const object = { metadata: { namespace: 'ns', name, resourceVersion: String(this.rv) } };
    if (type === 'DELETED') this.objects.delete(name);
    else this.objects.set(name, object);
    const event = { type, object };
    this.log.push({ rv: this.rv, event });
    for (const s of this.streams) s.push(event);
  }

  async list(): Promise<ObjectList<Obj>> {
    this.listCalls++;
    if (this.down) throw new Error('connect ECONNREFUSED');
    return { items: [...this.objects.values()], resourceVersion: String(this.rv) };
  }

  watch(resourceVersion: string, signal: AbortSignal): AsyncIterable<WatchEvent<Obj>> {
    this.watchCalls.push(resourceVersion);
    const stream = new Stream();
    signal.addEventListener('abort', () => stream.end(signal.reason), { once: true });
    if (this.down) stream.end(new Error('connect ECONNREFUSED'));
    else if (Number(resourceVersion) < this.compactedBelow) {
      stream.end(new KubeStatusError({ code: 410, reason: 'Expired' }, 410));
    } else {
      for (const { rv, event } of this.log) if (rv > Number(resourceVersion)) stream.push(event);
      this.streams.push(stream);
    }
    return stream;
  }

  /** Ends every open watch, normally or with an error. */
  drop(error?: unknown): void {
    for (const s of this.streams.splice(0)) s.end(error);
  }
}

function setup(options: { resyncPeriodMs?: number; transform?: (obj: Obj) => Obj } = {}) {
  const clock = new ManualClock();
  const server = new FakeCollection();
  const events: string[] = [];
  const informer = new Informer({
    listWatch: server,
    logger: pino({ level: 'silent' }),
    clock,
    backoff: new ExponentialFailureRateLimiter({ baseMs: 1000, maxMs: 8000, jitter: 0 }),
    resyncPeriodMs: options.resyncPeriodMs ?? 0,
    ...(options.transform !== undefined && { transform: options.transform }),
  });
  informer.addEventHandler({
    onAdd: (o) => events.push(`add ${o.metadata?.name}`),
    onUpdate: (a, b) =>
      events.push(`update ${b.metadata?.name} ${a.metadata?.resourceVersion}→${b.metadata?.resourceVersion}`),
    onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  return { clock, server, events, informer };
}

describe('Informer', () => {
  it('delivers an add for every listed object and then reports synced', async () => {
    const { server, events, informer } = setup();
    server.write('ADDED', 'a');
    server.write('ADDED', 'b');
    informer.start();
    expect(await informer.waitForCacheSync()).toBe(true);
    expect(events).toEqual(['add a', 'add b']);
    expect(informer.keys()).toEqual(['ns/a', 'ns/b']);
  });

  it('delivers add, update and delete events from the watch', async () => {
    const { server, events, informer } = setup();
    informer.start();
    await settle();
    server.write('ADDED', 'a');
    server.write('MODIFIED', 'a');
    server.write('DELETED', 'a');
    await settle();
    expect(events).toEqual(['add a', 'update a 101→102', 'delete a']);
    expect(informer.get('ns/a')).toBeUndefined();
  });

  it('watches from the resourceVersion of its list', async () => {
    const { server, informer } = setup();
    server.write('ADDED', 'a');
    informer.start();
    await settle();
    expect(server.watchCalls).toEqual(['101']);
  });

  it('resumes a watch that ended normally from the last resourceVersion without re-listing', async () => {
    const { server, clock, informer } = setup();
    informer.start();
    await settle();
    server.write('ADDED', 'a');
    await settle();
    clock.advance(5000);
    server.drop();
    await settle();
    expect(server.listCalls).toBe(1);
    expect(server.watchCalls).toEqual(['100', '101']);
  });

  it('retries a dropped watch after the backoff, resuming from the last resourceVersion', async () => {
    const { server, clock, informer } = setup();
    informer.start();
    await settle();
    server.write('ADDED', 'a');
    await settle();
    server.drop(new Error('socket hang up'));
    await settle();
    clock.advance(999);
    await settle();
    expect(server.watchCalls).toEqual(['100']);
    clock.advance(1);
    await settle();
    expect(server.watchCalls).toEqual(['100', '101']);
    expect(server.listCalls).toBe(1);
  });

  it('backs off longer on each consecutive failure', async () => {
    const { server, clock, informer } = setup();
    informer.start();
    await settle();
    server.down = true;
    server.drop(new Error('connection reset'));
    const at: number[] = [];
    const start = clock.now();
    for (let t = 0; t < 16_000; t += 100) {
      await settle();
      if (server.watchCalls.length > at.length + 1) at.push(clock.now() - start);
      clock.advance(100);
    }
    expect(at.slice(0, 4)).toEqual([1000, 3000, 7000, 15000]);
  });

  it('starts the backoff over once a watch delivers an event again', async () => {
    const { server, clock, informer } = setup();
    informer.start();
    await settle();
    server.drop(new Error('reset'));
    await settle();
    clock.advance(1000);
    await settle();
    server.write('ADDED', 'a');
    await settle();
    server.drop(new Error('reset'));
    await settle();
    clock.advance(1000);
    await settle();
    expect(server.watchCalls).toHaveLength(3);
  });

  it('re-lists when the watch answers 410 and reports objects deleted meanwhile', async () => {
    const { server, clock, events, informer } = setup();
    server.write('ADDED', 'gone');
    server.write('ADDED', 'kept');
    informer.start();
    await settle();
    server.down = true;
    server.drop(new Error('API server stopped'));
    await settle();
    server.down = false;
    // Changes the informer cannot see as events: the log is compacted past its resourceVersion.
    server.streams = [];
    server.write('DELETED', 'gone');
    server.write('MODIFIED', 'kept');
    server.write('ADDED', 'new');
    server.compactedBelow = server.rv;
    clock.advance(1000);
    await settle();
    expect(server.listCalls).toBe(2);
    expect(informer.stats.expired).toBe(1);
    expect(events.slice(2)).toEqual(['delete gone', 'update kept 102→104', 'add new']);
  });

  it('re-lists when a watch ERROR event carries 410', async () => {
    const { server, informer } = setup();
    informer.start();
    await settle();
    server.write('ADDED', 'a');
    server.streams[0]!.push({ type: 'ERROR', status: { code: 410, reason: 'Expired', message: 'too old' } });
    await settle();
    expect(server.listCalls).toBe(2);
  });

  it('backs off instead of looping when a watch right after a list answers 410', async () => {
    const { server, clock, informer } = setup();
    server.compactedBelow = 1_000_000;
    informer.start();
    await settle();
    expect(server.listCalls).toBe(1);
    clock.advance(1000);
    await settle();
    expect(server.listCalls).toBe(2);
  });

  it('retries a failed first list after the backoff and then syncs', async () => {
    const { server, clock, informer } = setup();
    server.down = true;
    informer.start();
    const synced = informer.waitForCacheSync();
    await settle();
    expect(informer.hasSynced).toBe(false);
    server.down = false;
    clock.advance(1000);
    expect(await synced).toBe(true);
  });

  it('resumes from the resourceVersion of the last bookmark', async () => {
    const { server, informer } = setup();
    informer.start();
    await settle();
    server.streams[0]!.push({ type: 'BOOKMARK', resourceVersion: '555' });
    await settle();
    server.drop();
    await settle();
    expect(server.watchCalls).toEqual(['100', '555']);
    expect(informer.stats.bookmarks).toBe(1);
  });

  it('counts a watch that ends at once without an event as a failure', async () => {
    const { server, informer } = setup();
    informer.start();
    await settle();
    server.drop();
    await settle();
    expect(server.watchCalls).toHaveLength(1);
    expect(informer.stats.failures).toBe(1);
  });

  it('ignores a watch event for a resourceVersion the cache already holds', async () => {
    const { server, events, informer } = setup();
    server.write('ADDED', 'a');
    informer.start();
    await settle();
    server.streams[0]!.push(server.log[0]!.event);
    await settle();
    expect(events).toEqual(['add a']);
  });

  it('delivers an update of every cached object each resync period', async () => {
    const { server, clock, events, informer } = setup({ resyncPeriodMs: 60_000 });
    server.write('ADDED', 'a');
    server.write('ADDED', 'b');
    informer.start();
    await settle();
    clock.advance(60_000);
    clock.advance(60_000);
    expect(events.slice(2)).toEqual([
      'update a 101→101',
      'update b 102→102',
      'update a 101→101',
      'update b 102→102',
    ]);
  });

  it('keeps delivering to other handlers when one throws', async () => {
    const { server, events, informer } = setup();
    informer.addEventHandler({
      onAdd: () => {
        throw new Error('bad handler');
      },
    });
    informer.start();
    await settle();
    server.write('ADDED', 'a');
    server.write('ADDED', 'b');
    await settle();
    expect(events).toEqual(['add a', 'add b']);
  });

  it('replays the cache as adds to a handler registered after sync', async () => {
    const { server, informer } = setup();
    server.write('ADDED', 'a');
    informer.start();
    await informer.waitForCacheSync();
    const late: string[] = [];
    informer.addEventHandler({ onAdd: (o) => late.push(o.metadata?.name ?? '') });
    expect(late).toEqual(['a']);
  });

  it('closes its watch and makes no new request once stopped', async () => {
    const { server, clock, informer } = setup({ resyncPeriodMs: 1000 });
    informer.start();
    await settle();
    await informer.stop();
    clock.advance(60_000);
    await settle();
    expect(server.watchCalls).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('answers waitForCacheSync with false when stopped before its first list', async () => {
    const { server, informer } = setup();
    server.down = true;
    informer.start();
    const synced = informer.waitForCacheSync();
    await informer.stop();
    expect(await synced).toBe(false);
  });

  it('caches and delivers listed and watched objects as its transform returns them', async () => {
    const seen: Obj[] = [];
    const { server, informer } = setup({
      transform: (o) => ({ ...o, metadata: { ...o.metadata, labels: { transformed: 'yes' } } }),
    });
    informer.addEventHandler({ onAdd: (o) => seen.push(o), onUpdate: (_a, b) => seen.push(b) });
    server.write('ADDED', 'listed');
    informer.start();
    await informer.waitForCacheSync();
    server.write('ADDED', 'watched');
    await settle();
    expect(seen.map((o) => o.metadata?.labels)).toEqual([{ transformed: 'yes' }, { transformed: 'yes' }]);
    expect(informer.get('ns/watched')?.metadata?.labels).toEqual({ transformed: 'yes' });
  });

  it('feeds namespace/name keys to a queue through enqueueKeys', async () => {
    const { server, informer } = setup();
    const keys: string[] = [];
    informer.addEventHandler(enqueueKeys({ add: (k) => keys.push(k) }));
    informer.start();
    await settle();
    server.write('ADDED', 'a');
    server.write('DELETED', 'a');
    await settle();
    expect(keys).toEqual(['ns/a', 'ns/a']);
  });
});

describe('stripManagedFields', () => {
  it('drops metadata.managedFields and keeps the rest of the object', () => {
    const obj = {
      kind: 'VpsServer',
      metadata: { name: 'a', resourceVersion: '7', managedFields: [{ manager: 'kubectl' }] },
      spec: { name: 'a' },
    };
    expect(stripManagedFields(obj)).toEqual({
      kind: 'VpsServer',
      metadata: { name: 'a', resourceVersion: '7' },
      spec: { name: 'a' },
    });
    expect(obj.metadata.managedFields).toHaveLength(1);
  });

  it('returns an object without managedFields unchanged', () => {
    const obj = { metadata: { name: 'a' } };
    expect(stripManagedFields(obj)).toBe(obj);
  });
});
