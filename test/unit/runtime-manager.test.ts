// Manager ordering (informers → cache sync → leadership → controllers; stop in reverse) and
// runUntilSignalled's exit codes, with stand-in parts that record what happens to them.
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/runtime/clock.ts';
import { type CacheSource, type LeaderElection, Manager, type Startable } from '../../src/runtime/manager.ts';
import { runUntilSignalled, type SignalSource } from '../../src/runtime/signals.ts';

const logger = pino({ level: 'silent' });
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function parts(log: string[]) {
  let markSynced: (synced: boolean) => void = () => {};
  const synced = new Promise<boolean>((r) => {
    markSynced = r;
  });
  const informer: CacheSource & { sync(): void } = {
    start: () => void log.push('informer start'),
    stop: async () => void log.push('informer stop'),
    waitForCacheSync: (signal) => {
      signal?.addEventListener('abort', () => markSynced(false));
      return synced;
    },
    sync: () => markSynced(true),
  };
  const controller: Startable & { graceMs?: number } = {
    name: 'things',
    start: () => void log.push('controller start'),
    stop: async (graceMs) => {
      controller.graceMs = graceMs;
      log.push('controller stop');
    },
  };
  return { informer, controller };
}

function deferred() {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('Manager', () => {
  it('starts controllers only after every informer has synced', async () => {
    const log: string[] = [];
    const { informer, controller } = parts(log);
    const manager = new Manager({ logger }).addInformer(informer).addController(controller);
    const started = manager.start();
    await settle();
    expect(log).toEqual(['informer start']);
    informer.sync();
    await started;
    expect(log).toEqual(['informer start', 'controller start']);
  });

  it('starts no controller until leadership is won', async () => {
    const log: string[] = [];
    const { informer, controller } = parts(log);
    const leader = deferred();
    const manager = new Manager({ logger, leaderElected: leader.promise });
    manager.addInformer(informer).addController(controller);
    informer.sync();
    const started = manager.start();
    await settle();
    expect(manager.controllersStarted).toBe(false);
    leader.resolve();
    await started;
    expect(log.at(-1)).toBe('controller start');
  });

  it('never starts controllers when stopped while waiting for leadership', async () => {
    const log: string[] = [];
    const { informer, controller } = parts(log);
    const manager = new Manager({ logger, leaderElected: deferred().promise });
    manager.addInformer(informer).addController(controller);
    informer.sync();
    const started = manager.start();
    await settle();
    await manager.stop();
    await started;
    expect(log).not.toContain('controller start');
  });

  it('stops controllers with the grace period before it stops informers', async () => {
    const log: string[] = [];
    const { informer, controller } = parts(log);
    const manager = new Manager({ logger, gracefulShutdownMs: 7000 });
    manager.addInformer(informer).addController(controller);
    informer.sync();
    await manager.start();
    await manager.stop();
    expect(log.slice(-2)).toEqual(['controller stop', 'informer stop']);
    expect(controller.graceMs).toBe(7000);
  });

  it('stops only once however often stop is called', async () => {
    const log: string[] = [];
    const { informer, controller } = parts(log);
    const manager = new Manager({ logger }).addInformer(informer).addController(controller);
    await Promise.all([manager.stop(), manager.stop()]);
    expect(log.filter((l) => l === 'informer stop')).toHaveLength(1);
  });

  function election(log: string[]) {
    const won = deferred();
    const lost = deferred();
    const e: LeaderElection & { win(): void; lose(): void } = {
      acquire: () => won.promise.then(() => true),
      keepLeading: () => lost.promise.then(() => 'lost' as const),
      release: async () => void log.push('lease released'),
      win: won.resolve,
      lose: lost.resolve,
    };
    return e;
  }

  it('starts controllers once the leader election is won, and says so', async () => {
    const log: string[] = [];
    const { informer, controller } = parts(log);
    const elector = election(log);
    const leading: boolean[] = [];
    const manager = new Manager({ logger, leaderElection: elector, onLeadingChange: (l) => leading.push(l) });
    manager.addInformer(informer).addController(controller);
    informer.sync();
    const started = manager.start();
    await settle();
    expect([manager.controllersStarted, leading]).toEqual([false, []]);
    elector.win();
    await started;
    expect([manager.controllersStarted, leading]).toEqual([true, [true]]);
  });

  it('resolves leadershipLost when the lease is lost', async () => {
    const elector = election([]);
    const leading: boolean[] = [];
    const manager = new Manager({ logger, leaderElection: elector, onLeadingChange: (l) => leading.push(l) });
    elector.win();
    await manager.start();
    elector.lose();
    await manager.leadershipLost;
    expect(leading).toEqual([true, false]);
  });

  it('releases the lease only after controllers, informers and other runnables have stopped', async () => {
    const log: string[] = [];
    const { informer, controller } = parts(log);
    const elector = election(log);
    const manager = new Manager({ logger, leaderElection: elector })
      .addInformer(informer)
      .addController(controller);
    manager.addRunnable({
      name: 'observer',
      start: () => void log.push('runnable start'),
      stop: async () => void log.push('runnable stop'),
    });
    informer.sync();
    elector.win();
    await manager.start();
    await manager.stop();
    expect(log).toEqual([
      'informer start',
      'runnable start',
      'controller start',
      'controller stop',
      'informer stop',
      'runnable stop',
      'lease released',
    ]);
  });

  it('is not ready before caches sync, then as long as a ready check says why not', async () => {
    const { informer } = parts([]);
    let reason: string | undefined = 'first look not done';
    const manager = new Manager({ logger }).addInformer(informer).addReadyCheck(() => reason);
    expect(manager.ready()).toEqual({ ready: false, reason: 'caches not synced' });
    const started = manager.start();
    informer.sync();
    await started;
    await manager.cachesSynced();
    expect(manager.ready()).toEqual({ ready: false, reason: 'first look not done' });
    reason = undefined;
    expect(manager.ready()).toEqual({ ready: true });
  });

  it('fails to start when caches do not sync within the timeout', async () => {
    const clock = new ManualClock();
    const { informer } = parts([]);
    const manager = new Manager({ logger, clock, cacheSyncTimeoutMs: 5000 }).addInformer(informer);
    const started = manager.start();
    await settle();
    clock.advance(5000);
    await expect(started).rejects.toThrow('caches did not sync within 5000 ms');
  });
});

describe('runUntilSignalled', () => {
  function fakeManager() {
    const calls: string[] = [];
    let failStart = false;
    return {
      calls,
      failOnStart: () => {
        failStart = true;
      },
      start: async () => {
        calls.push('start');
        if (failStart) throw new Error('caches did not sync');
      },
      stop: async () => void calls.push('stop'),
    };
  }
  const source = () => new EventEmitter() as EventEmitter & SignalSource;

  it('stops the manager on SIGTERM and resolves exit code 0', async () => {
    const manager = fakeManager();
    const signals = source();
    const running = runUntilSignalled(manager, { logger, source: signals });
    await settle();
    signals.emit('SIGTERM');
    expect(await running).toBe(0);
    expect(manager.calls).toEqual(['start', 'stop']);
  });

  it('stops on SIGINT as well', async () => {
    const manager = fakeManager();
    const signals = source();
    const running = runUntilSignalled(manager, { logger, source: signals });
    signals.emit('SIGINT');
    expect(await running).toBe(0);
  });

  it('resolves exit code 1 after stopping when the manager fails to start', async () => {
    const manager = fakeManager();
    manager.failOnStart();
    expect(await runUntilSignalled(manager, { logger, source: source() })).toBe(1);
    expect(manager.calls).toEqual(['start', 'stop']);
  });

  it('exits at once on a second signal while stopping', async () => {
    const exits: number[] = [];
    const signals = source();
    const slowStop = deferred();
    const manager = { start: async () => {}, stop: () => slowStop.promise };
    const running = runUntilSignalled(manager, { logger, source: signals, exit: (c) => exits.push(c) });
    signals.emit('SIGTERM');
    await settle();
    signals.emit('SIGTERM');
    expect(exits).toEqual([1]);
    slowStop.resolve();
    await running;
  });

  it('stops the manager and resolves exit code 1 when the lease is lost', async () => {
    const lost = deferred();
    const manager = { ...fakeManager(), leadershipLost: lost.promise };
    const running = runUntilSignalled(manager, { logger, source: source() });
    await settle();
    lost.resolve();
    expect(await running).toBe(1);
    expect(manager.calls).toEqual(['start', 'stop']);
  });

  it('removes its signal listeners once done', async () => {
    const signals = source();
    const running = runUntilSignalled(fakeManager(), { logger, source: signals });
    signals.emit('SIGTERM');
    await running;
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
  });
});
