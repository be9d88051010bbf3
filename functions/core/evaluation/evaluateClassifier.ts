import {
  averagePrecision,
  classCount,
  classProbability,
  confusionMatrix,
  expectedCalibrationError,
  liftTable,
  logLoss,
  perClassReport,
  predictClasses,
  rocAuc,
  type CalibrationBin,
  type ClassReport,
  type LiftRow,
  type ProbabilityMatrix,
} from './metrics.js';

/** How a binary model does when customers with P(positive) ≥ threshold are called positive. */
export interface ThresholdReport {
  readonly name: string;
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Share of rows at or above the threshold (the contact rate). */
  readonly positiveRate: number;
  readonly confusionMatrix: number[][];
}

/** Permutation importance of one input column: how much the score drops when its values are shuffled. */
export interface FeatureImportance {
  readonly feature: string;
  /** Mean drop of ROC AUC (binary; macro one-vs-rest for multiclass) over the repeats. */
  readonly importance: number;
  readonly std: number;
}

/**
 * Everything the bundle records and `formatEvaluation` prints about a model on held-out rows.
 * Predicted classes (accuracy, F1, confusion) are argmax, i.e. threshold 0.5 for binary, as
 * scikit-learn's `predict`; other thresholds are in `thresholds`.
 */
export interface Evaluation {
  readonly task: 'binary' | 'multiclass';
  readonly classes: readonly string[];
  readonly rows: number;
  readonly classCounts: readonly number[];
  readonly accuracy: number;
  readonly perClass: readonly ClassReport[];
  readonly macroF1: number;
  /** Binary: ROC AUC of P(positive). Multiclass: macro average of one-vs-rest AUCs. */
  readonly rocAuc: number;
  readonly rocAucPerClass?: readonly number[];
  /** Average precision: binary of the positive class; multiclass the macro one-vs-rest average. */
  readonly prAuc: number;
  readonly logLoss: number;
  readonly confusionMatrix: readonly (readonly number[])[];
  readonly expectedCalibrationError: number;
  readonly calibrationBins: readonly CalibrationBin[];
  /** Binary only: decile lift/gains table by P(positive). */
  readonly lift?: readonly LiftRow[];
  readonly thresholds?: readonly ThresholdReport[];
  readonly featureImportance?: readonly FeatureImportance[];
  /** Which rows were held out (set by training), and for time-ordered data the random-split figure beside it. */
  readonly holdout?: HoldoutDescription;
}

/** The honest holdout an evaluation was computed on. */
export interface HoldoutDescription {
  readonly rows: number;
  /** `given rows`, `stratified 0.2`, or `latest 0.2 by file order (row a – row b)`. */
  readonly chosen: string;
  /**
   * Time-ordered data: the same model on a random holdout of earlier rows of the same size, also
   * kept out of fitting — the random-split figure to read the later period's figures against.
   */
  readonly inPeriod?: {
    readonly rows: number;
    readonly rocAuc: number;
    readonly accuracy: number;
    readonly logLoss: number;
    readonly expectedCalibrationError: number;
  };
}

/** Report of a binary model at one threshold. */
export function thresholdReport(name: string, p: ProbabilityMatrix, labels: ArrayLike<number>, threshold: number): ThresholdReport {
  const predicted = new Int32Array(p.rows);
  let positives = 0;
  for (let r = 0; r < p.rows; r++) {
    predicted[r] = classProbability(p, r, 1) >= threshold ? 1 : 0;
    positives += predicted[r]!;
  }
  const matrix = confusionMatrix(predicted, labels, 2);
  const positive = perClassReport(matrix, ['0', '1'])[1]!;
  return {
    name,
    threshold,
    precision: positive.precision,
    recall: positive.recall,
    f1: positive.f1,
    positiveRate: p.rows > 0 ? positives / p.rows : Number.NaN,
    confusionMatrix: matrix,
  };
}

/**
 * Evaluates class probabilities against true labels (class indices into `classes`).
 *
 * @param thresholds binary only: named thresholds to report (e.g. `{ 'max-profit': 0.12, 'max-f1': 0.3 }`).
 * @example
 * const evaluation = evaluateClassifier({ values: p, rows: p.length, width: 1 }, labels, ['no', 'yes']);
 * evaluation.rocAuc; // 0.79
 */
export function evaluateClassifier(
  p: ProbabilityMatrix,
  labels: ArrayLike<number>,
  classes: readonly string[],
  options: { thresholds?: Record<string, number>; calibrationBins?: number } = {},
): Evaluation {
  const k = classCount(p);
  if (k !== classes.length) throw new RangeError(`probabilities describe ${k} classes, but ${classes.length} class names were given`);
  if (labels.length !== p.rows) throw new RangeError(`${labels.length} labels for ${p.rows} rows`);
  const predicted = predictClasses(p);
  const matrix = confusionMatrix(predicted, labels, k);
  const perClass = perClassReport(matrix, classes);
  let correct = 0;
  for (let r = 0; r < p.rows; r++) if (predicted[r] === labels[r]) correct++;
  const classCounts = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const { ece, bins } = expectedCalibrationError(p, labels, options.calibrationBins ?? 10);
  const base = {
    classes: [...classes],
    rows: p.rows,
    classCounts,
    accuracy: p.rows > 0 ? correct / p.rows : Number.NaN,
    perClass,
    macroF1: perClass.reduce((sum, c) => sum + c.f1, 0) / k,
    logLoss: logLoss(p, labels),
    confusionMatrix: matrix,
    expectedCalibrationError: ece,
    calibrationBins: bins,
  };

  if (k === 2) {
    const scores = new Float64Array(p.rows);
    const positive = new Uint8Array(p.rows);
    for (let r = 0; r < p.rows; r++) {
      scores[r] = classProbability(p, r, 1);
      positive[r] = labels[r] === 1 ? 1 : 0;
    }
    return {
      task: 'binary',
      ...base,
      rocAuc: rocAuc(scores, positive),
      prAuc: averagePrecision(scores, positive),
      lift: liftTable(scores, positive),
      thresholds: Object.entries(options.thresholds ?? {}).map(([name, t]) => thresholdReport(name, p, labels, t)),
    };
  }

  const aucs: number[] = [];
  const aps: number[] = [];
  const scores = new Float64Array(p.rows);
  const positive = new Uint8Array(p.rows);
  for (let c = 0; c < k; c++) {
    for (let r = 0; r < p.rows; r++) {
      scores[r] = classProbability(p, r, c);
      positive[r] = labels[r] === c ? 1 : 0;
    }
    aucs.push(rocAuc(scores, positive));
    aps.push(averagePrecision(scores, positive));
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return { task: 'multiclass', ...base, rocAuc: mean(aucs), rocAucPerClass: aucs, prAuc: mean(aps) };
}
