import { createRng, permutation } from '../training/seededRandom.js';
import type { FeatureImportance } from './evaluateClassifier.js';
import { classProbability, rocAuc, type ProbabilityMatrix } from './metrics.js';

/** One input column as the model sees it: the encoded slots it fills (one-hot slots, missing indicator…). */
export interface SlotGroup {
  readonly name: string;
  readonly slots: readonly number[];
}

export interface PermutationImportanceInput {
  /** Scores `rows` encoded rows; returns `rows × outputWidth` probabilities. */
  readonly predict: (x: Float32Array, rows: number) => Promise<Float32Array>;
  readonly x: Float32Array;
  readonly rows: number;
  readonly width: number;
  readonly outputWidth: number;
  readonly labels: Int32Array;
  readonly groups: readonly SlotGroup[];
  /** @default 3 */
  readonly repeats?: number;
  readonly seed: number;
}

/** ROC AUC for binary outputs, macro one-vs-rest ROC AUC for multiclass. */
export function aucScore(p: ProbabilityMatrix, labels: ArrayLike<number>): number {
  const classes = p.width === 1 ? 2 : p.width;
  const scores = new Float64Array(p.rows);
  const positive = new Uint8Array(p.rows);
  const one = (c: number) => {
    for (let r = 0; r < p.rows; r++) {
      scores[r] = classProbability(p, r, c);
      positive[r] = labels[r] === c ? 1 : 0;
    }
    return rocAuc(scores, positive);
  };
  if (classes === 2) return one(1);
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += one(c);
  return sum / classes;
}

/**
 * Permutation feature importance ("which metrics make a customer come back"): for each input
 * column, its slots are shuffled together across rows (so a one-hot stays one-hot) and the drop in
 * ROC AUC is measured, averaged over `repeats` seeded shuffles. Sorted, most important first.
 *
 * @example
 * const importance = await permutationImportance({ predict, x, rows, width, outputWidth: 1, labels, groups, seed: 1 });
 */
export async function permutationImportance(input: PermutationImportanceInput): Promise<FeatureImportance[]> {
  const { x, rows, width, outputWidth, labels } = input;
  const repeats = input.repeats ?? 3;
  const baseline = aucScore({ values: await input.predict(x, rows), rows, width: outputWidth }, labels);
  const rng = createRng(input.seed);
  const shuffled = new Float32Array(x.length);
  const results: FeatureImportance[] = [];
  for (const group of input.groups) {
    const drops: number[] = [];
    for (let repeat = 0; repeat < repeats; repeat++) {
      shuffled.set(x);
      const order = permutation(rows, rng);
      for (let r = 0; r < rows; r++) {
        const from = order[r]! * width;
        const to = r * width;
        for (const slot of group.slots) shuffled[to + slot] = x[from + slot]!;
      }
      const score = aucScore({ values: await input.predict(shuffled, rows), rows, width: outputWidth }, labels);
      drops.push(baseline - score);
    }
    const mean = drops.reduce((a, b) => a + b, 0) / drops.length;
    const std = Math.sqrt(drops.reduce((a, b) => a + (b - mean) ** 2, 0) / drops.length);
    results.push({ feature: group.name, importance: mean, std });
  }
  return results.sort((a, b) => b.importance - a.importance || (a.feature < b.feature ? -1 : 1));
}
