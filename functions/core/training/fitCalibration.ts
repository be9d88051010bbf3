import { applyCalibration, P_EPSILON, type Calibration } from '../model/calibration.js';
import { expectedCalibrationError, logLoss } from '../evaluation/metrics.js';
import { selectRows } from './trialTrainer.js';

/** Which calibration to fit on held-out probabilities. `auto` picks none, Platt or isotonic (multiclass: none or temperature) by cross-fitted ECE. */
export type CalibrationMethod = 'platt' | 'isotonic' | 'temperature' | 'auto' | 'none';

const logit = (p: number): number => {
  const q = Math.min(Math.max(p, P_EPSILON), 1 - P_EPSILON);
  return Math.log(q) - Math.log(1 - q);
};

/**
 * Platt scaling `p' = sigmoid(a·logit(p) + b)` by Newton's method on the log loss, with Platt's
 * smoothed targets ((N₊+1)/(N₊+2) and 1/(N₋+2)) so a separable holdout cannot push a to infinity.
 * @param p P(positive) per held-out row. @param y 1 for positive rows, else 0.
 */
export function fitPlatt(p: ArrayLike<number>, y: ArrayLike<number>): Extract<Calibration, { kind: 'platt' }> {
  const n = p.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i] === 1 ? 1 : 0;
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (n - positives + 2);
  const z = Float64Array.from({ length: n }, (_, i) => logit(p[i]!));
  const t = Float64Array.from({ length: n }, (_, i) => (y[i] === 1 ? hi : lo));
  const loss = (a: number, b: number) => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const s = a * z[i]! + b;
      // log(1 + e^s) − t·s, computed without overflow.
      sum += (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s))) - t[i]! * s;
    }
    return sum;
  };
  let a = 1;
  let b = 0;
  let current = loss(a, b);
  for (let iteration = 0; iteration < 100; iteration++) {
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (let i = 0; i < n; i++) {
      const q = 1 / (1 + Math.exp(-(a * z[i]! + b)));
      const r = q - t[i]!;
      const w = Math.max(q * (1 - q), 1e-12);
      ga += r * z[i]!;
      gb += r;
      haa += w * z[i]! * z[i]!;
      hab += w * z[i]!;
      hbb += w;
    }
    // Tiny ridge keeps the 2×2 system solvable when all logits are equal.
    haa += 1e-9;
    hbb += 1e-9;
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    let step = 1;
    let next = loss(a - da, b - db);
    while (next > current && step > 1e-6) {
      step /= 2;
      next = loss(a - step * da, b - step * db);
    }
    if (next > current) break;
    a -= step * da;
    b -= step * db;
    const improvement = current - next;
    current = next;
    if (improvement < 1e-10 * Math.max(1, Math.abs(current))) break;
  }
  return { kind: 'platt', a, b };
}

/** Knots closer than this (in P) are pooled, so no segment is steeper than Δy / 1e-3. */
export const ISOTONIC_MIN_GAP = 1e-3;

/**
 * Isotonic regression by pool-adjacent-violators on (p, y), as knots for linear interpolation:
 * one knot per pooled block, at the block's mean p (float32) with the block's response rate.
 * Neighbouring blocks closer than {@link ISOTONIC_MIN_GAP} or with the same rate are pooled too.
 *
 * Why centroids and a minimum gap: two knots 1e-7 apart make a near-vertical segment, where the
 * float32 rounding difference between tfjs and onnxruntime would become a visible jump in P.
 */
export function fitIsotonic(p: ArrayLike<number>, y: ArrayLike<number>): Extract<Calibration, { kind: 'isotonic' }> {
  const n = p.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => p[i]! - p[j]!);
  // Blocks: summed x, summed y, weight. PAV pools a block into its left neighbour while the rates decrease.
  const xs: number[] = [];
  const ys: number[] = [];
  const ws: number[] = [];
  const rate = (b: number) => ys[b]! / ws[b]!;
  const poolLast = () => {
    const last = ws.length - 1;
    xs[last - 1]! += xs[last]!;
    ys[last - 1]! += ys[last]!;
    ws[last - 1]! += ws[last]!;
    xs.pop();
    ys.pop();
    ws.pop();
  };
  for (const i of order) {
    xs.push(p[i]!);
    ys.push(y[i] === 1 ? 1 : 0);
    ws.push(1);
    while (ws.length > 1 && rate(ws.length - 2) >= rate(ws.length - 1)) poolLast();
  }
  // Second pass: pool neighbours that are too close (keeps the map monotone: pooling averages rates).
  const cx: number[] = [];
  const cy: number[] = [];
  const cw: number[] = [];
  for (let b = 0; b < ws.length; b++) {
    cx.push(xs[b]!);
    cy.push(ys[b]!);
    cw.push(ws[b]!);
    while (cw.length > 1) {
      const last = cw.length - 1;
      const gap = cx[last]! / cw[last]! - cx[last - 1]! / cw[last - 1]!;
      if (gap >= ISOTONIC_MIN_GAP) break;
      cx[last - 1]! += cx[last]!;
      cy[last - 1]! += cy[last]!;
      cw[last - 1]! += cw[last]!;
      cx.pop();
      cy.pop();
      cw.pop();
    }
  }
  return { kind: 'isotonic', x: cx.map((x, b) => Math.fround(x / cw[b]!)), y: cy.map((v, b) => v / cw[b]!) };
}

/**
 * Temperature scaling `softmax(log(p)/t)` for class probabilities (rows × k), t by golden-section
 * search on the log loss over log t ∈ [−4, 4].
 */
