import { classCount, classProbability, expectedCalibrationError, thresholdSweep, type CalibrationBin, type ProbabilityMatrix } from './metrics.js';

/** One point of a ROC curve and of the precision–recall curve at the same threshold. */
export interface CurvePoint {
  readonly threshold: number;
  readonly falsePositiveRate: number;
  readonly truePositiveRate: number;
  readonly precision: number;
}

/** The curves the training report draws, a few KB in `metrics.curves` of the manifest. */
export interface TrainingCurves {
  /** Per class one-vs-rest (binary: the positive class only), on the held-out test rows, calibrated. */
  readonly roc: ReadonlyArray<{ readonly class: string; readonly points: readonly CurvePoint[] }>;
  /** Reliability on the test rows before and after the calibration fitted on the validation rows. */
  readonly reliability: { readonly before: readonly CalibrationBin[]; readonly after: readonly CalibrationBin[]; readonly eceBefore: number; readonly eceAfter: number };
}

/** Points kept per curve: a curve moves at most this share of the axis between two kept points. */
const STEP = 0.01;

/**
 * ROC and precision–recall points of `scores` against `positive`, one per distinct threshold, highest
 * first, thinned so consecutive points are about {@link STEP} apart on either axis (the first and last
 * are always kept). Empty when either class is absent.
 */
export function curvePoints(scores: ArrayLike<number>, positive: ArrayLike<boolean>): CurvePoint[] {
  const n = scores.length;
  let positives = 0;
  for (let i = 0; i < n; i++) if (positive[i]) positives++;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return [];
  const points: CurvePoint[] = [{ threshold: 1, falsePositiveRate: 0, truePositiveRate: 0, precision: 1 }];
  for (const { threshold, truePositives, seen } of thresholdSweep(scores, positive)) {
    const point = { threshold, falsePositiveRate: (seen - truePositives) / negatives, truePositiveRate: truePositives / positives, precision: truePositives / seen };
    const last = points.at(-1)!;
    if (seen === n || Math.abs(point.falsePositiveRate - last.falsePositiveRate) >= STEP || Math.abs(point.truePositiveRate - last.truePositiveRate) >= STEP) points.push(point);
  }
  return points;
}

/**
 * The training report's curves from the test rows' calibrated and uncalibrated probabilities.
 * @example trainingCurves({ values: calibrated, rows, width: 1 }, uncalibrated, labels, ['no', 'yes'])
 */
export function trainingCurves(calibrated: ProbabilityMatrix, uncalibrated: Float32Array, labels: ArrayLike<number>, classes: readonly string[]): TrainingCurves {
  const k = classCount(calibrated);
  const ofInterest = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
  const roc = ofInterest.map((c) => {
    const scores = Float64Array.from({ length: calibrated.rows }, (_, r) => classProbability(calibrated, r, c));
    const positive = Array.from({ length: calibrated.rows }, (_, r) => labels[r] === c);
    return { class: classes[c] ?? String(c), points: curvePoints(scores, positive) };
  });
  const before = expectedCalibrationError({ ...calibrated, values: uncalibrated }, labels);
  const after = expectedCalibrationError(calibrated, labels);
  return { roc, reliability: { before: before.bins, after: after.bins, eceBefore: before.ece, eceAfter: after.ece } };
}
