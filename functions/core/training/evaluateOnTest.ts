import { evaluateClassifier, type Evaluation, type FeatureImportance } from '../evaluation/evaluateClassifier.js';
import { permutationImportance } from '../evaluation/permutationImportance.js';
import type { FittedSpec } from '../spec/featureSpec.js';
import type { Predict } from './calibrateAndChooseThresholds.js';
import type { ThresholdChoice } from './chooseThresholds.js';
import type { EncodedRecords } from './encodeSplits.js';
import { featureSlotGroups } from './featureSlotGroups.js';

export interface EvaluateOnTestInput {
  /** The calibrated model. */
  readonly predict: Predict;
  readonly test: EncodedRecords;
  readonly fitted: FittedSpec;
  readonly classes: readonly string[];
  readonly width: number;
  readonly outputUnits: number;
  readonly thresholds: ThresholdChoice | undefined;
  /** Permutation importance repeats (0 = skip). */
  readonly importanceRepeats: number;
  readonly importanceSeed: number;
}

export interface TestEvaluation {
  /** Calibrated test probabilities (`rows × outputUnits`). */
  readonly probabilities: Float32Array;
  /** With the permutation importance of each feature group. */
  readonly evaluation: Evaluation;
  /** Permutation importance per feature group (empty when skipped), as in `evaluation`. */
  readonly importance: readonly FeatureImportance[];
}

/**
 * Scores the held-out test rows with the calibrated model and evaluates them: the threshold report
 * at the chosen thresholds and at 0.5 (binary), and the permutation importance per feature group.
 */
export async function evaluateOnTest(input: EvaluateOnTestInput): Promise<TestEvaluation> {
  const { test, outputUnits, thresholds } = input;
  const probabilities = await input.predict(test.x, test.rows);
  const importance: FeatureImportance[] =
    input.importanceRepeats > 0
      ? await permutationImportance({
          predict: input.predict,
          x: test.x,
          rows: test.rows,
          width: input.width,
          outputWidth: outputUnits,
          labels: test.y,
          groups: featureSlotGroups(input.fitted).groups,
          repeats: input.importanceRepeats,
          seed: input.importanceSeed,
        })
      : [];
  const evaluation: Evaluation = {
    ...evaluateClassifier({ values: probabilities, rows: test.rows, width: outputUnits }, test.y, input.classes, {
      ...(thresholds ? { thresholds: { 'max-expected-profit': thresholds.maxExpectedProfit.threshold, 'max-f1': thresholds.maxF1.threshold, 'p ≥ 0.5': 0.5 } } : {}),
    }),
    featureImportance: importance,
  };
  return { probabilities, evaluation, importance };
}
