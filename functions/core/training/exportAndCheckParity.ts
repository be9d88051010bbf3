import type * as tfTypes from '@tensorflow/tfjs';
import { TrainingError } from '../errors.js';
import type { Calibration } from '../model/calibration.js';
import { exportTfjsToOnnx } from '../model/exportOnnx.js';
import type { EncodedRows } from './trialTrainer.js';
import { MODEL_INPUT_NAME, modelOutputName } from './modelGraphNames.js';
import type { ModelShape } from './modelShape.js';
import type { TrainingRuntime } from './trainingRuntime.js';
import { versionStamp } from './versionStamp.js';

/** Rows scored by both runtimes in the parity check. */
export const PARITY_ROWS = 2048;

/** Largest |ONNX − calibrated tfjs| tolerated: export bugs show as large gaps, float32 rounding far below. */
export const PARITY_TOLERANCE = 1e-3;

export interface ExportInput {
  readonly runtime: TrainingRuntime;
  readonly model: tfTypes.LayersModel;
  readonly classes: readonly string[];
  readonly shape: ModelShape;
  /** Appended to the ONNX graph after the model (isotonic). */
  readonly graphCalibration: Calibration | undefined;
  /** The test rows and their calibrated tfjs probabilities, for the parity check. */
  readonly test: EncodedRows;
  readonly expected: Float32Array;
  readonly bundleName: string;
  /** @default {@link versionStamp} of `now` and the ONNX bytes */
  readonly version: string | undefined;
  readonly now: Date;
}

export interface ExportedModel {
  readonly version: string;
  readonly outputName: string;
  /** `model.onnx`, then the tfjs files (`tfjs/model.json`, `tfjs/weights.bin`). */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The files beside `model.onnx`: the tfjs model. */
  readonly extraFiles: string[];
  readonly parity: { readonly rows: number; readonly maxAbsDiff: number };
}

/**
 * Exports the trained model to ONNX (with the graph calibration appended), scores up to
 * {@link PARITY_ROWS} test rows with it and refuses the export when it disagrees with tfjs, then
 * serializes the tfjs model beside it.
 * @throws TrainingError when ONNX and tfjs disagree by more than {@link PARITY_TOLERANCE}.
 */
export async function exportAndCheckParity(input: ExportInput): Promise<ExportedModel> {
  const { test, shape } = input;
  const outputName = modelOutputName(input.classes);
  const onnx = exportTfjsToOnnx(input.model, {
    inputName: MODEL_INPUT_NAME,
    outputName,
    ...(input.graphCalibration ? { calibration: input.graphCalibration } : {}),
  });
  const version = input.version ?? versionStamp(input.now, onnx);
  const width = shape.inputShape.reduce((a, b) => a * b, 1);
  const rows = Math.min(test.rows, PARITY_ROWS);
  const onnxModel = await input.runtime.loadModel(
    {
      format: 'onnx',
      files: new Map([['model.onnx', onnx]]),
      file: 'model.onnx',
      inputName: MODEL_INPUT_NAME,
      outputName,
      inputWidth: width,
      outputWidth: shape.outputUnits,
      ...(shape.inputShape.length === 2 ? { sequence: { periods: shape.inputShape[0]!, features: shape.inputShape[1]! } } : {}),
    },
    { bundle: input.bundleName, version },
  );
  let maxAbsDiff = 0;
  try {
    const fromOnnx = await onnxModel.score(test.x, rows);
    for (let i = 0; i < rows * shape.outputUnits; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(fromOnnx[i]! - input.expected[i]!));
  } finally {
    await onnxModel.dispose();
  }
  if (!(maxAbsDiff <= PARITY_TOLERANCE)) {
    throw new TrainingError(`the exported ONNX model disagrees with tfjs by ${maxAbsDiff} on ${rows} test rows`, { isInputError: false });
  }
  const tfjsFiles = await input.runtime.saveLayersModel(input.model, 'tfjs');
  return { version, outputName, files: new Map([['model.onnx', onnx], ...tfjsFiles]), extraFiles: [...tfjsFiles.keys()], parity: { rows, maxAbsDiff } };
}
