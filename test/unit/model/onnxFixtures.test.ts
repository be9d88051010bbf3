import { describe, expect, it } from 'vitest';
import { buildLogisticOnnx, buildSoftmaxOnnx } from '../../../functions/core/model/onnxFixtures.js';
import { loadOnnxModel } from '../../../functions/adapters/model/onnxModel.js';

const context = { bundle: 'fixture', version: 'v1' };

// Rows chosen to span negative, zero-ish and positive logits.
const rows = [
  [1, 2, 3],
  [0, 0, 0],
  [-2, 1.5, -0.25],
  [10, -3, 0.5],
];

describe('buildLogisticOnnx', () => {
  it('scores rows to 1 / (1 + exp(-(x·w + b)))', async () => {
    // Prepare
    const model = await loadOnnxModel(buildLogisticOnnx([0.5, -1, 2], 0.1), { inputName: 'features', outputName: 'probability', inputWidth: 3, outputWidth: 1 }, context);
    // Act
    const p = await model.score(Float32Array.from(rows.flat()), rows.length);
    // Assess: by hand, z = 0.5·x1 − x2 + 2·x3 + 0.1
    const expected = [
      1 / (1 + Math.exp(-(0.5 * 1 - 2 + 2 * 3 + 0.1))),
      1 / (1 + Math.exp(-0.1)),
      1 / (1 + Math.exp(-(0.5 * -2 - 1.5 + 2 * -0.25 + 0.1))),
      1 / (1 + Math.exp(-(0.5 * 10 + 3 + 2 * 0.5 + 0.1))),
    ];
    expect(p).toHaveLength(4);
    expected.forEach((e, i) => expect(Math.abs(p[i]! - e)).toBeLessThan(1e-6));
    await model.dispose();
  });

  it('uses the given input and output names', async () => {
    const bytes = buildLogisticOnnx([1, 1], 0, { inputName: 'x', outputName: 'y' });
    const model = await loadOnnxModel(bytes, { inputName: 'x', outputName: 'y', inputWidth: 2, outputWidth: 1 }, context);
    const p = await model.score(Float32Array.from([1, -1]), 1);
    expect(Math.abs(p[0]! - 0.5)).toBeLessThan(1e-7);
    await model.dispose();
  });
});

describe('buildSoftmaxOnnx', () => {
  it('scores rows to softmax(x·W + b) with one column per class', async () => {
    // Prepare: W[i][k] multiplies feature i into class k
    const W = [
      [1, 0, -1],
      [0, 2, 1],
      [0.5, -0.5, 0],
    ];
    const b = [0, 0.5, -0.5];
    const model = await loadOnnxModel(buildSoftmaxOnnx(W, b), { inputName: 'features', outputName: 'probabilities', inputWidth: 3, outputWidth: 3 }, context);
    // Act
    const p = await model.score(Float32Array.from(rows.flat()), rows.length);
    // Assess
    expect(p).toHaveLength(rows.length * 3);
    rows.forEach((x, r) => {
      const z = [0, 1, 2].map((k) => x[0]! * W[0]![k]! + x[1]! * W[1]![k]! + x[2]! * W[2]![k]! + b[k]!);
      const e = z.map((v) => Math.exp(v));
      const sum = e[0]! + e[1]! + e[2]!;
      e.forEach((v, k) => expect(Math.abs(p[r * 3 + k]! - v / sum)).toBeLessThan(1e-6));
    });
    await model.dispose();
  });

  it('rejects ragged weight rows', () => {
    expect(() => buildSoftmaxOnnx([[1, 2], [3]], [0, 0])).toThrow('W[1] has 1 columns, expected 2');
  });
});
