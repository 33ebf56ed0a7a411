// What a VPS.org account can order: plans (with the credits a create costs), OS images and
// locations. Defaults are the values of the provider's doc samples so the simulator answers
// like the docs; a config file or the options can add entries (same id/code replaces).

import type { WireOs, WirePlanDetail } from '../vpsorg/wire.ts';

/** A plan as the API shows it (detail shape), plus what one create of it costs. */
export interface CataloguePlan extends WirePlanDetail {
  /** Credits deducted from the account when a server of this plan is created. */
  cost: number;
}

export interface Catalogue {
  plans: CataloguePlan[];
  os: WireOs[];
  /** Data-centre location codes, e.g. `us-west`. */
  locations: string[];
}

/** Entries to add to (or replace in) the default catalogue. */
export type CatalogueInput = Partial<Catalogue>;

export const DEFAULT_CATALOGUE: Catalogue = {
  plans: [
    { id: 1, name: 'Standard VPS', vcpus: 2, memory: 4096, storage: 80, bandwidth: 2048, cost: 5 },
    { id: 2, name: 'Performance VPS', vcpus: 4, memory: 8192, storage: 160, bandwidth: 4096, cost: 10 },
  ],
  os: [
    { id: 3, name: 'Debian 12' },
    { id: 5, name: 'Ubuntu 22.04 LTS' },
  ],
  locations: ['us-west', 'us-east'],
};

/** The defaults with `extra` merged in: an entry with an existing id (or location code) replaces it. */
export function buildCatalogue(extra: CatalogueInput = {}): Catalogue {
  const byId = <T extends { id: number }>(base: T[], add: T[] = []): T[] => {
    const merged = new Map(base.map((item) => [item.id, item]));
    for (const item of add) merged.set(item.id, item);
    return [...merged.values()].sort((a, b) => a.id - b.id);
  };
  return {
    plans: byId(DEFAULT_CATALOGUE.plans, extra.plans),
    os: byId(DEFAULT_CATALOGUE.os, extra.os),
    locations: [...new Set([...DEFAULT_CATALOGUE.locations, ...(extra.locations ?? [])])],
  };
}
