/**
 * The tfjs adapter behind {@link ScoringModel}, plus in-memory save/load of LayersModels.
 *
 * Models are read from bytes already in memory (a bundle's files), never from file:// or http.
 * The backend is tfjs-node when it happens to be installed, else the wasm backend.
 */
import { existsSync } from 'node:fs';
import path, { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { BundleError } from '../../core/errors.js';
import type { ModelContext, ScoringModel } from '../../core/model/scoringModel.js';

/** What the bundle manifest says the model takes and returns. */
export interface TfjsModelIo {
  /** Encoded features per row, fed flat; sequence models reshape to their Keras input shape. */
  readonly inputWidth: number;
  readonly outputWidth: number;
  /**
   * Rows per predict() step. tfjs defaults to 32, which on wasm is ~50× slower than large batches.
   * @default 8192
   */
  readonly batchSize?: number;
}

/** Options for {@link initTf}. */
export interface InitTfOptions {
  /** Directory (or URL prefix) of the tfjs-backend-wasm `.wasm` files, when bundled away from node_modules. */
  readonly wasmPaths?: string;
}

const DEFAULT_PREDICT_BATCH = 8192;

let initialized: Promise<typeof tf> | undefined;

/**
 * Picks and initializes the tfjs backend once per process: `tensorflow` (tfjs-node) when it can
 * be imported, else `wasm`. Later calls return the same promise; read the choice with `tf.getBackend()`
 * or {@link tfBackendName}.
 */
export function initTf(options: InitTfOptions = {}): Promise<typeof tf> {
  initialized ??= (async () => {
    if (await tryTfjsNode()) return tf;
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const wasmPaths = options.wasmPaths ?? shippedWasmDir();
    if (wasmPaths) wasm.setWasmPaths(wasmPaths);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialize');
    await tf.ready();
    return tf;
  })();
  // A failed start may be retried (e.g. after fixing wasmPaths).
  initialized.catch(() => {
    initialized = undefined;
  });
  return initialized;
}

/**
 * The `.wasm` files shipped beside a bundled handler (the Lambda asset copies them to
 * `<asset>/tfjs-backend-wasm/`): once bundled, the backend cannot find them in node_modules.
 * Undefined when running from source, where the package finds its own files.
 */
function shippedWasmDir(): string | undefined {
  const here = typeof __dirname === 'string' ? __dirname : path.dirname(fileURLToPath(import.meta.url));
  const dir = path.join(here, 'tfjs-backend-wasm');
  return existsSync(dir) ? `${dir}${path.sep}` : undefined;
}

async function tryTfjsNode(): Promise<boolean> {
  // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
  const specifier = '@tensorflow/tfjs-node';
  try {
    await import(specifier);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

/** The active tfjs backend ('tensorflow', 'wasm', or 'cpu' before {@link initTf}). */
export function tfBackendName(): string {
  return tf.getBackend();
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: tf.io.TrainingConfig;
}

/**
 * Reads a LayersModel from files in memory: `model.json` and the weight files its manifest names,
 * resolved relative to `modelJsonPath` (e.g. `tfjs/model.json` → `tfjs/weights.bin`).
 * @throws Error naming the missing or malformed file.
 */
export async function readTfjsModelFromMemory(files: ReadonlyMap<string, Uint8Array>, modelJsonPath: string): Promise<tf.LayersModel> {
  const jsonBytes = files.get(modelJsonPath);
  if (!jsonBytes) throw new Error(`"${modelJsonPath}" is missing`);
  const json = JSON.parse(new TextDecoder().decode(jsonBytes)) as ModelJson;
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new Error(`"${modelJsonPath}" is not a tfjs layers model (no modelTopology / weightsManifest)`);
  const dir = posix.dirname(modelJsonPath);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) {
      const resolved = posix.join(dir, path);
      const bytes = files.get(resolved);
      if (!bytes) throw new Error(`weights file "${resolved}" named in "${modelJsonPath}" is missing`);
      // Copy into a standalone ArrayBuffer: the bytes may be a view on a larger buffer.
      buffers.push(bytes.slice().buffer);
    }
  }
  const handler = tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: tf.io.CompositeArrayBuffer.join(buffers) });
  return tf.loadLayersModel(handler);
}

