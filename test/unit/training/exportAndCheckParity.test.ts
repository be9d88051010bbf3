import type * as tfTypes from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTrainingTf } from '../../../functions/adapters/model/tfjsTrainingRuntime.js';
import { sha256Hex } from '../../../functions/core/bundle/bundle.js';
import { TrainingError } from '../../../functions/core/errors.js';
import type { ModelLoadRequest } from '../../../functions/core/model/scoringModel.js';
import { buildModel } from '../../../functions/core/training/buildModel.js';
import { exportAndCheckParity, type ExportInput } from '../../../functions/core/training/exportAndCheckParity.js';
import type { TrainingRuntime } from '../../../functions/core/training/trainingRuntime.js';

let tf: typeof tfTypes;
beforeAll(async () => {
  tf = await initTrainingTf();
});

/** A runtime whose "ONNX" model answers `answer` for every row, and which saves one tfjs file. */
function fakeRuntime(answer: number, requests: ModelLoadRequest[]): TrainingRuntime {
  return {
    tf: () => Promise.resolve(tf),
    loadModel: (request) => {
      requests.push(request);
      const model = { inputWidth: request.inputWidth, outputWidth: request.outputWidth, score: (_x: Float32Array, rows: number) => Promise.resolve(new Float32Array(rows).fill(answer)), dispose: () => Promise.resolve() };
      return Promise.resolve(model);
    },
    saveLayersModel: (_model, dir) => Promise.resolve(new Map([[`${dir}/model.json`, Uint8Array.of(7)]])),
  };
}

function exportInput(runtime: TrainingRuntime, expected: number): ExportInput {
  const model = buildModel(tf, { kind: 'mlp', layers: [2], activation: 'relu', dropout: 0, l2: 0, batchNorm: false }, { inputShape: [3], outputUnits: 1 });
  return {
    runtime,
    model,
    classes: ['no', 'yes'],
    shape: { inputShape: [3], outputUnits: 1 },
    graphCalibration: undefined,
    test: { x: new Float32Array(3 * 4), y: Int32Array.of(0, 1, 0, 1), rows: 4 },
    expected: new Float32Array(4).fill(expected),
    bundleName: 'hand',
    version: undefined,
    now: new Date('2026-01-02T03:04:05Z'),
  };
}

describe('exportAndCheckParity', () => {
  it('exports model.onnx beside the tfjs files, stamps the version with its hash, and loads it as the bundle will', async () => {
    const requests: ModelLoadRequest[] = [];
    const input = exportInput(fakeRuntime(0.25, requests), 0.25);
    const exported = await exportAndCheckParity(input);
    input.model.dispose();
    expect([...exported.files.keys()]).toEqual(['model.onnx', 'tfjs/model.json']);
    expect(exported.extraFiles).toEqual(['tfjs/model.json']);
    expect(exported.outputName).toBe('probability');
    expect(exported.version).toBe(`2026-01-02T0304-${sha256Hex(exported.files.get('model.onnx')!).slice(0, 6)}`);
    expect(exported.parity).toEqual({ rows: 4, maxAbsDiff: 0 });
    expect(requests[0]).toMatchObject({ format: 'onnx', file: 'model.onnx', inputName: 'features', outputName: 'probability', inputWidth: 3, outputWidth: 1 });
  });

  it('refuses an ONNX model that disagrees with tfjs, saying by how much on how many rows', async () => {
    const input = exportInput(fakeRuntime(0.75, []), 0.25);
    const error = await exportAndCheckParity(input).catch((e: unknown) => e);
    input.model.dispose();
    expect(error).toBeInstanceOf(TrainingError);
    expect(error).toMatchObject({ code: 'TRAINING_FAILED', isInputError: false, message: 'the exported ONNX model disagrees with tfjs by 0.5 on 4 test rows' });
  });
});
