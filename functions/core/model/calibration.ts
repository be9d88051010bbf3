/**
 * Probability calibration applied after a model's output, in plain TypeScript.
 *
 * The ONNX export appends the same maths to the graph (exportOnnx.ts), so the trainer can fit a
 * calibration on tfjs predictions and the scorer gets calibrated probabilities from the bundle alone.
 */
import { z } from 'zod';

/**
 * - `platt`: `p' = sigmoid(a·logit(p) + b)` on the positive-class probability (one output column).
 * - `isotonic`: piecewise-linear interpolation through the points `(x[i], y[i])`, `x` strictly
 *   increasing, clamped to `y[0]` below `x[0]` and to the last `y` above the last `x` (one output column).
 * - `temperature`: `softmax(log(p) / t)` over the class probabilities; with one output column,
 *   the binary form `sigmoid(logit(p) / t)`.
 */
export const calibrationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('platt'), a: z.number().finite(), b: z.number().finite() }).strict(),
  z
    .object({ kind: z.literal('isotonic'), x: z.array(z.number().finite()).min(1), y: z.array(z.number().finite()).min(1) })
    .strict()
    .refine((c) => c.x.length === c.y.length, { message: 'x and y must have the same length', path: ['y'] })
    .refine((c) => c.x.every((v, i) => i === 0 || v > c.x[i - 1]!), { message: 'x must be strictly increasing', path: ['x'] }),
  z.object({ kind: z.literal('temperature'), t: z.number().finite().positive() }).strict(),
]);

export type Calibration = z.infer<typeof calibrationSchema>;

/**
 * Probabilities are clamped into [P_EPSILON, 1 − P_EPSILON] before a logit, so 0 and 1 (a saturated
 * float32 sigmoid) stay finite. 2⁻²⁴ is exact in float32, and 1 − 2⁻²⁴ is the largest float32 below 1.
 */
export const P_EPSILON = 2 ** -24;
/** Floor applied to class probabilities before `log` in temperature scaling (a float32 normal number). */
export const LOG_FLOOR = 1e-30;

/** Isotonic points with at least two knots (a single point becomes a flat segment), as float32 values. */
export function isotonicKnots(c: { x: readonly number[]; y: readonly number[] }): { x: Float32Array; y: Float32Array } {
  const x = c.x.length === 1 ? [c.x[0]!, c.x[0]! + 1] : c.x;
  const y = c.y.length === 1 ? [c.y[0]!, c.y[0]!] : c.y;
  return { x: Float32Array.from(x), y: Float32Array.from(y) };
}

/** Which calibrations fit a model output of `outputWidth` columns; the reason when it does not. */
export function calibrationMismatch(calibration: Calibration, outputWidth: number): string | undefined {
  if ((calibration.kind === 'platt' || calibration.kind === 'isotonic') && outputWidth !== 1) {
    return `${calibration.kind} calibration applies to one positive-probability column; the model outputs ${outputWidth}`;
  }
  return undefined;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const clampP = (p: number): number => Math.min(Math.max(p, P_EPSILON), 1 - P_EPSILON);
const logit = (p: number): number => {
  const q = clampP(p);
  return Math.log(q) - Math.log(1 - q);
};

/**
 * Calibrates model output in plain TS, exactly as the exported ONNX graph does.
 *
 * @param p row-major probabilities, `rows × outputWidth`.
 * @param outputWidth 1 for a positive-class probability, K for class probabilities.
 * @returns a new array of the same length.
 * @throws Error when the calibration does not fit the output width (platt/isotonic need one column).
 * @example
 * applyCalibration(Float32Array.of(0.2, 0.9), { kind: 'platt', a: 1.2, b: -0.3 });
 */
export function applyCalibration(p: Float32Array, calibration: Calibration, outputWidth = 1): Float32Array {
  const problem = calibrationMismatch(calibration, outputWidth);
  if (problem) throw new Error(problem);
  const out = new Float32Array(p.length);
  switch (calibration.kind) {
    case 'platt': {
      const { a, b } = calibration;
      for (let i = 0; i < p.length; i++) out[i] = sigmoid(a * logit(p[i]!) + b);
      return out;
    }
    case 'isotonic': {
      const { x, y } = isotonicKnots(calibration);
      for (let i = 0; i < p.length; i++) out[i] = interpolate(p[i]!, x, y);
      return out;
    }
    case 'temperature': {
      const { t } = calibration;
      if (outputWidth === 1) {
        for (let i = 0; i < p.length; i++) out[i] = sigmoid(logit(p[i]!) / t);
        return out;
      }
      const z = new Float64Array(outputWidth);
      for (let r = 0; r < p.length; r += outputWidth) {
        let max = -Infinity;
        for (let k = 0; k < outputWidth; k++) {
          z[k] = Math.log(Math.max(p[r + k]!, LOG_FLOOR)) / t;
          if (z[k]! > max) max = z[k]!;
        }
        let sum = 0;
        for (let k = 0; k < outputWidth; k++) sum += z[k] = Math.exp(z[k]! - max);
        for (let k = 0; k < outputWidth; k++) out[r + k] = z[k]! / sum;
      }
      return out;
    }
  }
}

/**
 * The segment is the last knot index `lo` in [0, n−2] with `x[lo] < p` counted from the second knot
 * (the same count the ONNX graph takes), then `t = clamp((p − x[lo]) / (x[lo+1] − x[lo]), 0, 1)`.
 */
function interpolate(p: number, x: Float32Array, y: Float32Array): number {
  let lo = 0;
  for (let k = 1; k < x.length; k++) if (x[k]! < p) lo++;
  lo = Math.min(lo, x.length - 2);
  const x0 = x[lo]!;
  const y0 = y[lo]!;
  const t = Math.min(Math.max((p - x0) / (x[lo + 1]! - x0), 0), 1);
  return y0 + t * (y[lo + 1]! - y0);
}
