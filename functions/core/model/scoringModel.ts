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
  /**
   * `text`: for a model that takes columns as text (an imported pipeline), `rows × textWidth` strings,
   * row-major, as the row encoder writes them; other models ignore it.
   */
  score(batch: Float32Array, rows: number, text?: readonly string[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/**
 * One graph input of a model that takes raw columns, one tensor `[N, 1]` each (a scikit-learn
 * pipeline exported by skl2onnx): fed from a number slot of the encoded batch or a text slot.
 */
export interface ColumnInput {
  /** Graph input name. */
  readonly name: string;
  readonly type: 'float32' | 'float64' | 'string';
  /** Index of the slot in the row: a number slot (`featureNames`) or, for `string`, a text slot (`textNames`). */
  readonly slot: number;
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
  /** A model taking one `[N, 1]` tensor per raw column instead of `inputName` (`manifest.model.inputs`). */
  readonly columnInputs?: readonly ColumnInput[];
  /** Text slots per row, with `columnInputs`. */
  readonly textWidth?: number;
  /** Threads inside one operator, where the runtime has the notion. @default 1 */
  readonly intraOpNumThreads?: number;
}

/**
 * The port through which model runtimes enter the core. The core never imports onnxruntime-node
 * or tfjs; `functions/adapters/model/modelLoader.ts` implements this for both.
 * @throws BundleError MODEL_LOAD_FAILED when the runtime cannot read the file.
 */
export type ModelLoader = (request: ModelLoadRequest, context: ModelContext) => Promise<ScoringModel>;
