import { describe, expect, it } from 'vitest';
import { BundleError } from '../../../functions/core/errors.js';
import { buildLogisticOnnx, buildSoftmaxOnnx } from '../../../functions/core/model/onnxFixtures.js';
import { loadOnnxModel, type OnnxModelIo } from '../../../functions/adapters/model/onnxModel.js';

const context = { bundle: 'bank-marketing', version: 'v7' };
const logistic = buildLogisticOnnx([0.5, -1, 2], 0.1);
const io: OnnxModelIo = { inputName: 'features', outputName: 'probability', inputWidth: 3, outputWidth: 1 };

async function loadError(bytes: Uint8Array, overrides: Partial<OnnxModelIo>): Promise<BundleError> {
  const error = await loadOnnxModel(bytes, { ...io, ...overrides }, context).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BundleError);
  return error as BundleError;
}

describe('loadOnnxModel checks the model against the manifest', () => {
  it('names a missing input and the inputs the model has', async () => {
    const error = await loadError(logistic, { inputName: 'x' });
    expect(error.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(error.message).toBe('bank-marketing@v7: the model has no input "x" (its inputs: "features")');
    expect(error.toJSON()).toMatchObject({ bundle: 'bank-marketing', modelVersion: 'v7' });
    expect(error.isInputError).toBe(true);
  });

  it('names a missing output', async () => {
    const error = await loadError(logistic, { outputName: 'scores' });
    expect(error.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(error.message).toBe('bank-marketing@v7: the model has no output "scores" (its outputs: "probability")');
  });

  it('refuses an input width other than the feature spec', async () => {
    const error = await loadError(logistic, { inputWidth: 4 });
    expect(error.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(error.message).toBe('bank-marketing@v7: input "features" has shape [batch, 3], the manifest expects [batch, 4]');
  });

  it('refuses an output width other than the task', async () => {
    const softmax = buildSoftmaxOnnx([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0], { outputName: 'probability' });
    const error = await loadError(softmax, { outputWidth: 1 });
    expect(error.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(error.message).toBe('bank-marketing@v7: output "probability" has shape [batch, 3], the manifest expects [batch, 1]');
  });

  it('refuses a sequence shape that does not make the input width', async () => {
    const error = await loadError(logistic, { sequence: { periods: 2, features: 2 } });
    expect(error.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(error.message).toBe('bank-marketing@v7: sequence [2 periods, 2 features] does not make the input width 3');
  });

  it('reports bytes onnxruntime cannot load as MODEL_LOAD_FAILED with the cause', async () => {
    const error = await loadError(new TextEncoder().encode('not an onnx model'), {});
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toMatch(/^bank-marketing@v7: onnxruntime could not load the model: /);
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.isInputError).toBe(false);
  });
});

describe('OnnxScoringModel.score', () => {
  it('scores only the first rows of a larger batch buffer', async () => {
    const model = await loadOnnxModel(logistic, io, context, { intraOpNumThreads: 2 });
    // 2 rows used, then leftovers from an earlier, bigger batch
    const batch = Float32Array.of(1, 1, 1, -1, 0, 2, 9, 9, 9);
    const p = await model.score(batch, 2);
    expect(p).toHaveLength(2);
    expect(Math.abs(p[0]! - 1 / (1 + Math.exp(-(0.5 - 1 + 2 + 0.1))))).toBeLessThan(1e-6);
    expect(Math.abs(p[1]! - 1 / (1 + Math.exp(-(-0.5 + 4 + 0.1))))).toBeLessThan(1e-6);
    expect(model.inputWidth).toBe(3);
    expect(model.outputWidth).toBe(1);
    await model.dispose();
  });

  it('returns nothing for zero rows and refuses a batch shorter than rows × width', async () => {
    const model = await loadOnnxModel(logistic, io, context);
    expect(await model.score(new Float32Array(0), 0)).toHaveLength(0);
    await expect(model.score(new Float32Array(5), 2)).rejects.toThrow('score: batch holds 5 values, 2 rows need 6');
    await model.dispose();
  });
});
