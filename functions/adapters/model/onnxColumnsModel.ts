/**
 * The onnxruntime-node adapter for a model that takes raw columns (an imported scikit-learn
 * pipeline): one `[N, 1]` tensor per graph input, numbers from the encoded batch and strings from
 * the text batch, instead of one `[N, width]` float tensor.
 */
import * as ort from 'onnxruntime-node';
import { BundleError } from '../../core/errors.js';
import type { ColumnInput, ModelContext, ScoringModel } from '../../core/model/scoringModel.js';
import { OnnxSessionModel, openOnnxSession, type OnnxModelOptions } from './onnxModel.js';

export interface OnnxColumnsIo {
  readonly columnInputs: readonly ColumnInput[];
  /** Number slots per row of the encoded batch. */
  readonly inputWidth: number;
  /** Text slots per row of the text batch. */
  readonly textWidth: number;
  readonly outputName: string;
  /** 1 for P(positive), K for K class probabilities. */
  readonly outputWidth: number;
}

/**
 * Loads a raw-columns ONNX model and checks every manifest input against the graph (present, same
 * type, one value per row), then scores one row (zeros and empty strings) so a wrong output shape
 * fails now, not on the first batch.
 * @throws BundleError MODEL_LOAD_FAILED / MODEL_SHAPE_MISMATCH naming the input.
 */
export async function loadOnnxColumnsModel(bytes: Uint8Array, io: OnnxColumnsIo, context: ModelContext, options: OnnxModelOptions = {}): Promise<ScoringModel> {
  const details = { bundle: context.bundle, modelVersion: context.version };
  const session = await openOnnxSession(bytes, details, options);
  const problem = inputProblem(io, session);
  if (problem) {
    await session.release();
    throw new BundleError('MODEL_SHAPE_MISMATCH', problem, details);
  }
  const model = new OnnxColumnsModel(session, io, details);
  try {
    await model.score(new Float32Array(io.inputWidth), 1, new Array<string>(io.textWidth).fill(''));
  } catch (error) {
    await model.dispose();
    if (error instanceof BundleError) throw error;
    throw new BundleError('MODEL_SHAPE_MISMATCH', `the model cannot score one row: ${(error as Error).message}`, { ...details, cause: error });
  }
  return model;
}

function inputProblem(io: OnnxColumnsIo, session: ort.InferenceSession): string | undefined {
  const graphInputs = new Set(session.inputNames);
  const fed = new Set(io.columnInputs.map((i) => i.name));
  const unfed = session.inputNames.find((name) => !fed.has(name));
  if (unfed !== undefined) return `the model's input "${unfed}" is not fed by any column of the manifest`;
  if (!session.outputNames.includes(io.outputName)) return `the model has no output "${io.outputName}" (its outputs: ${session.outputNames.join(', ')})`;
  for (const input of io.columnInputs) {
    if (!graphInputs.has(input.name)) return `the model has no input "${input.name}" (its inputs: ${session.inputNames.join(', ')})`;
    const meta = session.inputMetadata.find((m) => m.name === input.name);
    if (meta?.isTensor && meta.type !== input.type) return `input "${input.name}" is ${meta.type}, the manifest says ${input.type}`;
    const width = input.type === 'string' ? io.textWidth : io.inputWidth;
    if (input.slot < 0 || input.slot >= width) return `input "${input.name}" reads slot ${input.slot}, outside the row's ${width}`;
  }
  return undefined;
}

class OnnxColumnsModel extends OnnxSessionModel<OnnxColumnsIo> {
  async score(batch: Float32Array, rows: number, text?: readonly string[]): Promise<Float32Array> {
    if (rows === 0) return new Float32Array(0);
    const { inputWidth, textWidth } = this.io;
    if (batch.length < rows * inputWidth) throw new RangeError(`score: batch holds ${batch.length} values, ${rows} rows need ${rows * inputWidth}`);
    if (textWidth > 0 && (!text || text.length < rows * textWidth)) {
      throw new BundleError('MODEL_SHAPE_MISMATCH', `the model takes ${textWidth} text column(s): its caller must pass the text batch the row encoder writes`, this.details);
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of this.io.columnInputs) {
      if (input.type === 'string') {
        const column = new Array<string>(rows);
        for (let row = 0; row < rows; row++) column[row] = text![row * textWidth + input.slot]!;
        feeds[input.name] = new ort.Tensor('string', column, [rows, 1]);
      } else {
        const column = input.type === 'float32' ? new Float32Array(rows) : new Float64Array(rows);
        for (let row = 0; row < rows; row++) column[row] = batch[row * inputWidth + input.slot]!;
        feeds[input.name] = new ort.Tensor(input.type, column, [rows, 1]);
      }
    }
    // Only the probabilities are fetched: a pipeline's `label` output is not computed for nothing.
    return this.run(feeds, rows);
  }
}
