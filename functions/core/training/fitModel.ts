import type * as tfTypes from '@tensorflow/tfjs';
import type { ModelShape } from './modelShape.js';
import { trainWithSearch, type TrainedModel } from './searchHyperparameters.js';
import type { Architecture, SearchSettings, TrainingSettings } from './trainingSpec.js';
import { TrainingTensors, type EncodedRows } from './trialTrainer.js';

export interface FitModelInput {
  readonly tf: typeof tfTypes;
  readonly train: EncodedRows;
  readonly validation: EncodedRows;
  readonly shape: ModelShape;
  readonly architecture: Architecture;
  readonly training: TrainingSettings;
  /** Successive-halving search settings; undefined trains the spec's configuration only. */
  readonly search: SearchSettings | undefined;
  readonly seed: number;
  readonly log: (line: string) => void;
}

/**
 * Trains the model (after a search when there is one) on the train rows, with early stopping on the
 * validation rows; the tensors live only for the fit. The caller owns and disposes the model.
 */
export async function fitModel(input: FitModelInput): Promise<TrainedModel> {
  const { tf, search } = input;
  const tensors = new TrainingTensors(tf, input.train, input.validation, input.shape);
  try {
    return await trainWithSearch({ tf, data: tensors, architecture: input.architecture, training: input.training, ...(search ? { search } : {}), seed: input.seed, log: input.log });
  } finally {
    tensors.dispose();
  }
}
