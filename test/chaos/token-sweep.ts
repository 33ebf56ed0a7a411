// Scenario 7's check, run at the end of every chaos file: the API token must not appear in any
// line any operator process wrote, any Event in the namespace, or any VpsServer (status
// included). Returns where it was seen, so a failure points at the leak.
import { CoreV1Api } from '@kubernetes/client-node';
import { expect, it } from 'vitest';
import { TOKEN } from '../support/operator-env.ts';
import { listResources } from './invariants.ts';
import type { ChaosWorld } from './world.ts';

export interface Sweep {
  /** How much was searched, so a sweep over nothing cannot pass unnoticed. */
  searched: { lines: number; events: number; resources: number };
  sightings: string[];
}

export async function sweepForToken(world: ChaosWorld, token = TOKEN): Promise<Sweep> {
  const lines = world.allLines();
  const events = (
    await world.env.admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: world.env.namespace })
  ).items;
  const resources = await listResources(world.env);
  const sightings = [
    ...lines.filter((l) => l.includes(token)).map((l) => `log: ${l}`),
    ...events.filter((e) => JSON.stringify(e).includes(token)).map((e) => `event: ${e.reason} ${e.message}`),
    ...resources.filter((r) => JSON.stringify(r).includes(token)).map((r) => `resource: ${r.metadata?.name}`),
  ];
  return { searched: { lines: lines.length, events: events.length, resources: resources.length }, sightings };
}

/** Registers a file's token test: no sighting of any of `tokens`, over at least `minLines` lines. */
export function itNeverLeaksTheToken(world: () => ChaosWorld, minLines: number, tokens = [TOKEN]): void {
  it('never wrote the API token into a log line, an Event or a resource', async () => {
    for (const token of tokens) {
      const sweep = await sweepForToken(world(), token);
      expect(sweep.searched.lines).toBeGreaterThan(minLines);
      expect(sweep.sightings).toEqual([]);
    }
  });
}
