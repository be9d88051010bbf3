import { createRng, shuffleInPlace } from './seededRandom.js';

/** Row indices of the two parts of a split, each sorted ascending. */
export interface Split {
  readonly train: Int32Array;
  readonly holdout: Int32Array;
}

/** The rows (default: all) grouped by class, each group in row order. */
function rowsByClass(labels: Int32Array, rows?: Int32Array): Map<number, number[]> {
  const pool = rows ?? Int32Array.from({ length: labels.length }, (_, i) => i);
  const byClass = new Map<number, number[]>();
  for (const row of pool) {
    const label = labels[row]!;
    let members = byClass.get(label);
    if (!members) byClass.set(label, (members = []));
    members.push(row);
  }
  return byClass;
}

/**
 * Stratified split: within each class, a seeded shuffle sends `round(count × fraction)` rows to the
 * holdout (at least one when the class has two or more rows), so class balance is the same in both parts.
 *
 * @param labels class index per row.
 * @param fraction share of rows for the holdout, in (0, 1).
 * @param rows optional subset of row indices to split (default: all rows).
 * @example
 * const { train, holdout } = stratifiedSplit(Int32Array.of(0, 0, 1, 1, 0, 1), 0.5, 7);
 */
export function stratifiedSplit(labels: Int32Array, fraction: number, seed: number, rows?: Int32Array): Split {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`split fraction must be in (0, 1), got ${fraction}`);
  const byClass = rowsByClass(labels, rows);
  const rng = createRng(seed);
  const train: number[] = [];
  const holdout: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = shuffleInPlace(byClass.get(label)!, rng);
    let take = Math.round(members.length * fraction);
    if (take === 0 && members.length >= 2) take = 1;
    if (take === members.length && members.length >= 2) take = members.length - 1;
    holdout.push(...members.slice(0, take));
    train.push(...members.slice(take));
  }
  return { train: Int32Array.from(train).sort(), holdout: Int32Array.from(holdout).sort() };
}

/** The rows of `all` (0…n−1) not in `excluded`, ascending. */
export function complementRows(n: number, excluded: Iterable<number>): Int32Array {
  const mask = new Uint8Array(n);
  for (const row of excluded) {
    if (row < 0 || row >= n) throw new RangeError(`row index ${row} is outside 0…${n - 1}`);
    mask[row] = 1;
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!mask[i]) out.push(i);
  return Int32Array.from(out);
}

/**
 * Stratified K-fold: within each class, a seeded shuffle deals the rows to the folds in turn
 * (each class starting where the previous one stopped), so every fold has the class balance of
 * the whole and the fold sizes differ by at most one.
 * @param rows the row indices to divide (default: all rows).
 * @returns `k` folds of row indices, each ascending.
 * @example
 * stratifiedFolds(Int32Array.of(0, 0, 1, 1), 2, 7) // → two folds, each with one row of each class
 */
export function stratifiedFolds(labels: Int32Array, k: number, seed: number, rows?: Int32Array): Int32Array[] {
  if (!(Number.isInteger(k) && k >= 2)) throw new RangeError(`folds must be an integer ≥ 2, got ${k}`);
  const byClass = rowsByClass(labels, rows);
  const rng = createRng(seed);
  const folds: number[][] = Array.from({ length: k }, () => []);
  let next = 0;
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    for (const row of shuffleInPlace(byClass.get(label)!, rng)) {
      folds[next]!.push(row);
      next = (next + 1) % k;
    }
  }
  return folds.map((fold) => Int32Array.from(fold).sort());
}
