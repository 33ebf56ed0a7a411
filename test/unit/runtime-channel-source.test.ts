// ChannelSource: changes from outside Kubernetes become keys on the queue of every controller
// that watches the source, through the mapping it was built with.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ChannelSource } from '../../src/runtime/channel-source.ts';
import { Controller } from '../../src/runtime/controller.ts';
import { done } from '../../src/runtime/reconciler.ts';

const logger = pino({ level: 'silent' });

describe('ChannelSource', () => {
  it('enqueues the keys its mapping gives for each change sent', () => {
    const source = new ChannelSource<number[]>((ids) => ids.filter((id) => id > 1).map((id) => `ns/s-${id}`));
    const keys: string[] = [];
    source.bind((k) => keys.push(k));
    source.send([1, 2, 3]);
    expect(keys).toEqual(['ns/s-2', 'ns/s-3']);
  });

  it('drops changes sent before any controller watches it', () => {
    const source = new ChannelSource<string>((k) => [k]);
    source.send('ns/early');
    const keys: string[] = [];
    source.bind((k) => keys.push(k));
    expect(keys).toEqual([]);
  });

  it('feeds the queue of the controller that watches it', () => {
    const source = new ChannelSource<string>((k) => [k]);
    const controller = new Controller({ name: 't', logger, reconciler: { reconcile: async () => done() } });
    controller.watch(source);
    source.send('ns/a');
    expect(controller.queue.length).toBe(1);
  });
});
