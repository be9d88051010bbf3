import type * as tfTypes from '@tensorflow/tfjs';
import type { NumericEncoding } from '../spec/featureSpec.js';
import { encodingKey, type EncodingVariant } from './encodingVariants.js';
import type { ModelShape } from './modelShape.js';
import { trainWithSearch, type TrainedModel } from './searchHyperparameters.js';
import type { Architecture, SearchSettings, TrainingSettings } from './trainingSpec.js';
import { TrainingTensors, type EncodedRows } from './trialTrainer.js';

export interface FitModelInput {
  readonly tf: typeof tfTypes;
  readonly train: EncodedRows;
  readonly validation: EncodedRows;
  readonly shape: ModelShape;
  /** The rows under each numeric encoding the search may draw, by {@link encodingKey}. */
  readonly drawnEncodings?: ReadonlyMap<string, EncodingVariant>;
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
  // Tensors of the other encodings, made when a trial first needs them.
  const drawn = new Map<string, TrainingTensors>();
  const dataFor = (encoding: NumericEncoding): TrainingTensors => {
    const key = encodingKey(encoding);
    const variant = input.drawnEncodings?.get(key);
    if (!variant) return tensors;
    let made = drawn.get(key);
    if (!made) {
      made = new TrainingTensors(tf, variant.encoded.train, variant.encoded.validation, variant.shape);
      drawn.set(key, made);
    }
    return made;
  };
  try {
    return await trainWithSearch({ tf, data: tensors, dataFor, architecture: input.architecture, training: input.training, ...(search ? { search } : {}), seed: input.seed, log: input.log });
  } finally {
    tensors.dispose();
    for (const made of drawn.values()) made.dispose();
  }
}
