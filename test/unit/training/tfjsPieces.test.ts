import type * as tfTypes from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainingError } from '../../../functions/core/errors.js';
import { buildModel } from '../../../functions/core/training/buildModel.js';
import { foldCalibration } from '../../../functions/core/training/foldCalibration.js';
import { mergeEnsemble } from '../../../functions/core/training/mergeEnsemble.js';
import { createRng } from '../../../functions/core/training/seededRandom.js';
import { initTrainingTf } from '../../../functions/adapters/model/tfjsTrainingRuntime.js';
import { classWeightsFor } from '../../../functions/core/training/trialTrainer.js';

let tf: typeof tfTypes;
beforeAll(async () => {
  tf = await initTrainingTf();
});

/** A dense model with seeded weights (not trained: merging and folding are pure weight algebra). */
function denseModel(layers: number[], inputs: number, outputUnits: number, seed: number): tfTypes.Sequential {
  const model = buildModel(tf, { kind: 'mlp', layers, activation: 'relu', dropout: 0.1, l2: 0, batchNorm: false }, { inputShape: [inputs], outputUnits });
  const rng = createRng(seed);
  model.setWeights(model.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => rng() * 2 - 1), w.shape)));
  return model;
}

const predict = (model: tfTypes.LayersModel, x: Float32Array, rows: number, width: number) =>
  (model.predict(tf.tensor2d(x, [rows, width])) as tfTypes.Tensor).dataSync() as Float32Array;

describe('Conv1D filter gradient on wasm', () => {
  it('matches the gradient summed by hand, for valid and same padding', () => {
    const rng = createRng(1);
    const [n, steps, channels, k, filters] = [3, 7, 2, 3, 4];
    const x = Float32Array.from({ length: n * steps * channels }, () => rng() - 0.5);
    const w = Float32Array.from({ length: k * channels * filters }, () => rng() - 0.5);
    for (const padding of ['valid', 'same'] as const) {
      // d/dw of Σ conv1d(x, w) = Σ over outputs of the input window: dW[j,c,f] = Σₙ,ₜ x[n, t+j−pad, c].
      const grad = tf.grad((filter: tfTypes.Tensor) => tf.conv1d(tf.tensor3d(x, [n, steps, channels]), filter as tfTypes.Tensor3D, 1, padding).sum())(
        tf.tensor3d(w, [k, channels, filters]),
      );
      const got = grad.dataSync();
      const outSteps = padding === 'valid' ? steps - k + 1 : steps;
      const pad = padding === 'valid' ? 0 : Math.floor((k - 1) / 2);
      for (let j = 0; j < k; j++) {
        for (let c = 0; c < channels; c++) {
          let expected = 0;
          for (let b = 0; b < n; b++) {
            for (let t = 0; t < outSteps; t++) {
              const at = t + j - pad;
              if (at >= 0 && at < steps) expected += x[(b * steps + at) * channels + c]!;
            }
          }
          for (let f = 0; f < filters; f++) expect(got[(j * channels + c) * filters + f]).toBeCloseTo(expected, 5);
        }
      }
    }
    expect(tf.getBackend()).toBe('wasm');
  });
});

describe('mergeEnsemble', () => {
  it('outputs the sigmoid of the members’ mean logit, for members of different widths', () => {
    const members = [denseModel([6, 3], 4, 1, 1), denseModel([5, 2], 4, 1, 2), denseModel([6, 3], 4, 1, 3)];
    const merged = mergeEnsemble(tf, members);
    const rows = 20;
    const rng = createRng(9);
    const x = Float32Array.from({ length: rows * 4 }, () => rng() * 4 - 2);
    const logit = (p: number) => Math.log(p) - Math.log(1 - p);
    const memberP = members.map((m) => predict(m, x, rows, 4));
    const got = predict(merged, x, rows, 4);
    for (let r = 0; r < rows; r++) {
      const mean = memberP.reduce((sum, p) => sum + logit(p[r]!), 0) / members.length;
      expect(got[r]).toBeCloseTo(1 / (1 + Math.exp(-mean)), 5);
    }
    expect(merged.layers.map((l) => l.getClassName())).toEqual(['Dense', 'Dense', 'Dense']);
    expect(merged.layers.map((l) => l.name)).toEqual(['dense_1', 'dense_2', 'output']);
  });

  it('averages softmax logits for multiclass members', () => {
    const members = [denseModel([4], 3, 3, 4), denseModel([4], 3, 3, 5)];
    const merged = mergeEnsemble(tf, members);
    const x = Float32Array.of(0.5, -1, 2, 1, 1, -0.5);
    const got = predict(merged, x, 2, 3);
    const p = members.map((m) => predict(m, x, 2, 3));
    for (let r = 0; r < 2; r++) {
      // softmax(mean log p) = softmax(mean logits): compare after normalizing the geometric mean.
      const geo = [0, 1, 2].map((k) => Math.sqrt(p[0]![r * 3 + k]! * p[1]![r * 3 + k]!));
      const sum = geo.reduce((a, b) => a + b, 0);
      for (let k = 0; k < 3; k++) expect(got[r * 3 + k]).toBeCloseTo(geo[k]! / sum, 5);
    }
  });

  it('refuses members of different depths', () => {
    expect(() => mergeEnsemble(tf, [denseModel([4, 2], 3, 1, 1), denseModel([4], 3, 1, 2)])).toThrow(TrainingError);
    expect(() => mergeEnsemble(tf, [denseModel([4, 2], 3, 1, 1), denseModel([4], 3, 1, 2)])).toThrow('ensemble members differ in depth (3, 2 layers)');
  });
});

describe('foldCalibration', () => {
  it('makes the model emit sigmoid(a·logit(p) + b) itself (Platt)', () => {
    const model = denseModel([5], 3, 1, 7);
    const x = Float32Array.of(0.2, -0.4, 1, -1, 0.3, 0.8);
    const before = predict(model, x, 2, 3);
    expect(foldCalibration(tf, model, { kind: 'platt', a: 0.7, b: -0.3 })).toBe(true);
    const after = predict(model, x, 2, 3);
    for (let r = 0; r < 2; r++) {
      const z = Math.log(before[r]!) - Math.log(1 - before[r]!);
      expect(after[r]).toBeCloseTo(1 / (1 + Math.exp(-(0.7 * z - 0.3))), 5);
    }
  });

  it('divides the logits by t for temperature scaling, and leaves isotonic to the graph', () => {
    const model = denseModel([5], 3, 3, 8);
    const x = Float32Array.of(0.2, -0.4, 1);
    const before = predict(model, x, 1, 3);
    expect(foldCalibration(tf, model, { kind: 'temperature', t: 2 })).toBe(true);
    const after = predict(model, x, 1, 3);
    const sharp = [0, 1, 2].map((k) => Math.sqrt(before[k]!));
    const sum = sharp.reduce((a, b) => a + b, 0);
    for (let k = 0; k < 3; k++) expect(after[k]).toBeCloseTo(sharp[k]! / sum, 5);
    expect(foldCalibration(tf, model, { kind: 'isotonic', x: [0, 1], y: [0, 1] })).toBe(false);
  });
});

describe('classWeightsFor', () => {
  it('weighs classes by n/(k·count), or its square root', () => {
    const y = Int32Array.of(0, 0, 0, 1);
    expect(classWeightsFor(y, 2, 'balanced')).toEqual({ 0: 4 / 6, 1: 2 });
    expect(classWeightsFor(y, 2, 'sqrt')).toEqual({ 0: Math.sqrt(4 / 6), 1: Math.sqrt(2) });
    expect(classWeightsFor(y, 2, 'none')).toBeUndefined();
  });
});
