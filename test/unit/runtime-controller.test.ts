// The controller's mapping from reconcile results to the queue, its error handling and its
// graceful stop, with a ManualClock for backoff and requeue delays.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/runtime/clock.ts';
import { Controller } from '../../src/runtime/controller.ts';
import type { ReconcileOutcome } from '../../src/runtime/metrics-hooks.ts';
import { ExponentialFailureRateLimiter } from '../../src/runtime/rate-limiters.ts';
import {
  deferred,
  done,
  type Reconciler,
  type Result,
  requeueAfter,
  StaleViewError,
} from '../../src/runtime/reconciler.ts';

/** Lets every promise chain that is ready run to completion. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function setup(reconcile: Reconciler['reconcile'], options: { workers?: number } = {}) {
  const clock = new ManualClock();
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const outcomes: ReconcileOutcome[] = [];
  const controller = new Controller({
    name: 'test',
    reconciler: { reconcile },
    logger,
    clock,
    workers: options.workers ?? 1,
    rateLimiter: new ExponentialFailureRateLimiter({ baseMs: 1000, maxMs: 60_000, jitter: 0 }),
    metrics: { reconcile: { reconciled: (o) => outcomes.push(o) } },
  });
  return { controller, clock, lines, outcomes };
}

/** A reconcile whose passes the test finishes by hand. */
function manual() {
  const calls: { key: string; signal: AbortSignal; finish: (r?: Result) => void }[] = [];
  const reconcile = (key: string, signal: AbortSignal) =>
    new Promise<Result>((resolve) => calls.push({ key, signal, finish: (r = done()) => resolve(r) }));
  return { calls, reconcile };
}

