import type * as tfTypes from '@tensorflow/tfjs';
import type { CampaignEconomics } from '../economics/campaignEconomics.js';
import { evaluateClassifier } from '../evaluation/evaluateClassifier.js';
import { applyCalibration, type Calibration } from '../model/calibration.js';
import type { RowEncoder } from '../spec/rowEncoder.js';
import { chooseThresholds, type ThresholdChoice } from './chooseThresholds.js';
import { fitCalibration, type CalibrationChoice, type CalibrationMethod } from './fitCalibration.js';
import { foldCalibration } from './foldCalibration.js';
import type { TrainingTable } from './trainingTable.js';

/** Scores `rows` encoded rows; returns `rows × outputWidth` probabilities. */
export type Predict = (x: Float32Array, rows: number) => Promise<Float32Array>;

/** Where the calibration lives in the bundle. */
export type CalibrationPlacement = 'output-layer' | 'onnx-graph' | 'none';

/** The validation figures stored in the manifest (`metrics.validation`). */
export interface ValidationMetrics {
  readonly rows: number;
  readonly rocAuc: number;
  readonly logLoss: number;
  readonly expectedCalibrationError: { readonly beforeCalibration: number; readonly afterCalibration: number };
}

export interface CalibratedModel {
  readonly calibration: CalibrationChoice;
  readonly appliedIn: CalibrationPlacement;
  /** A calibration the ONNX graph appends after the model (isotonic); undefined when folded or none. */
  readonly graphCalibration: Calibration | undefined;
  /** The model's calibrated probabilities. */
  readonly predict: Predict;
  /** Calibrated validation probabilities (`rows × outputUnits`). */
  readonly validationProbabilities: Float32Array;
  readonly validationMetrics: ValidationMetrics;
  /** Binary models: the profit- and F1-optimal thresholds on the validation rows. */
  readonly thresholds: ThresholdChoice | undefined;
}

/** Raw held-out probabilities (`rows × outputUnits`), their labels and the records they came from. */
export interface HeldOutPredictions {
  readonly probabilities: Float32Array;
  readonly y: Int32Array;
  readonly records: Int32Array;
  readonly rows: number;
}

export interface CalibrateInput {
  readonly tf: typeof tfTypes;
  /** Platt and temperature calibrations are folded into its output layer (the model is changed). */
  readonly model: tfTypes.LayersModel;
  /** The model's raw probabilities. */
  readonly predict: Predict;
  /**
   * Rows the model did not learn from, with its raw probabilities on them: the validation rows of a
   * single model, or every fit row's out-of-fold probabilities for a cross-validated ensemble.
   */
  readonly heldOut: HeldOutPredictions;
  readonly method: CalibrationMethod;
  readonly classes: readonly string[];
  readonly outputUnits: number;
  readonly economics: CampaignEconomics;
  /** For an economics value column: the table and an encoder that finds the column. */
  readonly table: TrainingTable;
  readonly encoder: RowEncoder;
}

/**
 * Response values of the given records for the threshold choice: undefined when the economics
 * price every response the same, else the economics' value column (0 where it is not a number).
 * @throws ExtractError when the value column is not in the extract.
 * @example
 * responseValues({ costPerContact: 1, valuePerResponse: { column: 'spend' } }, encoder, table, Int32Array.of(0, 2)) // → Float64Array [120, 0]
 */
export function responseValues(economics: CampaignEconomics, encoder: RowEncoder, table: TrainingTable, records: ArrayLike<number>): Float64Array | undefined {
  if (typeof economics.valuePerResponse === 'number') return undefined;
  const index = encoder.valueIndex(economics.valuePerResponse.column);
  return Float64Array.from(records, (r) => Number(table.records[r]![index]) || 0);
}

/**
 * Fits the calibration on held-out probabilities (folding Platt or temperature into the output
 * layer, keeping isotonic as a step after the model), then, for a binary model, picks the profit-
 * and F1-optimal thresholds on the calibrated held-out probabilities under the spec's economics.
 */
export function calibrateAndChooseThresholds(input: CalibrateInput): CalibratedModel {
  const { heldOut, outputUnits, classes } = input;
  const rawValidation = heldOut.probabilities;
  const calibration = fitCalibration(input.method, rawValidation, heldOut.y, outputUnits);
  const folded = foldCalibration(input.tf, input.model, calibration.calibration);
  const graphCalibration = folded ? undefined : calibration.calibration;
  const calibrate = (p: Float32Array) => (graphCalibration ? applyCalibration(p, graphCalibration, outputUnits) : p);
  // The model learnt nothing from these rows, but an ensemble's out-of-fold rows cannot be re-scored
  // by the merged model (it learnt from them): the calibration is applied to the raw probabilities.
  const validationProbabilities = calibration.calibration ? applyCalibration(rawValidation, calibration.calibration, outputUnits) : rawValidation;
  const validation = heldOut;

  const thresholds =
    classes.length === 2
      ? chooseThresholds(validationProbabilities, validation.y, input.economics, responseValues(input.economics, input.encoder, input.table, validation.records))
      : undefined;

  const after = evaluateClassifier({ values: validationProbabilities, rows: validation.rows, width: outputUnits }, validation.y, classes);
  const before = evaluateClassifier({ values: rawValidation, rows: validation.rows, width: outputUnits }, validation.y, classes);
  return {
    calibration,
    appliedIn: folded ? 'output-layer' : graphCalibration ? 'onnx-graph' : 'none',
    graphCalibration,
    predict: async (x, rows) => calibrate(await input.predict(x, rows)),
    validationProbabilities,
    validationMetrics: {
      rows: validation.rows,
      rocAuc: after.rocAuc,
      logLoss: after.logLoss,
      expectedCalibrationError: { beforeCalibration: before.expectedCalibrationError, afterCalibration: after.expectedCalibrationError },
    },
    thresholds,
  };
}
