/**
 * Seeded randomness for training: every shuffle, split, initializer and dropout mask derives
 * from one seed, so the same data, spec and seed give the same model and the same metrics.
 */

/** A function returning uniform floats in [0, 1), like `Math.random`. */
export type Rng = () => number;

/**
 * mulberry32: a small, fast 32-bit generator; plenty for shuffles and initial weights.
 * @example
 * const rng = createRng(42); rng(); // 0.6011037519201636
 */
export function createRng(seed: number): Rng {
  return mulberry32(Math.trunc(seed) ^ 0x9e3779b9);
}

/** The bare mulberry32 generator on a 32-bit state (`createRng` mixes the seed first). */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A child seed from a parent seed and a label, so independent streams (split, search, fit) do not overlap. */
export function deriveSeed(seed: number, label: string): number {
  let h = (Math.trunc(seed) ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T extends { length: number; [index: number]: unknown }>(items: T, rng: Rng): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/** A random permutation of 0…n−1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return shuffleInPlace(order, rng);
}

let seededDepth = 0;

/**
 * Runs `fn` with `Math.random` replaced by a seeded generator, then restores it.
 *
 * Why: tfjs draws unseeded dropout masks, initial weights and `fit` shuffles from `Math.random`;
 * a seeded layer seed would repeat the *same* dropout mask on every batch. Nesting is refused, as
 * two interleaved training runs would share the stream and lose determinism.
 */
export async function withSeededMathRandom<T>(seed: number, fn: () => T | Promise<T>): Promise<T> {
  if (seededDepth > 0) throw new Error('withSeededMathRandom: training runs cannot be nested or run concurrently in one process');
  const original = Math.random;
  seededDepth++;
  Math.random = createRng(seed);
  try {
    return await fn();
  } finally {
    Math.random = original;
    seededDepth--;
  }
}
