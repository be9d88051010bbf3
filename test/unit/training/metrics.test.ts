import { describe, expect, it } from 'vitest';
import { evaluateClassifier, thresholdReport } from '../../../functions/core/evaluation/evaluateClassifier.js';
import { formatEvaluation } from '../../../functions/core/evaluation/formatEvaluation.js';
import {
  averagePrecision,
  confusionMatrix,
  expectedCalibrationError,
  liftTable,
  logLoss,
  perClassReport,
  predictClasses,
  rocAuc,
} from '../../../functions/core/evaluation/metrics.js';
import { permutationImportance } from '../../../functions/core/evaluation/permutationImportance.js';

// A small binary case worked by hand (and checked against scikit-learn 1.2.1):
// positives score 0.35, 0.8, 0.4, 0.9; negatives 0.1, 0.4, 0.2, 0.6 (one tie at 0.4).
const scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.6];
const labels = [0, 0, 1, 1, 1, 1, 0, 0];

describe('binary ranking metrics', () => {
  it('ROC AUC counts a tied pair as half: 12.5 of 16 pairs', () => {
    expect(rocAuc(scores, labels)).toBeCloseTo(12.5 / 16, 12);
  });

  it('ROC AUC is NaN when a class is absent, 1 for a perfect ranking, 0 for a reversed one', () => {
    expect(rocAuc([0.2, 0.3], [1, 1])).toBeNaN();
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
  });

  it('average precision steps over distinct thresholds: 0.25 + 0.25 + 0.75·0.6 … = 0.81667', () => {
    // thresholds 0.9, 0.8 (precision 1), 0.6 (no recall gain), 0.4 (2 rows: recall .75, precision 3/5), 0.35 (recall 1, precision 4/6)
    expect(averagePrecision(scores, labels)).toBeCloseTo(0.25 + 0.25 + 0.25 * 0.6 + 0.25 * (4 / 6), 12);
  });

  it('log loss is the mean −log p of the true class, clipped like scikit-learn', () => {
    const expected = -scores.reduce((sum, p, i) => sum + Math.log(labels[i] === 1 ? p : 1 - p), 0) / scores.length;
    expect(logLoss({ values: scores, rows: 8, width: 1 }, labels)).toBeCloseTo(expected, 12);
    expect(logLoss({ values: [1, 0], rows: 2, width: 1 }, [0, 1])).toBeCloseTo(-Math.log(1e-15), 6);
  });
});

