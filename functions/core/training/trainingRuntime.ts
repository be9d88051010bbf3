import type * as tfTypes from '@tensorflow/tfjs';
import type { ModelLoader } from '../model/scoringModel.js';

/**
 * The port through which the trainer gets its runtimes. The trainer is written against tfjs's
 * types, but the core imports no runtime: `functions/adapters/model/tfjsTrainingRuntime.ts`
 * brings tfjs (tfjs-node when installed, else wasm) and onnxruntime-node.
 */
export interface TrainingRuntime {
  /** tfjs on its backend, ready to build and fit models. */
  tf(): Promise<typeof tfTypes>;
  /** Loads the exported ONNX model for the parity check against tfjs. */
  readonly loadModel: ModelLoader;
  /** Serializes a trained model to bundle files under `dir` (`<dir>/model.json`, `<dir>/weights.bin`). */
  saveLayersModel(model: tfTypes.LayersModel, dir: string): Promise<Map<string, Uint8Array>>;
}
