import type { BaselineBuilder } from '../drift/baselineBuilder.js';
import type { DriftBaseline } from '../drift/driftBaseline.js';
import type { FeatureImportance } from '../evaluation/evaluateClassifier.js';
import type { FittedSpec } from '../spec/featureSpec.js';
import { featureSlotGroups } from './featureSlotGroups.js';

/**
 * Permutation importance per spec column: a group's importance (floored at 0) shared equally
 * among its columns (a sequence feature's periods, a cross's sources), as the drift report weighs features.
 * @example
 * columnImportance([{ feature: 'x1', importance: 0.2, std: 0 }], fitted) // → { x1: 0.2 }
 */
export function columnImportance(importance: readonly FeatureImportance[], fitted: FittedSpec): Record<string, number> {
  const { columnsOf } = featureSlotGroups(fitted);
  const byColumn: Record<string, number> = {};
  for (const f of importance) {
    const columns = columnsOf.get(f.feature) ?? [f.feature];
    // A column can be in two groups (its own and a cross's): its shares add up.
    for (const column of columns) byColumn[column] = (byColumn[column] ?? 0) + Math.max(0, f.importance) / columns.length;
  }
  return byColumn;
}

/**
 * The drift baseline stored in the bundle: the training-row distributions the builder observed
 * while encoding, the shipped model's calibrated scores on held-out rows, and the importance per column.
 */
export function buildBaseline(
  builder: BaselineBuilder,
  input: {
    readonly fitted: FittedSpec;
    readonly importance: readonly FeatureImportance[];
    /** The shipped model's calibrated probabilities on rows it did not learn from (the test holdout), `rows × outputUnits`. */
    readonly heldOutProbabilities: Float32Array;
    readonly rows: number;
    readonly outputUnits: number;
    readonly createdAt: Date;
  },
): { baseline: DriftBaseline; featureImportance: Record<string, number> } {
  const featureImportance = columnImportance(input.importance, input.fitted);
  builder.score(input.heldOutProbabilities, input.rows, input.outputUnits);
  return { baseline: builder.build({ featureImportance, createdAt: input.createdAt.toISOString() }), featureImportance };
}
