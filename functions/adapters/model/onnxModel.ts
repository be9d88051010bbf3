/**
 * The onnxruntime-node adapter behind {@link ScoringModel}.
 */
import * as ort from 'onnxruntime-node';
import { BundleError } from '../../core/errors.js';
import type { ModelContext, ScoringModel } from '../../core/model/scoringModel.js';

/** What the bundle manifest says the model takes and returns. */
export interface OnnxModelIo {
  readonly inputName: string;
  readonly outputName: string;
  /** Encoded features per row (for sequence models: periods × features, fed flat). */
  readonly inputWidth: number;
  /** 1 for binary (P(positive)), K for K classes. */
  readonly outputWidth: number;
  /** Sequence models: the [periods, features] the graph reshapes its flat input to. */
  readonly sequence?: { readonly periods: number; readonly features: number };
}

/** Session tuning. */
export interface OnnxModelOptions {
  /**
   * Threads inside one operator. One by default: a Lambda with ≤ 1,769 MB has one vCPU, and
   * parallel scorers in tests share the machine.
   * @default 1
   */
  readonly intraOpNumThreads?: number;
  /** @default 'all' */
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

function describeShape(meta: ort.InferenceSession.ValueMetadata | undefined): string {
  if (!meta || !meta.isTensor) return 'unknown';
  return `[${meta.shape.map((d) => (typeof d === 'string' ? d || '?' : String(d))).join(', ')}]`;
}

/**
 * Checks one graph input/output against the manifest: present, float32, rank 2 (or, for a one-column
 * output, rank 1: one probability per row), fixed width. Returns the reason it does not match, or undefined.
 */
function mismatch(kind: 'input' | 'output', name: string, width: number, names: readonly string[], metadata: readonly ort.InferenceSession.ValueMetadata[]): string | undefined {
  if (!names.includes(name)) return `the model has no ${kind} "${name}" (its ${kind}s: ${names.map((n) => `"${n}"`).join(', ')})`;
  const meta = metadata.find((m) => m.name === name);
  // Older models or runtimes may not describe shapes: then the probe at load is the check.
  if (!meta || !meta.isTensor || meta.shape.length === 0) return undefined;
  if (meta.type !== 'float32') return `${kind} "${name}" is ${meta.type}, expected float32`;
  if (kind === 'output' && width === 1 && meta.shape.length === 1) return undefined;
  const last = meta.shape[meta.shape.length - 1];
  if (meta.shape.length !== 2 || (typeof last === 'number' && last !== width)) {
    return `${kind} "${name}" has shape ${describeShape(meta)}, the manifest expects [batch, ${width}]`;
  }
  return undefined;
}

/** True when the metadata fixes the width (last dimension) of this input/output, so no probe is needed. */
function widthKnown(name: string, metadata: readonly ort.InferenceSession.ValueMetadata[]): boolean {
  const meta = metadata.find((m) => m.name === name);
  if (!meta || !meta.isTensor || meta.shape.length === 0) return false;
  return meta.shape.length === 1 || typeof meta.shape[meta.shape.length - 1] === 'number';
}

/**
 * Loads an ONNX model from its bytes and checks it against the manifest's names and widths.
 *
 * @throws BundleError `MODEL_LOAD_FAILED` when onnxruntime cannot load the bytes (`cause` holds its error),
 *   `MODEL_SHAPE_MISMATCH` when the input/output names or widths differ from the manifest.
 * @example
 * const model = await loadOnnxModel(bytes, { inputName: 'features', outputName: 'probability', inputWidth: 51, outputWidth: 1 },
 *   { bundle: 'bank-marketing', version: '2026-11-23T0912-ab12cd' });
 * const p = await model.score(batch, rows); // rows × 1 probabilities
 */
export async function loadOnnxModel(bytes: Uint8Array, io: OnnxModelIo, context: ModelContext, options: OnnxModelOptions = {}): Promise<ScoringModel> {
  const details = { bundle: context.bundle, modelVersion: context.version };
  if (io.sequence && io.sequence.periods * io.sequence.features !== io.inputWidth) {
    throw new BundleError(
      'MODEL_SHAPE_MISMATCH',
      `sequence [${io.sequence.periods} periods, ${io.sequence.features} features] does not make the input width ${io.inputWidth}`,
      details,
    );
  }

  const session = await openOnnxSession(bytes, details, options);
  const problem =
    mismatch('input', io.inputName, io.inputWidth, session.inputNames, session.inputMetadata) ??
    mismatch('output', io.outputName, io.outputWidth, session.outputNames, session.outputMetadata);
  if (problem) {
    await session.release();
    throw new BundleError('MODEL_SHAPE_MISMATCH', problem, details);
  }

  const model = new OnnxScoringModel(session, io, details);
  // A width the graph leaves symbolic is checked now, on one row of zeros, not on the first real batch.
  if (!widthKnown(io.inputName, session.inputMetadata) || !widthKnown(io.outputName, session.outputMetadata)) {
    try {
      await model.score(new Float32Array(io.inputWidth), 1);
    } catch (error) {
      await model.dispose();
      if (error instanceof BundleError) throw error;
      throw new BundleError('MODEL_SHAPE_MISMATCH', `the model cannot score one row of ${io.inputWidth} features: ${(error as Error).message}`, { ...details, cause: error });
    }
  }
  return model;
}

/**
 * An onnxruntime session with Propensity's settings (one thread per operator unless told, sequential).
 * @throws BundleError MODEL_LOAD_FAILED with onnxruntime's error as `cause`.
 */
export async function openOnnxSession(bytes: Uint8Array, details: { bundle: string; modelVersion: string }, options: OnnxModelOptions = {}): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: options.intraOpNumThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    });
  } catch (error) {
    throw new BundleError('MODEL_LOAD_FAILED', `onnxruntime could not load the model: ${(error as Error).message}`, { ...details, cause: error });
  }
}

