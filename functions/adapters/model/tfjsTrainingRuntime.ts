import type * as tfTypes from '@tensorflow/tfjs';
import { patchConvFilterGradient } from '../../core/training/trainingBackend.js';
import type { TrainingRuntime } from '../../core/training/trainingRuntime.js';
import { loadModel } from './modelLoader.js';
import { initTf, saveTfjsModelToMemory } from './tfjsModel.js';

let patched = false;

/**
 * The tfjs backend for training: {@link initTf}'s choice (tfjs-node if installed, else wasm), with
 * one gap of the wasm backend filled so Conv1D models can train there (see patchConvFilterGradient).
 */
export async function initTrainingTf(): Promise<typeof tfTypes> {
  const tf = await initTf();
  if (!patched) {
    patchConvFilterGradient(tf);
    patched = true;
  }
  return tf;
}

/** What every caller of the core's `train` passes: tfjs to fit, onnxruntime-node for the parity check. */
export const tfjsTrainingRuntime: TrainingRuntime = {
  tf: initTrainingTf,
  loadModel,
  saveLayersModel: (model, dir) => saveTfjsModelToMemory(model, { dir }),
};
