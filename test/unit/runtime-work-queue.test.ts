// The work queue's client-go semantics: exclusivity, dedup, dirty re-run, delayed adds and
// rate-limited retries, shutdown; time is a ManualClock so nothing sleeps.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/runtime/clock.ts';
import { ExponentialFailureRateLimiter } from '../../src/runtime/rate-limiters.ts';
import { WorkQueue } from '../../src/runtime/work-queue.ts';

function queue(clock = new ManualClock()) {
  const rateLimiter = new ExponentialFailureRateLimiter({ baseMs: 1000, maxMs: 8000, jitter: 0 });
  return { q: new WorkQueue({ clock, rateLimiter }), clock };
}

/** Resolves to the key if get() settles within the current microtask burst, else 'pending'. */
async function peek(p: Promise<string | undefined>): Promise<string | undefined | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

describe('WorkQueue', () => {
  it('hands keys out in the order they were added', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    expect([await q.get(), await q.get()]).toEqual(['a', 'b']);
  });

  it('ignores an add of a key that is already queued', async () => {
    const { q } = queue();
    q.add('a');
    q.add('a');
    expect(q.length).toBe(1);
  });

  it('never hands a key to a second worker while the first holds it', async () => {
    const { q } = queue();
    q.add('a');
    const first = await q.get();
    q.add('a');
    expect(first).toBe('a');
    expect(await peek(q.get())).toBe('pending');
  });

  it('re-runs a key once after done when it was added while being processed', async () => {
    const { q } = queue();
    q.add('a');
    await q.get();
    q.add('a');
    q.add('a');
    q.done('a');
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
  });

  it('wakes a waiting worker when a key is added', async () => {
    const { q } = queue();
    const waiting = q.get();
    q.add('a');
    expect(await waiting).toBe('a');
  });

  it('adds a key after the delay given to addAfter and not before', async () => {
    const { q, clock } = queue();
    q.addAfter('a', 500);
    clock.advance(499);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
  });

  it('hands out delayed keys in due order regardless of the order they were scheduled', async () => {
    const { q, clock } = queue();
    q.addAfter('late', 300);
    q.addAfter('early', 100);
    q.addAfter('middle', 200);
    clock.advance(300);
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['early', 'middle', 'late']);
  });

  it('keeps the earlier time when a delayed key is scheduled again later', async () => {
    const { q, clock } = queue();
    q.addAfter('a', 100);
    q.addAfter('a', 5000);
    clock.advance(100);
    expect(q.length).toBe(1);
  });

  it('moves a delayed key forward when it is scheduled again sooner', async () => {
    const { q, clock } = queue();
    q.addAfter('a', 5000);
    q.addAfter('a', 100);
    clock.advance(100);
    expect(q.length).toBe(1);
    await q.get();
    q.done('a');
    clock.advance(5000);
    expect(q.length).toBe(0);
  });

  it('adds at once when addAfter is given no delay', () => {
    const { q } = queue();
    q.addAfter('a', 0);
    expect(q.length).toBe(1);
  });

  it('doubles the retry delay of a key on each rate-limited add', () => {
    const { q, clock } = queue();
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = clock.now();
      q.addRateLimited('a');
      while (q.length === 0) clock.advance(1);
      delays.push(clock.now() - start);
      q.get();
      q.done('a');
    }
    expect(delays).toEqual([1000, 2000, 4000]);
  });

  it('counts the failures of a key until it is forgotten', () => {
    const { q } = queue();
    q.addRateLimited('a');
    q.addRateLimited('a');
    expect(q.numRequeues('a')).toBe(2);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('retries a forgotten key from the base delay again', () => {
    const { q, clock } = queue();
    q.addRateLimited('a');
    q.addRateLimited('a');
    q.forget('a');
    clock.advance(10_000);
    q.get();
    q.done('a');
    q.addRateLimited('a');
    clock.advance(999);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
  });

  it('resolves waiting workers with undefined on shutdown', async () => {
    const { q } = queue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
  });

  it('stops handing out queued keys once shut down', async () => {
    const { q } = queue();
    q.add('a');
    q.shutDown();
    expect(await q.get()).toBeUndefined();
  });

  it('ignores adds and drops scheduled adds after shutdown', () => {
    const { q, clock } = queue();
    q.addAfter('later', 100);
    q.shutDown();
    q.add('a');
    clock.advance(100);
    expect(q.length).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('drains once every key taken before shutdown is done', async () => {
    const { q } = queue();
    q.add('a');
    await q.get();
    q.shutDown();
    let drained = false;
    const draining = q.drain().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done('a');
    await draining;
    expect(drained).toBe(true);
  });

  it('does not re-queue a dirty key when it is done after shutdown', async () => {
    const { q } = queue();
    q.add('a');
    await q.get();
    q.add('a');
    q.shutDown();
    q.done('a');
    expect(q.length).toBe(0);
  });
});

describe('WorkQueue with flows', () => {
  const byNamespace = (key: string) => key.split('/')[0] ?? '';

  it('hands out due keys of different flows in turn, so a backlog in one cannot hold another behind it', async () => {
    const q = new WorkQueue({ flowOf: byNamespace });
    for (let i = 0; i < 4; i++) q.add(`a/${i}`);
    q.add('b/0');
    const got = [];
    for (let i = 0; i < 5; i++) got.push(await q.get());
    expect(got).toEqual(['a/0', 'b/0', 'a/1', 'a/2', 'a/3']);
  });

  it('keeps the order of the keys within one flow', async () => {
    const q = new WorkQueue({ flowOf: byNamespace });
    for (const k of ['a/1', 'b/1', 'a/2', 'b/2']) q.add(k);
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await q.get());
    expect(got.filter((k) => k?.startsWith('a/'))).toEqual(['a/1', 'a/2']);
    expect(got.filter((k) => k?.startsWith('b/'))).toEqual(['b/1', 'b/2']);
  });

  it('still never hands one key to two workers', async () => {
    const q = new WorkQueue({ flowOf: byNamespace });
    q.add('a/1');
    expect(await q.get()).toBe('a/1');
    q.add('a/1');
    expect(await peek(q.get())).toBe('pending');
  });
});
