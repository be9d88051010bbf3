/**
 * Classification metrics on plain arrays, matching scikit-learn's definitions so our figures
 * sit next to the baselines in `bench/quality` without caveats.
 */

/** Probabilities as the model emits them: `rows × width`, width 1 = P(positive) of a binary model. */
export interface ProbabilityMatrix {
  readonly values: ArrayLike<number>;
  readonly rows: number;
  readonly width: number;
}

/** Probability of class `k` for row `r`, whether the matrix holds P(positive) only or all classes. */
export function classProbability(p: ProbabilityMatrix, r: number, k: number): number {
  if (p.width === 1) {
    const positive = p.values[r]!;
    return k === 1 ? positive : 1 - positive;
  }
  return p.values[r * p.width + k]!;
}

/** Number of classes the matrix describes (2 for a one-column binary output). */
export function classCount(p: ProbabilityMatrix): number {
  return p.width === 1 ? 2 : p.width;
}

/** Predicted class per row: argmax, or `p ≥ threshold` for a one-column binary output. */
export function predictClasses(p: ProbabilityMatrix, threshold = 0.5): Int32Array {
  const out = new Int32Array(p.rows);
  for (let r = 0; r < p.rows; r++) {
    if (p.width === 1) {
      out[r] = p.values[r]! >= threshold ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let k = 1; k < p.width; k++) if (p.values[r * p.width + k]! > p.values[r * p.width + best]!) best = k;
    out[r] = best;
  }
  return out;
}

/**
 * ROC AUC by the rank-sum (Mann–Whitney) formula, ties counted half: the probability that a random
 * positive scores above a random negative. NaN when either class is absent.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<number | boolean>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (positive[order[k]!]) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * {@link rocAuc} from counts per distinct score (ascending): `positives[i]` and `negatives[i]` rows
 * hold the i-th smallest score. Ties count half, as there; NaN when either class is absent. Memory
 * is the number of distinct scores, not of rows (a labelled run keeps only these counts).
 * @example rocAucOfCounts([0, 1], [1, 0]) // 1: the one positive outscores the one negative
 */
export function rocAucOfCounts(positives: ArrayLike<number>, negatives: ArrayLike<number>): number {
  let totalPositives = 0;
  let negativesBelow = 0;
  let wins = 0;
  for (let i = 0; i < positives.length; i++) {
    wins += positives[i]! * (negativesBelow + negatives[i]! / 2);
    totalPositives += positives[i]!;
    negativesBelow += negatives[i]!;
  }
  if (totalPositives === 0 || negativesBelow === 0) return Number.NaN;
  return wins / (totalPositives * negativesBelow);
}

/**
 * {@link averagePrecision} from counts per distinct score (ascending, as {@link rocAucOfCounts}):
 * Σ (Rₙ − Rₙ₋₁)·Pₙ over the distinct scores, highest first.
 */
export function averagePrecisionOfCounts(positives: ArrayLike<number>, negatives: ArrayLike<number>): number {
  let totalPositives = 0;
  for (let i = 0; i < positives.length; i++) totalPositives += positives[i]!;
  if (totalPositives === 0) return Number.NaN;
  let truePositives = 0;
  let seen = 0;
  let previousRecall = 0;
  let ap = 0;
  for (let i = positives.length - 1; i >= 0; i--) {
    truePositives += positives[i]!;
    seen += positives[i]! + negatives[i]!;
    const recall = truePositives / totalPositives;
    ap += (recall - previousRecall) * (truePositives / seen);
    previousRecall = recall;
  }
  return ap;
}

/**
 * Area under the precision–recall curve as average precision (scikit-learn's
 * `average_precision_score`): Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct score thresholds, highest first.
 */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<number | boolean>): number {
  let totalPositives = 0;
  for (let i = 0; i < scores.length; i++) if (positive[i]) totalPositives++;
  if (totalPositives === 0) return Number.NaN;
  let previousRecall = 0;
  let ap = 0;
  for (const { truePositives, seen } of thresholdSweep(scores, positive)) {
    const recall = truePositives / totalPositives;
    ap += (recall - previousRecall) * (truePositives / seen);
    previousRecall = recall;
  }
  return ap;
}

/**
 * Every distinct score as a threshold, highest first: the rows at or above it (`seen`) and the
 * positives among them. Ties move together, as scikit-learn's curves do.
 */
export function* thresholdSweep(scores: ArrayLike<number>, positive: ArrayLike<number | boolean>): Generator<{ readonly threshold: number; readonly truePositives: number; readonly seen: number }> {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let truePositives = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    for (let k = i; k <= j; k++) if (positive[order[k]!]) truePositives++;
    yield { threshold: scores[order[i]!]!, truePositives, seen: j + 1 };
    i = j + 1;
  }
}

