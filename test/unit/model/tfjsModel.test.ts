import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError } from '../../../functions/core/errors.js';
import { initTf, loadTfjsModel, readTfjsModelFromMemory, saveTfjsModelToMemory, tfBackendName } from '../../../functions/adapters/model/tfjsModel.js';

const context = { bundle: 'churn', version: 'v2' };
const ROWS = 257; // not a multiple of the small predict batch below

beforeAll(async () => {
  await initTf();
});

function seededMlp(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [5], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }), biasInitializer: tf.initializers.randomNormal({ seed: 2, stddev: 0.3 }) }));
  m.add(tf.layers.batchNormalization({ movingMeanInitializer: tf.initializers.randomNormal({ seed: 3 }) }));
  m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }) }));
  return m;
}

function seededConv(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv1d({ inputShape: [10, 6], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed: 5 }) }));
  m.add(tf.layers.globalAveragePooling1d());
  m.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotNormal({ seed: 6 }) }));
  return m;
}

function rows(width: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([ROWS, width], 0, 1, 'float32', seed).dataSync() as Float32Array);
}

function predict(model: tf.LayersModel, x: Float32Array, shape: number[]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(x, [ROWS, ...shape]), { batchSize: ROWS }) as tf.Tensor).dataSync() as Float32Array);
}

describe('initTf', () => {
  it('runs on the wasm backend when tfjs-node is not installed, and initializes once', async () => {
    const first = await initTf();
    expect(await initTf()).toBe(first);
    expect(tfBackendName()).toBe('wasm');
    expect(first.getBackend()).toBe('wasm');
  });
});

describe('saveTfjsModelToMemory → loadTfjsModel', () => {
  it('round-trips an MLP: same scores as the original model', async () => {
    // Prepare
    const original = seededMlp();
    const files = await saveTfjsModelToMemory(original, { dir: 'tfjs' });
    const x = rows(5, 7);
    // Act
    const model = await loadTfjsModel(files, 'tfjs/model.json', { inputWidth: 5, outputWidth: 3, batchSize: 64 }, context);
    const scores = await model.score(x, ROWS);
    // Assess
    expect([...files.keys()].sort()).toEqual(['tfjs/model.json', 'tfjs/weights.bin']);
    const json = JSON.parse(new TextDecoder().decode(files.get('tfjs/model.json'))) as { format: string; weightsManifest: { paths: string[] }[] };
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0]?.paths).toEqual(['weights.bin']);
    expect(files.get('tfjs/weights.bin')!.byteLength).toBe(original.countParams() * 4); // float32, moving statistics included
    const expected = predict(original, x, [5]);
    expect(scores).toHaveLength(ROWS * 3);
    let max = 0;
    for (let i = 0; i < scores.length; i++) max = Math.max(max, Math.abs(scores[i]! - expected[i]!));
    expect(max).toBeLessThan(1e-6);
    expect(model.inputWidth).toBe(5);
    expect(model.outputWidth).toBe(3);
    await model.dispose();
  });

  it('round-trips a sequence model fed flat [rows, periods·features]', async () => {
    const original = seededConv();
    const files = await saveTfjsModelToMemory(original);
    const x = rows(60, 8);
    const model = await loadTfjsModel(files, 'model.json', { inputWidth: 60, outputWidth: 1 }, context);
    const scores = await model.score(x, ROWS);
    const expected = predict(original, x, [10, 6]);
    expect(scores).toHaveLength(ROWS);
    let max = 0;
    for (let i = 0; i < scores.length; i++) max = Math.max(max, Math.abs(scores[i]! - expected[i]!));
    expect(max).toBeLessThan(1e-6);
    await model.dispose();
  });

  it('does not leak tensors while scoring', async () => {
    const model = await loadTfjsModel(await saveTfjsModelToMemory(seededMlp()), 'model.json', { inputWidth: 5, outputWidth: 3 }, context);
    const x = rows(5, 9);
    await model.score(x, ROWS);
    const before = tf.memory().numTensors;
    await model.score(x, ROWS);
    await model.score(x, 10);
    expect(tf.memory().numTensors).toBe(before);
    await model.dispose();
  });

  it('reads the model back as a LayersModel for export or retraining', async () => {
    const files = await saveTfjsModelToMemory(seededConv(), { dir: 'bundle/tfjs' });
    const model = await readTfjsModelFromMemory(files, 'bundle/tfjs/model.json');
    expect(model.layers.map((l) => l.getClassName())).toEqual(['Conv1D', 'GlobalAveragePooling1D', 'Dense']);
    expect(model.inputs[0]!.shape).toEqual([null, 10, 6]);
    model.dispose();
  });
});

describe('loadTfjsModel errors', () => {
  async function loadError(files: ReadonlyMap<string, Uint8Array>, path: string, inputWidth: number, outputWidth: number): Promise<BundleError> {
    const error = await loadTfjsModel(files, path, { inputWidth, outputWidth }, context).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BundleError);
    return error as BundleError;
  }

  it('names a missing weights file', async () => {
    const files = await saveTfjsModelToMemory(seededMlp(), { dir: 'tfjs' });
    files.delete('tfjs/weights.bin');
    const error = await loadError(files, 'tfjs/model.json', 5, 3);
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toBe('churn@v2: tfjs could not load "tfjs/model.json": weights file "tfjs/weights.bin" named in "tfjs/model.json" is missing');
    expect(error.toJSON()).toMatchObject({ bundle: 'churn', modelVersion: 'v2' });
  });

  it('refuses a model.json that is not a layers model', async () => {
    const files = new Map([['model.json', new TextEncoder().encode('{"format":"graph-model"}')]]);
    const error = await loadError(files, 'model.json', 5, 3);
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toContain('"model.json" is not a tfjs layers model');
  });

  it('refuses input and output widths other than the manifest', async () => {
    const files = await saveTfjsModelToMemory(seededMlp());
    const input = await loadError(files, 'model.json', 6, 3);
    expect(input.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(input.message).toBe("churn@v2: input shape [batch, 5] does not hold the manifest's 6 features");
    const output = await loadError(files, 'model.json', 5, 1);
    expect(output.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(output.message).toBe("churn@v2: output shape [batch, 3] is not the manifest's [batch, 1]");
  });
});