/**
 * Loads a tfjs LayersModel bundle from memory and wraps it as a {@link ScoringModel}.
 *
 * @throws BundleError `MODEL_LOAD_FAILED` when the files are missing or tfjs cannot read them,
 *   `MODEL_SHAPE_MISMATCH` when input or output width differ from the manifest.
 * @example
 * const model = await loadTfjsModel(bundle.files, 'tfjs/model.json', { inputWidth: 51, outputWidth: 1 }, { bundle: 'bank', version: 'v3' });
 */
export async function loadTfjsModel(
  files: ReadonlyMap<string, Uint8Array>,
  modelJsonPath: string,
  io: TfjsModelIo,
  context: ModelContext,
  options: InitTfOptions = {},
): Promise<ScoringModel> {
  const details = { bundle: context.bundle, modelVersion: context.version };
  await initTf(options);
  let model: tf.LayersModel;
  try {
    model = await readTfjsModelFromMemory(files, modelJsonPath);
  } catch (error) {
    throw new BundleError('MODEL_LOAD_FAILED', `tfjs could not load "${modelJsonPath}": ${(error as Error).message}`, { ...details, cause: error });
  }

  const inputShape = model.inputs[0]!.shape.slice(1);
  const outputShape = model.outputs[0]!.shape.slice(1);
  const problem =
    model.inputs.length !== 1 || model.outputs.length !== 1
      ? `the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs, expected 1 and 1`
      : inputShape.some((d) => d === null) || product(inputShape) !== io.inputWidth
        ? `input shape [batch, ${inputShape.join(', ')}] does not hold the manifest's ${io.inputWidth} features`
        : outputShape.length !== 1 || outputShape[0] !== io.outputWidth
          ? `output shape [batch, ${outputShape.join(', ')}] is not the manifest's [batch, ${io.outputWidth}]`
          : undefined;
  if (problem) {
    model.dispose();
    throw new BundleError('MODEL_SHAPE_MISMATCH', problem, details);
  }
  return new TfjsScoringModel(model, inputShape as number[], io, details);
}

function product(dims: readonly (number | null)[]): number {
  return dims.reduce<number>((a, b) => a * (b ?? Number.NaN), 1);
}

class TfjsScoringModel implements ScoringModel {
  readonly inputWidth: number;
  readonly outputWidth: number;
  private readonly batchSize: number;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly inputShape: readonly number[],
    io: TfjsModelIo,
    private readonly details: { bundle: string; modelVersion: string },
  ) {
    this.inputWidth = io.inputWidth;
    this.outputWidth = io.outputWidth;
    this.batchSize = io.batchSize ?? DEFAULT_PREDICT_BATCH;
  }

  async score(batch: Float32Array, rows: number): Promise<Float32Array> {
    if (rows === 0) return new Float32Array(0);
    const length = rows * this.inputWidth;
    if (batch.length < length) throw new RangeError(`score: batch holds ${batch.length} values, ${rows} rows need ${length}`);
    const output = tf.tidy(() => {
      const x = tf.tensor(batch.subarray(0, length), [rows, ...this.inputShape], 'float32');
      return this.model.predict(x, { batchSize: Math.min(rows, this.batchSize) }) as tf.Tensor;
    });
    let data: Float32Array;
    try {
      data = (await output.data()) as Float32Array;
    } finally {
      output.dispose();
    }
    if (data.length !== rows * this.outputWidth) {
      throw new BundleError('MODEL_SHAPE_MISMATCH', `the model gave ${data.length} values for ${rows} rows, expected [${rows}, ${this.outputWidth}]`, this.details);
    }
    return data;
  }

  dispose(): Promise<void> {
    this.model.dispose();
    return Promise.resolve();
  }
}

/**
 * Serializes a LayersModel to two in-memory files, `model.json` and `weights.bin`, in the format
 * `tf.loadLayersModel` reads (and {@link loadTfjsModel} via a bundle).
 * @param options.dir folder prefix for both files inside a bundle, e.g. `tfjs`.
 */
export async function saveTfjsModelToMemory(model: tf.LayersModel, options: { dir?: string } = {}): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const weightsFile = 'weights.bin';
  const at = (name: string): string => (options.dir ? posix.join(options.dir, name) : name);
  await model.save(
    tf.io.withSaveHandler((artifacts) => {
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology as object,
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
      files.set(at('model.json'), new TextEncoder().encode(JSON.stringify(json)));
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      files.set(at(weightsFile), new Uint8Array(weights));
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }),
  );
  return files;
}
