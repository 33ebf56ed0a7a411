// The simulator's only source of randomness: a small seeded PRNG (mulberry32) so provisioning
// times and injected faults repeat exactly for a given seed. Math.random() cannot be seeded,
// and a test of "20 % of requests fail" must not be flaky.

/** Returns a float in [0, 1), like Math.random(). */
export type Random = () => number;

/** A deterministic generator for `seed` (any 32-bit integer). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniformly drawn number in [min, max]. */
export function uniform(random: Random, min: number, max: number): number {
  return min + (max - min) * random();
}
