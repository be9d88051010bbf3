/**
 * What the scoring engine needs from a model, whatever runs it (onnxruntime-node, tfjs).
 *
 * Input is a row-major Float32Array batch of `rows × inputWidth` encoded features, exactly as
 * the fitted feature spec writes them. Output is `rows × classes.length` probabilities for
 * multiclass, or `rows × 1` probabilities of the positive class for binary models.
 */
export interface ScoringModel {
  readonly inputWidth: number;
  /** 1 for binary (P(positive)), K for a K-class model. */
  readonly outputWidth: number;
  score(batch: Float32Array, rows: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** Which bundle a model comes from, for error messages. */
export interface ModelContext {
  readonly bundle: string;
  readonly version: string;
}

/** What a loader needs to turn a bundle's model file into a {@link ScoringModel}. */
export interface ModelLoadRequest {
  readonly format: 'onnx' | 'tfjs';
  /** Every file of the bundle, by path inside it (tfjs models span several files). */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The file to load: `model.onnx`, or `tfjs/model.json`. */
  readonly file: string;
  readonly inputName: string;
  readonly outputName: string;
  readonly inputWidth: number;
  readonly outputWidth: number;
  /** Sequence models: the [periods, features] the graph reshapes its flat input to. */
  readonly sequence?: { readonly periods: number; readonly features: number };
  /** Threads inside one operator, where the runtime has the notion. @default 1 */
  readonly intraOpNumThreads?: number;
}

/**
 * The port through which model runtimes enter the core. The core never imports onnxruntime-node
 * or tfjs; `functions/adapters/model/modelLoader.ts` implements this for both.
 * @throws BundleError MODEL_LOAD_FAILED when the runtime cannot read the file.
 */
export type ModelLoader = (request: ModelLoadRequest, context: ModelContext) => Promise<ScoringModel>;