describe('Controller', () => {
  it('reconciles every key added to its queue', async () => {
    const seen: string[] = [];
    const { controller } = setup(async (key) => {
      seen.push(key);
      return done();
    });
    controller.start();
    controller.queue.add('ns/a');
    controller.queue.add('ns/b');
    await settle();
    expect(seen).toEqual(['ns/a', 'ns/b']);
  });

  it('retries a key whose reconcile threw, after the backoff delay', async () => {
    let calls = 0;
    const { controller, clock } = setup(async () => {
      calls++;
      throw new Error('provider down');
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    clock.advance(999);
    await settle();
    expect(calls).toBe(1);
    clock.advance(1);
    await settle();
    expect(calls).toBe(2);
  });

  it('backs off longer on each consecutive failure of a key', async () => {
    const at: number[] = [];
    const { controller, clock } = setup(async () => {
      at.push(clock.now());
      throw new Error('still down');
    });
    controller.start();
    controller.queue.add('ns/a');
    for (let i = 0; i < 8_000; i += 100) {
      clock.advance(100);
      await settle();
    }
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps).toEqual([1000, 2000, 4000]);
  });

  it('logs a failed reconcile with its key and error at error level', async () => {
    const { controller, lines } = setup(async () => {
      throw new Error('boom');
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    const line = lines.find((l) => l.msg === 'reconcile failed; backing off');
    expect(line).toMatchObject({ level: 50, key: 'ns/a', controller: 'test', err: { message: 'boom' } });
  });

  it('retries a pass based on a stale view with backoff, logged at debug level and not as an error', async () => {
    let calls = 0;
    const { controller, clock, lines } = setup(async () => {
      calls++;
      throw new StaleViewError('conflict writing status of ns/a; retrying with the newer object');
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    clock.advance(1000);
    await settle();
    expect(calls).toBe(2);
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(lines.find((l) => l.msg === 'reconcile based on a stale view; retrying')).toMatchObject({
      level: 20,
      key: 'ns/a',
    });
  });

  it('keeps working after a reconcile throws synchronously or rejects with a non-Error', async () => {
    let calls = 0;
    const { controller } = setup(((key: string) => {
      calls++;
      if (key === 'sync') throw new Error('sync throw');
      if (key === 'weird') return Promise.reject('a string');
      return Promise.resolve(done());
    }) as Reconciler['reconcile']);
    controller.start();
    controller.queue.add('sync');
    controller.queue.add('weird');
    controller.queue.add('fine');
    await settle();
    expect(calls).toBe(3);
  });

  it('resets the backoff of a key once its reconcile succeeds', async () => {
    let fail = true;
    const { controller, clock } = setup(async () => {
      if (fail) throw new Error('flaky');
      return done();
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    expect(controller.queue.numRequeues('ns/a')).toBe(1);
    fail = false;
    clock.advance(1000);
    await settle();
    expect(controller.queue.numRequeues('ns/a')).toBe(0);
  });

  it('runs a key again after the delay a requeueAfter result asks for', async () => {
    const at: number[] = [];
    const { controller, clock } = setup(async () => {
      at.push(clock.now());
      return at.length === 1 ? requeueAfter(30_000) : done();
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    clock.advance(30_000);
    await settle();
    expect(at.map((t) => t - at[0]!)).toEqual([0, 30_000]);
  });

  it('runs a deferred key again after the delay it asks for, its backoff left as it was', async () => {
    const at: number[] = [];
    const { controller, clock } = setup(async () => {
      at.push(clock.now());
      if (at.length === 2) return deferred(5000);
      if (at.length <= 3) throw new Error('throttled');
      return done();
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    for (const step of [1000, 5000, 2000]) {
      clock.advance(step);
      await settle();
    }
    // fail (1 s backoff), deferred 5 s, fail again: the second failure's 2 s, not a first one's 1 s.
    expect(at.map((t) => t - at[0]!)).toEqual([0, 1000, 6000, 8000]);
  });

  it('gives the worker of a deferred pass to the next key at once', async () => {
    const seen: string[] = [];
    const { controller } = setup(async (key) => {
      seen.push(key);
      return key.startsWith('stormed/') ? deferred(60_000) : done();
    });
    controller.start();
    for (let i = 0; i < 5; i++) controller.queue.add(`stormed/s${i}`);
    controller.queue.add('calm/c');
    await settle();
    expect(seen.at(-1)).toBe('calm/c');
  });

  it('reports each pass to the metrics hook with its outcome', async () => {
    const { controller, outcomes } = setup(async (key) => {
      if (key === 'bad') throw new Error('x');
      return key === 'later' ? requeueAfter(5) : done();
    });
    controller.start();
    for (const key of ['ok', 'later', 'bad']) controller.queue.add(key);
    await settle();
    expect(outcomes).toEqual(['success', 'requeue_after', 'error']);
  });

  it('reconciles different keys in parallel up to the worker count', async () => {
    const { calls, reconcile } = manual();
    const { controller } = setup(reconcile, { workers: 2 });
    controller.start();
    for (const key of ['a', 'b', 'c']) controller.queue.add(key);
    await settle();
    expect(calls.map((c) => c.key)).toEqual(['a', 'b']);
  });

  it('never reconciles one key in two workers at once', async () => {
    const { calls, reconcile } = manual();
    const { controller } = setup(reconcile, { workers: 4 });
    controller.start();
    controller.queue.add('a');
    await settle();
    controller.queue.add('a');
    await settle();
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    await settle();
    expect(calls).toHaveLength(2);
  });

  it('lets an in-flight reconcile finish when stopped within the grace period', async () => {
    const { calls, reconcile } = manual();
    const { controller } = setup(reconcile);
    controller.start();
    controller.queue.add('a');
    await settle();
    const stopping = controller.stop(10_000);
    await settle();
    calls[0]!.finish();
    await stopping;
    expect(calls[0]!.signal.aborted).toBe(false);
  });

  it('aborts in-flight reconciles when the grace period runs out', async () => {
    const { calls, reconcile } = manual();
    const { controller, clock } = setup(reconcile);
    controller.start();
    controller.queue.add('a');
    await settle();
    const stopping = controller.stop(10_000);
    await settle();
    calls[0]!.signal.addEventListener('abort', () => calls[0]!.finish());
    clock.advance(10_000);
    await stopping;
    expect(calls[0]!.signal.aborted).toBe(true);
  });

  it('resolves stop even when a reconcile ignores the abort', async () => {
    const { reconcile } = manual();
    const { controller, clock } = setup(reconcile);
    controller.start();
    controller.queue.add('a');
    await settle();
    const stopping = controller.stop(1_000, 500);
    await settle();
    clock.advance(1_000);
    await settle();
    clock.advance(500);
    await expect(stopping).resolves.toBeUndefined();
  });

  it('takes no new key once stopping', async () => {
    const { calls, reconcile } = manual();
    const { controller } = setup(reconcile);
    controller.start();
    controller.queue.add('a');
    controller.queue.add('b');
    await settle();
    const stopping = controller.stop(10_000);
    calls[0]!.finish();
    await stopping;
    expect(calls.map((c) => c.key)).toEqual(['a']);
  });
});
