import { describe, expect, it } from 'vitest';
import { logLoss, expectedCalibrationError } from '../../../functions/core/evaluation/metrics.js';
import { applyCalibration } from '../../../functions/core/model/calibration.js';
import { CALIBRATION_ECE_MARGIN, crossFitCandidates, fitCalibration, fitIsotonic, fitPlatt, fitTemperature } from '../../../functions/core/training/fitCalibration.js';
import { createRng } from '../../../functions/core/training/seededRandom.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));

/** Scores p whose true probability is sigmoid(a·logit(p) + b): a model that is over- or under-confident. */
function miscalibrated(n: number, a: number, b: number, seed: number) {
  const rng = createRng(seed);
  const p = new Float32Array(n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = 0.02 + 0.96 * rng();
    y[i] = rng() < sigmoid(a * logit(p[i]!) + b) ? 1 : 0;
  }
  return { p, y };
}

describe('fitPlatt', () => {
  it('recovers the slope and intercept that generated the labels', () => {
    const { p, y } = miscalibrated(40000, 0.5, -1, 11);
    const c = fitPlatt(p, y);
    expect(c.kind).toBe('platt');
    expect(c.a).toBeCloseTo(0.5, 1);
    expect(c.b).toBeCloseTo(-1, 1);
  });

  it('lowers log loss and calibration error on held-out rows', () => {
    const fit = miscalibrated(20000, 0.5, -1, 1);
    const test = miscalibrated(20000, 0.5, -1, 2);
    const calibrated = applyCalibration(test.p, fitPlatt(fit.p, fit.y));
    const before = { values: test.p, rows: test.p.length, width: 1 };
    const after = { values: calibrated, rows: test.p.length, width: 1 };
    expect(logLoss(after, test.y)).toBeLessThan(logLoss(before, test.y) - 0.05);
    expect(expectedCalibrationError(after, test.y).ece).toBeLessThan(0.02);
    expect(expectedCalibrationError(before, test.y).ece).toBeGreaterThan(0.15);
  });

  it('stays finite on a perfectly separable holdout (smoothed targets)', () => {
    const c = fitPlatt([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]);
    expect(Number.isFinite(c.a) && Number.isFinite(c.b)).toBe(true);
    expect(c.a).toBeGreaterThan(0);
  });
});

describe('fitIsotonic', () => {
  it('pools adjacent violators (and equal rates) into one knot per block, at the block’s mean p', () => {
    // Sorted by p: y = 0, 1, 0, 1, 1 → the violation (1, 0) pools to 0.5; the two 1s pool as equal rates.
    const c = fitIsotonic([0.1, 0.2, 0.3, 0.4, 0.5], [0, 1, 0, 1, 1]);
    expect(c.x).toEqual([0.1, 0.25, 0.45].map(Math.fround));
    expect(c.y).toEqual([0, 0.5, 1]);
  });

  it('pools knots closer than 1e-3, so no segment is near-vertical', () => {
    // PAV leaves blocks at p ≈ 0.5 (rate 1/2, 2 rows) and p ≈ 0.5000001 (rate 2/3, 3 rows): pooled into one (rate 3/5).
    const c = fitIsotonic([0.1, 0.5, 0.5, 0.5000001, 0.5000001, 0.5000001, 0.9], [0, 1, 0, 1, 1, 0, 1]);
    expect(c.x).toEqual([0.1, (0.5 * 2 + 0.5000001 * 3) / 5, 0.9].map(Math.fround));
    expect(c.y).toEqual([0, 0.6, 1]);
  });

  it('merges equal scores into one weighted point', () => {
    const c = fitIsotonic([0.3, 0.3, 0.3, 0.7], [1, 0, 0, 1]);
    expect(c.x).toEqual([Math.fround(0.3), Math.fround(0.7)]);
    expect(c.y[0]).toBeCloseTo(1 / 3, 12);
    expect(c.y[1]).toBe(1);
  });

  it('gives a non-decreasing map whatever the input order', () => {
    const { p, y } = miscalibrated(3000, 2, 0.5, 5);
    const c = fitIsotonic(p, y);
    for (let i = 1; i < c.y.length; i++) expect(c.y[i]!).toBeGreaterThanOrEqual(c.y[i - 1]!);
    for (let i = 1; i < c.x.length; i++) expect(c.x[i]!).toBeGreaterThan(c.x[i - 1]!);
  });
});