export function fitTemperature(p: Float32Array, labels: ArrayLike<number>, k: number): Extract<Calibration, { kind: 'temperature' }> {
  const rows = labels.length;
  const lossAt = (logT: number) =>
    logLoss({ values: applyCalibration(p, { kind: 'temperature', t: Math.exp(logT) }, k), rows, width: k }, labels);
  let lo = -4;
  let hi = 4;
  const golden = (Math.sqrt(5) - 1) / 2;
  let c = hi - golden * (hi - lo);
  let d = lo + golden * (hi - lo);
  let fc = lossAt(c);
  let fd = lossAt(d);
  for (let i = 0; i < 60; i++) {
    if (fc < fd) {
      hi = d;
      d = c;
      fd = fc;
      c = hi - golden * (hi - lo);
      fc = lossAt(c);
    } else {
      lo = c;
      c = d;
      fc = fd;
      d = lo + golden * (hi - lo);
      fd = lossAt(d);
    }
  }
  return { kind: 'temperature', t: Math.exp((lo + hi) / 2) };
}

/** A calibration judged by cross-fitting: fitted on one half of the held-out rows, scored on the other, both ways. */
export interface CalibrationCandidate {
  readonly method: 'none' | 'platt' | 'isotonic' | 'temperature';
  /** Expected calibration error (10 bins), row-weighted over the two halves. */
  readonly ece: number;
  readonly logLoss: number;
}

/** The calibration chosen and why; `candidates` is filled by `auto`. */
export interface CalibrationChoice {
  readonly calibration: Calibration | undefined;
  readonly method: CalibrationMethod;
  /** `auto`: every candidate's cross-fitted figures, in order of preference. */
  readonly candidates?: readonly CalibrationCandidate[];
}

/**
 * How much lower a candidate's cross-fitted ECE must be to beat a simpler one. Half the held-out
 * rows judge each fit, so differences this small are noise: a calibration that does not clearly
 * help is not applied (it can only add error on new data).
 */
export const CALIBRATION_ECE_MARGIN = 0.001;

function fitMethod(method: CalibrationCandidate['method'], p: Float32Array, labels: Int32Array, width: number): Calibration | undefined {
  switch (method) {
    case 'none':
      return undefined;
    case 'platt':
      return fitPlatt(p, labels);
    case 'isotonic':
      return fitIsotonic(p, labels);
    case 'temperature':
      return fitTemperature(p, labels, width);
  }
}

/**
 * Cross-fits each candidate on held-out probabilities: two halves (alternate rows), each candidate
 * fitted on one half and judged on the other, both ways; ECE and log loss are row-weighted means.
 * @example
 * crossFitCandidates(['none', 'platt'], p, y, 1) // → [{ method: 'none', ece: 0.012, logLoss: 0.31 }, { method: 'platt', … }]
 */
export function crossFitCandidates(
  methods: readonly CalibrationCandidate['method'][],
  p: Float32Array,
  labels: Int32Array,
  width: number,
): CalibrationCandidate[] {
  const rows = labels.length;
  const halves = [0, 1].map((half) => Int32Array.from({ length: rows }, (_, i) => i).filter((i) => i % 2 === half));
  const pick = (part: Int32Array) => {
    const { x, y } = selectRows({ x: p, y: labels, rows }, part, width);
    return { p: x, y };
  };
  return methods.map((method) => {
    let ece = 0;
    let loss = 0;
    for (const [fitOn, judgeOn] of [[halves[0]!, halves[1]!], [halves[1]!, halves[0]!]] as const) {
      if (judgeOn.length === 0) continue;
      const fit = pick(fitOn);
      const judge = pick(judgeOn);
      const calibration = fitOn.length > 0 ? fitMethod(method, fit.p, fit.y, width) : undefined;
      const matrix = { values: calibration ? applyCalibration(judge.p, calibration, width) : judge.p, rows: judgeOn.length, width };
      ece += (expectedCalibrationError(matrix, judge.y).ece * judgeOn.length) / rows;
      loss += (logLoss(matrix, judge.y) * judgeOn.length) / rows;
    }
    return { method, ece, logLoss: loss };
  });
}

/**
 * Fits the requested calibration on held-out probabilities (`rows × width`, width 1 for binary).
 * `auto` cross-fits the candidates (binary: none, Platt, isotonic; multiclass: none, temperature)
 * and keeps the simplest whose ECE is within {@link CALIBRATION_ECE_MARGIN} of the lowest, so
 * "none" wins unless a calibration clearly helps, and Platt (which keeps every ranking) wins over
 * isotonic (which ties scores) unless isotonic is clearly better; the winner is refitted on all rows.
 */
export function fitCalibration(method: CalibrationMethod, p: Float32Array, labels: Int32Array, width: number): CalibrationChoice {
  if (method === 'none') return { calibration: undefined, method };
  if (width > 1 && method !== 'temperature' && method !== 'auto') {
    throw new RangeError(`${method} calibration needs a one-column binary output; use temperature for ${width} classes`);
  }
  if (method !== 'auto') return { calibration: fitMethod(method, p, labels, width), method };
  const candidates = crossFitCandidates(width > 1 ? ['none', 'temperature'] : ['none', 'platt', 'isotonic'], p, labels, width);
  const lowest = Math.min(...candidates.map((c) => c.ece));
  const chosen = candidates.find((c) => c.ece <= lowest + CALIBRATION_ECE_MARGIN)!.method;
  return { calibration: fitMethod(chosen, p, labels, width), method: chosen, candidates };
}
