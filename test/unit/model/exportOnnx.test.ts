import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainingError } from '../../../functions/core/errors.js';
import { applyCalibration, type Calibration } from '../../../functions/core/model/calibration.js';
import { exportTfjsToOnnx, ONNX_METADATA } from '../../../functions/core/model/exportOnnx.js';
import { decodeOnnxModel } from '../../../functions/core/model/onnxGraph.js';
import { loadOnnxModel } from '../../../functions/adapters/model/onnxModel.js';
import { initTf } from '../../../functions/adapters/model/tfjsModel.js';

const ROWS = 300;
const TOLERANCE = 1e-5;
const context = { bundle: 'parity', version: 't' };

beforeAll(async () => {
  await initTf();
});

/**
 * Replaces every weight with seeded random values, scaled by fan-in so outputs spread over (0, 1)
 * instead of saturating, with positive variances: parity is not checked on trivial weights.
 */
function randomizeWeights(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const name = w.originalName.split('/').pop();
      const shape = w.shape as number[];
      const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const std = name === 'kernel' ? 1.5 / Math.sqrt(fanIn) : 0.3;
      const noise = tf.randomNormal(shape, 0, std, 'float32', s++);
      if (name === 'moving_variance') return tf.tidy(() => noise.abs().add(0.2));
      if (name === 'gamma') return tf.tidy(() => noise.add(1));
      return noise;
    });
    layer.setWeights(values);
    values.forEach((v) => v.dispose());
  }
}

function randomRows(width: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([ROWS, width], 0, 1.5, 'float32', seed).dataSync() as Float32Array);
}

async function tfjsPredict(model: tf.LayersModel, rows: Float32Array, inputShape: number[]): Promise<Float32Array> {
  const x = tf.tensor(rows, [ROWS, ...inputShape]);
  const y = model.predict(x, { batchSize: ROWS }) as tf.Tensor;
  const data = (await y.data()) as Float32Array;
  x.dispose();
  y.dispose();
  return data;
}

async function onnxPredict(bytes: Uint8Array, rows: Float32Array, inputWidth: number, outputWidth: number): Promise<Float32Array> {
  const model = await loadOnnxModel(bytes, { inputName: 'features', outputName: 'scores', inputWidth, outputWidth }, context);
  try {
    return await model.score(rows, ROWS);
  } finally {
    await model.dispose();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a).toHaveLength(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Exports, scores the same rows on both runtimes, and returns the largest difference. */
async function parity(model: tf.LayersModel, seed: number, calibration?: Calibration): Promise<{ diff: number; onnx: Float32Array }> {
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  const width = inputShape.reduce((a, b) => a * b, 1);
  const outputWidth = model.outputs[0]!.shape[1] as number;
  const rows = randomRows(width, seed);
  const bytes = exportTfjsToOnnx(model, { inputName: 'features', outputName: 'scores', ...(calibration ? { calibration } : {}) });
  let expected = await tfjsPredict(model, rows, inputShape);
  if (calibration) expected = applyCalibration(expected, calibration, outputWidth);
  const onnx = await onnxPredict(bytes, rows, width, outputWidth);
  return { diff: maxAbsDiff(onnx, expected), onnx };
}

function mlpBinary(seed: number): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotNormal({ seed: s });
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [12], units: 16, activation: 'relu', kernelInitializer: init(seed) }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.dropout({ rate: 0.3 }));
  m.add(tf.layers.dense({ units: 8, activation: 'elu', kernelInitializer: init(seed + 1) }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(seed + 2) }));
  randomizeWeights(m, seed);
  return m;
}

function mlpSoftmax(seed: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [9], units: 24, activation: 'tanh' }));
  m.add(tf.layers.dropout({ rate: 0.1 }));
  m.add(tf.layers.dense({ units: 12, activation: 'swish' }));
  m.add(tf.layers.dense({ units: 4, activation: 'softmax' }));
  randomizeWeights(m, seed);
  return m;
}

