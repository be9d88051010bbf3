import type * as tfTypes from '@tensorflow/tfjs';
import type { Calibration } from '../model/calibration.js';

/**
 * Folds a Platt or temperature calibration into the model's output layer, so the model itself
 * emits calibrated probabilities (in tfjs and in ONNX alike):
 * Platt `sigmoid(a·logit(p) + b)` with `p = sigmoid(z)` is `sigmoid(a·z + b)` → kernel·a, bias·a + b;
 * temperature `softmax(log(p)/t)` with `p = softmax(z)` is `softmax(z/t)` → kernel/t, bias/t.
 *
 * Why: applied after the sigmoid, the calibration takes logit(p) of a float32 probability, which
 * is ill-conditioned near 0 and 1 (p = 1 − 1e-7 vs 1 − 2e-7 is a logit gap of 0.7), so ONNX and tfjs
 * would disagree by 1e-4 on confident rows. On the logit there is no such round trip.
 *
 * @returns true when folded; false for isotonic (or none), which stays a separate step.
 */
export function foldCalibration(tf: typeof tfTypes, model: tfTypes.LayersModel, calibration: Calibration | undefined): boolean {
  if (!calibration || calibration.kind === 'isotonic') return false;
  const output = model.layers[model.layers.length - 1]!;
  const activation = String((output.getConfig() as { activation?: unknown }).activation);
  if (output.getClassName() !== 'Dense' || (activation !== 'sigmoid' && activation !== 'softmax')) return false;
  if (calibration.kind === 'platt' && activation !== 'sigmoid') return false;
  const [kernel, bias] = output.getWeights();
  const scale = calibration.kind === 'platt' ? calibration.a : 1 / calibration.t;
  const shift = calibration.kind === 'platt' ? calibration.b : 0;
  const folded = tf.tidy(() => {
    const k = kernel!.mul(scale);
    const b = bias ? bias.mul(scale).add(shift) : tf.fill([kernel!.shape[1]!], shift);
    return bias ? [k, b] : [k];
  });
  if (!bias && shift !== 0) return false;
  output.setWeights(folded);
  folded.forEach((t) => t.dispose());
  return true;
}