/** Mean negative log-likelihood of the true class, probabilities clipped to [1e-15, 1 − 1e-15] as scikit-learn does. */
export function logLoss(p: ProbabilityMatrix, labels: ArrayLike<number>): number {
  const eps = 1e-15;
  let sum = 0;
  for (let r = 0; r < p.rows; r++) {
    const q = Math.min(Math.max(classProbability(p, r, labels[r]!), eps), 1 - eps);
    sum -= Math.log(q);
  }
  return p.rows === 0 ? Number.NaN : sum / p.rows;
}

/** Counts with actual classes as rows and predicted classes as columns. */
export function confusionMatrix(predicted: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]!]![predicted[i]!]!++;
  return m;
}

export interface ClassReport {
  readonly class: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

/** Precision, recall and F1 per class from a confusion matrix; 0 where undefined (scikit-learn's `zero_division=0`). */
export function perClassReport(matrix: number[][], classes: readonly string[]): ClassReport[] {
  return classes.map((name, k) => {
    const tp = matrix[k]![k]!;
    const support = matrix[k]!.reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((sum, row) => sum + row[k]!, 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { class: name, precision, recall, f1, support };
  });
}

export interface CalibrationBin {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  readonly meanPredicted: number;
  readonly observedRate: number;
}

/**
 * Expected calibration error over `bins` equal-width bins: Σ (nᵦ/n)·|mean predicted − observed rate|.
 * Binary outputs are judged on P(positive), the probability ROI is computed from; multiclass
 * outputs on the top-class confidence against its accuracy.
 */
export function expectedCalibrationError(p: ProbabilityMatrix, labels: ArrayLike<number>, bins = 10): { ece: number; bins: CalibrationBin[] } {
  const count = new Float64Array(bins);
  const predictedSum = new Float64Array(bins);
  const observedSum = new Float64Array(bins);
  const binary = classCount(p) === 2;
  const predicted = binary ? null : predictClasses(p);
  for (let r = 0; r < p.rows; r++) {
    const confidence = binary ? classProbability(p, r, 1) : classProbability(p, r, predicted![r]!);
    const hit = binary ? (labels[r] === 1 ? 1 : 0) : predicted![r] === labels[r] ? 1 : 0;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(confidence * bins)));
    count[b]!++;
    predictedSum[b]! += confidence;
    observedSum[b]! += hit;
  }
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    if (count[b] === 0) continue;
    const meanPredicted = predictedSum[b]! / count[b]!;
    const observedRate = observedSum[b]! / count[b]!;
    ece += (count[b]! / p.rows) * Math.abs(meanPredicted - observedRate);
    out.push({ lower: b / bins, upper: (b + 1) / bins, count: count[b]!, meanPredicted, observedRate });
  }
  return { ece: p.rows === 0 ? Number.NaN : ece, bins: out };
}

export interface LiftRow {
  /** 1 = the highest-scored tenth. */
  readonly decile: number;
  readonly rows: number;
  readonly positives: number;
  readonly responseRate: number;
  /** Response rate of this decile over the overall rate. */
  readonly lift: number;
  /** Share of all positives found in deciles 1…d. */
  readonly cumulativeGain: number;
  readonly cumulativeLift: number;
  readonly minScore: number;
  readonly maxScore: number;
}

/**
 * Decile lift/gains table: rows sorted by score, highest first (ties by row order), cut into
 * `groups` parts of equal size (the first parts take one extra row when it does not divide).
 */
export function liftTable(scores: ArrayLike<number>, positive: ArrayLike<number | boolean>, groups = 10): LiftRow[] {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  let totalPositives = 0;
  for (let i = 0; i < n; i++) if (positive[i]) totalPositives++;
  const overall = n > 0 ? totalPositives / n : 0;
  const rowsOut: LiftRow[] = [];
  let start = 0;
  let cumulativeRows = 0;
  let cumulativePositives = 0;
  for (let d = 0; d < groups && start < n; d++) {
    const size = Math.floor(n / groups) + (d < n % groups ? 1 : 0);
    if (size === 0) continue;
    let positives = 0;
    let minScore = Number.POSITIVE_INFINITY;
    let maxScore = Number.NEGATIVE_INFINITY;
    for (let i = start; i < start + size; i++) {
      const row = order[i]!;
      if (positive[row]) positives++;
      minScore = Math.min(minScore, scores[row]!);
      maxScore = Math.max(maxScore, scores[row]!);
    }
    cumulativeRows += size;
    cumulativePositives += positives;
    const responseRate = positives / size;
    rowsOut.push({
      decile: d + 1,
      rows: size,
      positives,
      responseRate,
      lift: overall > 0 ? responseRate / overall : Number.NaN,
      cumulativeGain: totalPositives > 0 ? cumulativePositives / totalPositives : Number.NaN,
      cumulativeLift: overall > 0 ? cumulativePositives / cumulativeRows / overall : Number.NaN,
      minScore,
      maxScore,
    });
    start += size;
  }
  return rowsOut;
}
