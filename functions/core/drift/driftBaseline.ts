import { z } from 'zod';
import { DriftError } from '../errors.js';
import { parseWith } from '../validation.js';

/**
 * The drift baseline: what the model's inputs and scores looked like when it was trained. Written
 * by {@link BaselineBuilder} at training time and stored in the bundle manifest's `baseline` field;
 * every scoring run counts its rows on these same bins (see `RunProfile`), so comparing a run with
 * the baseline never needs the training data again.
 */

const numericFeatureBaselineSchema = z
  .object({
    name: z.string().min(1),
    kind: z.literal('numeric'),
    /**
     * Interior bin edges, strictly increasing (training deciles, ties merged). Bins are right-closed:
     * bin 0 is `v ≤ edges[0]`, bin i is `edges[i-1] < v ≤ edges[i]`, the last bin is `v > edges[last]`.
     */
    edges: z.array(z.number()),
    /** Share of non-missing training values in each bin; `edges.length + 1` entries. */
    proportions: z.array(z.number().min(0).max(1)),
    mean: z.number(),
    /** Population standard deviation of the non-missing values. */
    std: z.number().nonnegative(),
    min: z.number(),
    max: z.number(),
    missingRate: z.number().min(0).max(1),
  })
  .strict()
  .refine((f) => f.proportions.length === f.edges.length + 1, { message: 'proportions needs one entry more than edges' })
  .refine((f) => f.edges.every((e, i) => i === 0 || e > f.edges[i - 1]!), { message: 'edges must be strictly increasing' });

const categoricalFeatureBaselineSchema = z
  .object({
    name: z.string().min(1),
    kind: z.literal('categorical'),
    /** The fitted vocabulary, one entry per slot (includes the `other` slot that also takes unseen values). */
    categories: z.array(z.string()).min(1),
    otherIndex: z.number().int().nonnegative(),
    /** Share of non-missing training values per slot. */
    proportions: z.array(z.number().min(0).max(1)),
    missingRate: z.number().min(0).max(1),
  })
  .strict()
  .refine((f) => f.proportions.length === f.categories.length, { message: 'one proportion per category' })
  .refine((f) => f.otherIndex < f.categories.length, { message: 'otherIndex outside categories' });

export const featureBaselineSchema = z.union([numericFeatureBaselineSchema, categoricalFeatureBaselineSchema]);

export const scoreBaselineSchema = z
  .object({
    /** Interior edges of the score bins (deciles of the held-out scores), right-closed as for features. */
    edges: z.array(z.number()),
    proportions: z.array(z.number().min(0).max(1)),
    mean: z.number(),
    /** Held-out rows the score distribution was taken from (the training's test holdout, scored by the shipped model). */
    rows: z.number().int().positive(),
  })
  .strict()
  .refine((s) => s.proportions.length === s.edges.length + 1, { message: 'proportions needs one entry more than edges' });

export const driftBaselineSchema = z
  .object({
    schemaVersion: z.literal(1),
    /** Content hash of the bins: a run profile records it, so profiles are only compared with the bins they were counted on. */
    id: z.string().min(1),
    createdAt: z.string(),
    /** Training rows the feature distributions were taken from. */
    rows: z.number().int().positive(),
    /** One entry per feature column of the fitted spec, in the row encoder's observer order. */
    features: z.array(featureBaselineSchema).min(1),
    /** Score distribution on held-out rows; absent when the model was not scored at training time. */
    score: scoreBaselineSchema.optional(),
    /** Importance per feature name (any non-negative scale, higher is more important). */
    featureImportance: z.record(z.string(), z.number()).default({}),
  })
  .strict();

export type NumericFeatureBaseline = z.infer<typeof numericFeatureBaselineSchema>;
export type CategoricalFeatureBaseline = z.infer<typeof categoricalFeatureBaselineSchema>;
export type FeatureBaseline = z.infer<typeof featureBaselineSchema>;
export type ScoreBaseline = z.infer<typeof scoreBaselineSchema>;
export type DriftBaseline = z.infer<typeof driftBaselineSchema>;

/**
 * Validates a baseline, e.g. the `baseline` field of a bundle manifest.
 * @throws DriftError naming the source and the first invalid path.
 */
export function parseDriftBaseline(value: unknown, source = 'drift baseline'): DriftBaseline {
  return parseWith(driftBaselineSchema, value, ({ path, message }) => new DriftError(`${source}: ${path}: ${message}`));
}

/**
 * Index of the right-closed bin that holds `value` (binary search over `edges`).
 *
 * @example
 * binIndex([10, 20], 10); // 0
 * binIndex([10, 20], 15); // 1
 * binIndex([10, 20], 99); // 2
 */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