describe('class predictions and reports', () => {
  const multi = { values: [0.7, 0.2, 0.1, 0.2, 0.5, 0.3, 0.1, 0.3, 0.6, 0.3, 0.4, 0.3, 0.5, 0.25, 0.25, 0.2, 0.2, 0.6], rows: 6, width: 3 };
  const truth = [0, 1, 2, 0, 1, 2];

  it('predicts argmax, or p ≥ threshold for one column', () => {
    expect([...predictClasses(multi)]).toEqual([0, 1, 2, 1, 0, 2]);
    expect([...predictClasses({ values: [0.2, 0.5, 0.7], rows: 3, width: 1 }, 0.5)]).toEqual([0, 1, 1]);
  });

  it('builds the confusion matrix with actual rows and predicted columns, and per-class precision/recall/F1', () => {
    const matrix = confusionMatrix(predictClasses(multi), truth, 3);
    expect(matrix).toEqual([
      [1, 1, 0],
      [1, 1, 0],
      [0, 0, 2],
    ]);
    const report = perClassReport(matrix, ['A', 'B', 'C']);
    expect(report[0]).toEqual({ class: 'A', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(report[2]).toEqual({ class: 'C', precision: 1, recall: 1, f1: 1, support: 2 });
  });

  it('evaluates multiclass with macro one-vs-rest AUC and the true-class log loss', () => {
    const e = evaluateClassifier(multi, truth, ['A', 'B', 'C']);
    expect(e.task).toBe('multiclass');
    expect(e.accuracy).toBeCloseTo(4 / 6, 12);
    expect(e.macroF1).toBeCloseTo((0.5 + 0.5 + 1) / 3, 12);
    // Per class (hand): A 7/8 pairs (0.3 loses to 0.5), B 6/8 (0.25 loses to 0.3 and 0.4), C 8/8 → macro 0.875 (scikit-learn agrees).
    expect(e.rocAucPerClass).toEqual([0.875, 0.75, 1]);
    expect(e.rocAuc).toBeCloseTo(0.875, 12);
    expect(e.logLoss).toBeCloseTo(-(Math.log(0.7) + Math.log(0.5) + Math.log(0.6) + Math.log(0.3) + Math.log(0.25) + Math.log(0.6)) / 6, 12);
    expect(e.lift).toBeUndefined();
  });

  it('refuses class names that do not match the probability width', () => {
    expect(() => evaluateClassifier(multi, truth, ['A', 'B'])).toThrow('probabilities describe 3 classes, but 2 class names were given');
  });
});

describe('calibration error', () => {
  it('is Σ share·|mean p − observed rate| over equal-width bins of P(positive)', () => {
    // Bin [0.1,0.2): p 0.1, 0.1 with 1 positive → |0.1 − 0.5| = 0.4, share 0.5. Bin [0.9,1]: p 0.9, 0.9, both positive → 0.1, share 0.5.
    const { ece, bins } = expectedCalibrationError({ values: [0.1, 0.1, 0.9, 0.9], rows: 4, width: 1 }, [0, 1, 1, 1]);
    expect(ece).toBeCloseTo(0.5 * 0.4 + 0.5 * 0.1, 12);
    expect(bins.map((b) => [b.lower, b.count, b.observedRate])).toEqual([
      [0.1, 2, 0.5],
      [0.9, 2, 1],
    ]);
  });

  it('is 0 for probabilities that match the observed rates', () => {
    expect(expectedCalibrationError({ values: [0.25, 0.25, 0.25, 0.25], rows: 4, width: 1 }, [1, 0, 0, 0]).ece).toBeCloseTo(0, 12);
  });
});

describe('lift table', () => {
  it('cuts the ranking into equal parts, best first, with rate, lift and cumulative gain', () => {
    const s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
    const y = [1, 1, 0, 1, 0, 0, 0, 0, 0, 1];
    const lift = liftTable(s, y, 5);
    expect(lift.map((d) => [d.decile, d.rows, d.positives])).toEqual([
      [1, 2, 2],
      [2, 2, 1],
      [3, 2, 0],
      [4, 2, 0],
      [5, 2, 1],
    ]);
    expect(lift[0]!.lift).toBeCloseTo(1 / 0.4, 12);
    expect(lift[1]!.cumulativeGain).toBeCloseTo(0.75, 12);
    expect(lift[4]!.cumulativeGain).toBe(1);
    expect(lift[1]!.cumulativeLift).toBeCloseTo(0.75 / 0.4, 12);
  });

  it('gives the first parts the extra rows when the count does not divide', () => {
    expect(liftTable([0.5, 0.4, 0.3, 0.2, 0.1], [1, 0, 0, 0, 0], 3).map((d) => d.rows)).toEqual([2, 2, 1]);
  });
});

describe('thresholds and the printed report', () => {
  it('reports precision, recall and contact rate at a threshold', () => {
    const t = thresholdReport('custom', { values: scores, rows: 8, width: 1 }, labels, 0.4);
    // p ≥ 0.4: 0.4(neg), 0.8, 0.4(pos), 0.9, 0.6(neg) → 3 TP of 5 contacted, 4 positives.
    expect(t).toMatchObject({ threshold: 0.4, precision: 0.6, recall: 0.75, positiveRate: 5 / 8 });
    expect(t.confusionMatrix).toEqual([
      [2, 2],
      [1, 3],
    ]);
  });

  it('prints headline metrics, per-class rows, the confusion matrix, thresholds and lift', () => {
    const e = evaluateClassifier({ values: scores, rows: 8, width: 1 }, labels, ['no', 'yes'], { thresholds: { 'max-f1': 0.35 } });
    const text = formatEvaluation({ ...e, featureImportance: [{ feature: 'age', importance: 0.1234, std: 0.01 }] });
    expect(text).toContain('binary, 8 held-out rows (no 4 · yes 4)');
    expect(text).toContain('ROC AUC 0.7813');
    // At p ≥ 0.5: 0.8 and 0.9 are caught, 0.6 is a false positive → precision 2/3, recall 1/2.
    expect(text).toMatch(/^yes\s+0\.6667\s+0\.5000\s+0\.5714\s+4$/m);
    expect(text).toMatch(/^max-f1\s+0\.3500/m);
    expect(text).toContain('lift and gains by decile of P(positive)');
    expect(text).toMatch(/^age\s+0\.1234\s+0\.0100$/m);
  });

  it('says how the holdout was chosen, and prints out-of-time beside random-split AUC for time-ordered data', () => {
    const e = evaluateClassifier({ values: scores, rows: 8, width: 1 }, labels, ['no', 'yes']);
    const inPeriod = { rows: 8, rocAuc: 0.91234, accuracy: 0.8, logLoss: 0.4, expectedCalibrationError: 0.02 };
    const text = formatEvaluation({ ...e, holdout: { rows: 8, chosen: 'latest 0.2 by file order (row 33 – row 40)', inPeriod } });
    const [first, second] = text.split('\n');
    expect(first).toBe('binary, 8 held-out rows (no 4 · yes 4): latest 0.2 by file order (row 33 – row 40)');
    expect(second).toBe(
      'out-of-time ROC AUC 0.7813 (latest 0.2 by file order (row 33 – row 40)) vs random-split ROC AUC 0.9123 (8 random earlier rows, also held out of fitting; ECE 0.0200)',
    );
    expect(formatEvaluation({ ...e, holdout: { rows: 8, chosen: 'stratified 0.2' } }).split('\n')[1]).toMatch(/^accuracy/);
  });
});

describe('permutation importance', () => {
  it('finds the one column the model uses and gives the others zero', async () => {
    // Model: P(positive) = slot 0. Slot 1 is noise the model ignores.
    const rows = 200;
    const x = new Float32Array(rows * 2);
    const y = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      x[r * 2] = r / rows;
      x[r * 2 + 1] = (r * 7919) % 13;
      y[r] = r >= rows / 2 ? 1 : 0;
    }
    const predict = (input: Float32Array, n: number) => Promise.resolve(Float32Array.from({ length: n }, (_, r) => input[r * 2]!));
    const importance = await permutationImportance({
      predict,
      x,
      rows,
      width: 2,
      outputWidth: 1,
      labels: y,
      groups: [
        { name: 'noise', slots: [1] },
        { name: 'signal', slots: [0] },
      ],
      seed: 3,
    });
    expect(importance.map((f) => f.feature)).toEqual(['signal', 'noise']);
    expect(importance[0]!.importance).toBeGreaterThan(0.3);
    expect(importance[1]).toEqual({ feature: 'noise', importance: 0, std: 0 });
  });
});