describe('fitTemperature', () => {
  it('recovers the temperature that over-sharpened a softmax', () => {
    // True class probabilities q; the model reports softmax(log q · 2.5) (too confident): t ≈ 2.5 undoes it.
    const rng = createRng(9);
    const rows = 20000;
    const k = 3;
    const p = new Float32Array(rows * k);
    const y = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      const raw = [rng() + 0.05, rng() + 0.05, rng() + 0.05];
      const sum = raw.reduce((a, b) => a + b, 0);
      const q = raw.map((v) => v / sum);
      const u = rng();
      y[r] = u < q[0]! ? 0 : u < q[0]! + q[1]! ? 1 : 2;
      const sharp = q.map((v) => v ** 2.5);
      const s = sharp.reduce((a, b) => a + b, 0);
      sharp.forEach((v, i) => (p[r * k + i] = v / s));
    }
    expect(fitTemperature(p, y, k).t).toBeCloseTo(2.5, 0);
  });
});

describe('fitCalibration', () => {
  it('auto keeps Platt when isotonic is not clearly better, and reports every candidate’s cross-fitted ECE', () => {
    const { p, y } = miscalibrated(8000, 0.6, -0.5, 21);
    const choice = fitCalibration('auto', p, y, 1);
    expect(choice.method).toBe('platt');
    expect(choice.calibration?.kind).toBe('platt');
    const ece = Object.fromEntries(choice.candidates!.map((c) => [c.method, c.ece]));
    expect(Object.keys(ece)).toEqual(['none', 'platt', 'isotonic']);
    // Labels drawn from sigmoid(0.6·logit p − 0.5): the raw p is off by far more than the margin.
    expect(ece.none).toBeGreaterThan(ece.platt! + 0.05);
    expect(ece.platt).toBeLessThanOrEqual(ece.isotonic! + CALIBRATION_ECE_MARGIN);
  });

  it('auto chooses none when the probabilities are already calibrated (a calibration cannot clearly help)', () => {
    // Labels drawn from p itself: Platt's best fit is a ≈ 1, b ≈ 0, and nothing beats "none" by the margin.
    const { p, y } = miscalibrated(8000, 1, 0, 22);
    const choice = fitCalibration('auto', p, y, 1);
    expect(choice.method).toBe('none');
    expect(choice.calibration).toBeUndefined();
    const none = choice.candidates!.find((c) => c.method === 'none')!;
    for (const c of choice.candidates!) expect(c.ece).toBeGreaterThan(none.ece - CALIBRATION_ECE_MARGIN);
  });

  it('ties go to the simpler candidate: none, then Platt, then isotonic', () => {
    const p = new Float32Array(400).fill(0.5);
    const y = Int32Array.from({ length: 400 }, (_, i) => (i % 4 < 2 ? 1 : 0));
    expect(fitCalibration('auto', p, y, 1).method).toBe('none');
  });

  it('cross-fits each candidate on one half and judges it on the other', () => {
    // Every P = 0.9 but only odd rows are positive: uncalibrated ECE is |0.9 − 0.5| = 0.4; Platt,
    // fitted on the other half (same rate), brings P to about 0.5.
    const p = new Float32Array(1000).fill(0.9);
    const y = Int32Array.from({ length: 1000 }, (_, i) => (i % 4 < 2 ? 1 : 0));
    const [none, platt] = crossFitCandidates(['none', 'platt'], p, y, 1);
    expect(none!.ece).toBeCloseTo(0.4, 6);
    expect(platt!.ece).toBeLessThan(0.01);
    expect(platt!.logLoss).toBeLessThan(none!.logLoss);
  });

  it('auto picks isotonic for a miscalibration Platt cannot express (a step)', () => {
    const rng = createRng(4);
    const n = 8000;
    const p = new Float32Array(n);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      p[i] = rng();
      y[i] = rng() < (p[i]! < 0.5 ? 0.05 : 0.95) ? 1 : 0;
    }
    expect(fitCalibration('auto', p, y, 1).method).toBe('isotonic');
  });

  it('uses temperature for overconfident class probabilities and refuses Platt there', () => {
    // Top class 0.9 but right only 60 % of the time: temperature softens it, clearly better than none.
    const rows = 3000;
    const p = new Float32Array(rows * 3);
    const labels = new Int32Array(rows);
    const rng = createRng(9);
    for (let r = 0; r < rows; r++) {
      const top = r % 3;
      for (let k = 0; k < 3; k++) p[r * 3 + k] = k === top ? 0.9 : 0.05;
      labels[r] = rng() < 0.6 ? top : (top + 1 + Math.floor(rng() * 2)) % 3;
    }
    const choice = fitCalibration('auto', p, labels, 3);
    expect(choice.method).toBe('temperature');
    expect(choice.candidates!.map((c) => c.method)).toEqual(['none', 'temperature']);
    expect(() => fitCalibration('platt', p, Int32Array.of(0, 1), 3)).toThrow('platt calibration needs a one-column binary output; use temperature for 3 classes');
  });

  it('none returns no calibration', () => {
    expect(fitCalibration('none', Float32Array.of(0.5), Int32Array.of(1), 1)).toEqual({ calibration: undefined, method: 'none' });
  });
});