/** A {@link ScoringModel} over one session: runs the feeds, fetches the probabilities output and checks its size. */
export abstract class OnnxSessionModel<Io extends { readonly outputName: string; readonly inputWidth: number; readonly outputWidth: number }> implements ScoringModel {
  readonly inputWidth: number;
  readonly outputWidth: number;
  private released = false;

  constructor(
    protected readonly session: ort.InferenceSession,
    protected readonly io: Io,
    protected readonly details: { bundle: string; modelVersion: string },
  ) {
    this.inputWidth = io.inputWidth;
    this.outputWidth = io.outputWidth;
  }

  abstract score(batch: Float32Array, rows: number, text?: readonly string[]): Promise<Float32Array>;

  /** Runs the session for `rows` rows and returns the `rows × outputWidth` probabilities (only that output is fetched). */
  protected async run(feeds: Record<string, ort.Tensor>, rows: number): Promise<Float32Array> {
    const { outputName } = this.io;
    const results = await this.session.run(feeds, [outputName]);
    const output = results[outputName];
    if (!output || !(output.data instanceof Float32Array) || output.data.length !== rows * this.outputWidth) {
      throw new BundleError(
        'MODEL_SHAPE_MISMATCH',
        `output "${outputName}" has shape [${output?.dims.join(', ') ?? ''}]${output && !(output.data instanceof Float32Array) ? ` of ${output.type}, not float32,` : ''} for ${rows} rows, expected [${rows}, ${this.outputWidth}]`,
        this.details,
      );
    }
    return output.data;
  }

  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

class OnnxScoringModel extends OnnxSessionModel<OnnxModelIo> {
  async score(batch: Float32Array, rows: number): Promise<Float32Array> {
    if (rows === 0) return new Float32Array(0);
    const length = rows * this.inputWidth;
    if (batch.length < length) throw new RangeError(`score: batch holds ${batch.length} values, ${rows} rows need ${length}`);
    // subarray is a view: onnxruntime reads the engine's batch buffer without a copy.
    return this.run({ [this.io.inputName]: new ort.Tensor('float32', batch.subarray(0, length), [rows, this.inputWidth]) }, rows);
  }
}
