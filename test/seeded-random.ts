/**
 * @module The one seeded random source of the tests, fixtures, benchmarks and demo: the same
 * seed draws the same data, so a failing run can be replayed. mulberry32: small and fast,
 * not for secrets. Kept here rather than taken from pure-rand so every existing seed keeps
 * drawing the sequence it always drew, and the demo needs no dev dependency.
 */

/** A seeded stand-in for Math.random: each call returns the next number in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