function convSequence(seed: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv1d({ inputShape: [10, 6], filters: 5, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.maxPooling1d({ poolSize: 2 }));
  m.add(tf.layers.conv1d({ filters: 4, kernelSize: 2, padding: 'same', activation: 'selu' }));
  m.add(tf.layers.averagePooling1d({ poolSize: 2, strides: 1, padding: 'same' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
  randomizeWeights(m, seed);
  return m;
}

describe('exportTfjsToOnnx parity with tfjs predict', () => {
  it('MLP with batch norm and dropout, binary sigmoid', async () => {
    const { diff, onnx } = await parity(mlpBinary(11), 101);
    expect(onnx).toHaveLength(ROWS);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it('MLP with a 4-class softmax', async () => {
    const { diff, onnx } = await parity(mlpSoftmax(21), 102);
    expect(onnx).toHaveLength(ROWS * 4);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it('Conv1D → pooling → flatten → dense on a [10 periods, 6 features] sequence fed flat', async () => {
    const { diff, onnx } = await parity(convSequence(31), 103);
    expect(onnx).toHaveLength(ROWS);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it('strided and dilated same-padded convolutions, batch norm on steps, global pooling, reshape, dense on a sequence', async () => {
    const input = tf.input({ shape: [10, 6] });
    let x = tf.layers.conv1d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
    x = tf.layers.activation({ activation: 'relu6' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.conv1d({ filters: 6, kernelSize: 2, padding: 'same', dilationRate: 2, activation: 'gelu' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: 3, activation: 'softplus' }).apply(x) as tf.SymbolicTensor; // per step
    x = tf.layers.reshape({ targetShape: [3, 5] }) /* [5 steps, 3] → [3, 5] */.apply(x) as tf.SymbolicTensor;
    x = tf.layers.globalMaxPooling1d().apply(x) as tf.SymbolicTensor;
    const output = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    randomizeWeights(model, 41);
    const { diff } = await parity(model, 104);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it('global average pooling and valid max pooling with stride', async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv1d({ inputShape: [10, 6], filters: 3, kernelSize: 4, activation: 'mish' }));
    m.add(tf.layers.maxPooling1d({ poolSize: 3, strides: 2 }));
    m.add(tf.layers.globalAveragePooling1d());
    m.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
    randomizeWeights(m, 51);
    const { diff } = await parity(m, 105);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it('every supported activation and activation layer', async () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [7], units: 10, activation: 'hardSigmoid' }));
    for (const activation of ['softsign', 'linear', 'sigmoid', 'tanh', 'selu', 'elu', 'relu'] as const) {
      m.add(tf.layers.dense({ units: 10, activation }));
    }
    m.add(tf.layers.leakyReLU({ alpha: 0.1 }));
    m.add(tf.layers.dense({ units: 10 }));
    m.add(tf.layers.reLU({ maxValue: 1.5 }));
    m.add(tf.layers.dense({ units: 10 }));
    m.add(tf.layers.elu()); // tfjs supports only alpha = 1
    m.add(tf.layers.dense({ units: 5, useBias: false }));
    m.add(tf.layers.softmax());
    randomizeWeights(m, 61);
    const { diff } = await parity(m, 106);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  describe('with calibration appended', () => {
    it('platt on the positive probability', async () => {
      const { diff } = await parity(mlpBinary(12), 201, { kind: 'platt', a: 0.8, b: -0.4 });
      expect(diff).toBeLessThan(TOLERANCE);
    });

    it('isotonic, including rows outside the knots (clamped)', async () => {
      // Knots inside (0.1, 0.9): random rows reach both clamped ends and several segments.
      const calibration: Calibration = { kind: 'isotonic', x: [0.1, 0.2, 0.35, 0.5, 0.7, 0.9], y: [0.02, 0.05, 0.05, 0.3, 0.6, 0.97] };
      const model = mlpBinary(13);
      const { diff, onnx } = await parity(model, 202, calibration);
      expect(diff).toBeLessThan(TOLERANCE);
      expect(onnx.some((p) => p === Math.fround(0.02))).toBe(true);
      expect(onnx.some((p) => p === Math.fround(0.97))).toBe(true);
    });

    it('temperature on a 4-class softmax', async () => {
      const { diff } = await parity(mlpSoftmax(22), 203, { kind: 'temperature', t: 2.5 });
      expect(diff).toBeLessThan(TOLERANCE);
    });

    it('temperature on a binary sigmoid', async () => {
      const { diff } = await parity(mlpBinary(14), 204, { kind: 'temperature', t: 0.7 });
      expect(diff).toBeLessThan(TOLERANCE);
    });
  });
});

describe('exportTfjsToOnnx calibration by hand', () => {
  it('isotonic in the graph interpolates between knots and clamps outside them', async () => {
    // Prepare: p = sigmoid(1·x + 0), so feeding x = logit(p) scores p itself
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [1], units: 1, activation: 'sigmoid', weights: [tf.tensor2d([[1]]), tf.tensor1d([0])] }));
    const bytes = exportTfjsToOnnx(m, { inputName: 'features', outputName: 'scores', calibration: { kind: 'isotonic', x: [0.2, 0.4, 0.8], y: [0.1, 0.3, 0.9] } });
    const p = [0.05, 0.2, 0.3, 0.4, 0.6, 0.8, 0.95];
    const model = await loadOnnxModel(bytes, { inputName: 'features', outputName: 'scores', inputWidth: 1, outputWidth: 1 }, context);
    // Act
    const out = await model.score(Float32Array.from(p, (v) => Math.log(v / (1 - v))), p.length);
    await model.dispose();
    // Assess: 0.3 is halfway from (0.2, 0.1) to (0.4, 0.3); 0.6 halfway from (0.4, 0.3) to (0.8, 0.9)
    [0.1, 0.1, 0.2, 0.3, 0.6, 0.9, 0.9].forEach((e, i) => expect(Math.abs(out[i]! - e)).toBeLessThan(1e-6));
  });
});

describe('exportTfjsToOnnx graph', () => {
  it('takes a flat [batch, periods·features] input and records the Keras input shape and calibration', () => {
    const calibration: Calibration = { kind: 'platt', a: 1, b: 0.5 };
    const proto = decodeOnnxModel(exportTfjsToOnnx(convSequence(1), { inputName: 'seq', outputName: 'p', calibration }));
    const input = proto.graph?.input?.[0];
    const dims = input?.type?.tensorType?.shape?.dim ?? [];
    expect(input?.name).toBe('seq');
    expect(dims.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 60]);
    expect(proto.graph?.output?.map((o) => o.name)).toEqual(['p']);
    const meta = new Map(proto.metadataProps.map((p) => [p.key, p.value] as const));
    expect(JSON.parse(meta.get(ONNX_METADATA.inputShape)!)).toEqual([10, 6]);
    expect(JSON.parse(meta.get(ONNX_METADATA.calibration)!)).toEqual(calibration);
    expect(Number(proto.opsetImport[0]!.version)).toBe(13);
    expect(Number(proto.irVersion)).toBe(8);
  });
});

describe('exportTfjsToOnnx errors', () => {
  it('accepts an output name that a generated tensor name would otherwise take', async () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [2], units: 1, activation: 'sigmoid', weights: [tf.tensor2d([[1], [-1]]), tf.tensor1d([0.5])] }));
    const bytes = exportTfjsToOnnx(m, { inputName: 'gemm', outputName: 'sigmoid' });
    const model = await loadOnnxModel(bytes, { inputName: 'gemm', outputName: 'sigmoid', inputWidth: 2, outputWidth: 1 }, context);
    const p = await model.score(Float32Array.of(2, 1), 1);
    expect(Math.abs(p[0]! - 1 / (1 + Math.exp(-(2 - 1 + 0.5))))).toBeLessThan(1e-6);
    await model.dispose();
  });

  it('names an unsupported layer and its class', () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 3 }));
    m.add(tf.layers.layerNormalization({ name: 'norm' }));
    m.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
    const act = () => exportTfjsToOnnx(m, { inputName: 'x', outputName: 'y' });
    expect(act).toThrow(TrainingError);
    expect(act).toThrow(/^cannot export layer "norm" \(class LayerNormalization\) to ONNX: supported layers are Dense, /);
    try {
      act();
    } catch (error) {
      expect((error as TrainingError).code).toBe('TRAINING_FAILED');
    }
  });

  it('refuses platt or isotonic calibration on a multi-column output', () => {
    expect(() => exportTfjsToOnnx(mlpSoftmax(3), { inputName: 'x', outputName: 'y', calibration: { kind: 'platt', a: 1, b: 0 } })).toThrow(
      /platt calibration applies to one positive-probability column; the model outputs 4$/,
    );
  });

  it('refuses an isotonic calibration whose x is not increasing', () => {
    expect(() => exportTfjsToOnnx(mlpBinary(3), { inputName: 'x', outputName: 'y', calibration: { kind: 'isotonic', x: [0.5, 0.2], y: [0, 1] } })).toThrow(
      /x must be strictly increasing/,
    );
  });

  it('refuses an unsupported activation by name', () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu', name: 'hidden' }));
    m.add(tf.layers.dense({ units: 1, activation: 'gelu_new', name: 'head' }));
    expect(() => exportTfjsToOnnx(m, { inputName: 'x', outputName: 'y' })).toThrow('cannot export layer "head" (class Dense) to ONNX: activation "gelu_new" is not supported');
  });
});
