import type * as tfTypes from '@tensorflow/tfjs';
import type { NumericEncoding } from '../spec/featureSpec.js';
import { trainFoldEnsemble, type FoldMemberReport } from './crossValidatedEnsemble.js';
import { refitOnAllRows, type RefitReport } from './refitOnAllRows.js';
import { encodingKey, type EncodingVariant } from './encodingVariants.js';
import type { ModelShape } from './modelShape.js';
import { trainWithSearch, type TrainedModel } from './searchHyperparameters.js';
import type { Architecture, SearchSettings, TrainingSettings } from './trainingSpec.js';
import { TrainingTensors, type EncodedRows } from './trialTrainer.js';

export interface FitModelInput {
  readonly tf: typeof tfTypes;
  readonly train: EncodedRows;
  readonly validation: EncodedRows;
  /**
   * Cross-validated ensemble: every fit row and the K folds (positions into `fit`, the last one
   * being `validation`). Absent: one model trained on `train`, early-stopped on `validation`.
   */
  readonly crossValidation?: { readonly fit: EncodedRows; readonly folds: readonly Int32Array[] };
  /** Without cross-validation and with `training.refit`: every fit row, for the refit (see {@link refitOnAllRows}). */
  readonly refit?: { readonly fit: EncodedRows };
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

export interface FittedModel extends TrainedModel {
  /** Cross-validated: each fit row's held-out probabilities (`fit rows × outputUnits`), and the members. */
  readonly crossValidation?: { readonly outOfFold: Float32Array; readonly members: readonly FoldMemberReport[]; readonly shipped: number };
  /** Refitted on every fit row: the search model's validation probabilities (what calibration is fitted on), and what the refit did. */
  readonly refit?: { readonly validationProbabilities: Float32Array; readonly report: RefitReport };
}

/**
 * Trains the model (after a search when there is one) on the train rows, with early stopping on the
 * validation rows; with cross-validation, the searched configuration then trains one member per
 * fold and the members are merged into the model; without, and with `training.refit`, it is retrained
 * on train and validation together for its best epoch count. A trial that drew a numeric encoding trains on
 * the rows encoded that way, and so do the fold members when it wins. The tensors live only for
 * the fit. The caller owns and disposes the model.
 */
export async function fitModel(input: FitModelInput): Promise<FittedModel> {
  const { tf, search, training } = input;
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
  let trained: TrainedModel;
  try {
    // With folds or a refit, the members are trained below (`training.ensemble` spread over the folds, or refitted): the search trains one.
    const settings = input.crossValidation || input.refit ? { ...training, ensemble: 1 } : training;
    trained = await trainWithSearch({ tf, data: tensors, dataFor, architecture: input.architecture, training: settings, ...(search ? { search } : {}), seed: input.seed, log: input.log });
  } finally {
    tensors.dispose();
    for (const made of drawn.values()) made.dispose();
  }
  const chosen = trained.config.numericEncoding ? input.drawnEncodings?.get(encodingKey(trained.config.numericEncoding)) : undefined;
  if (input.refit) {
    const refit = await refitOnAllRows({
      tf,
      winner: trained,
      fit: chosen?.encoded.fit ?? input.refit.fit,
      validation: chosen?.encoded.validation ?? input.validation,
      shape: chosen?.shape ?? input.shape,
      members: training.ensemble,
      seed: input.seed,
      log: input.log,
    });
    return { ...trained, model: refit.model, refit: { validationProbabilities: refit.validationProbabilities, report: refit.report } };
  }
  if (!input.crossValidation) return trained;
  const ensemble = await trainFoldEnsemble({
    tf,
    fit: chosen?.encoded.fit ?? input.crossValidation.fit,
    folds: chosen?.encoded.folds ?? input.crossValidation.folds,
    shape: chosen?.shape ?? input.shape,
    winner: trained,
    epochs: training.epochs,
    seedsPerFold: Math.ceil(training.ensemble / input.crossValidation.folds.length),
    seed: input.seed,
    log: input.log,
  });
  return { ...trained, model: ensemble.model, crossValidation: { outOfFold: ensemble.outOfFold, members: ensemble.members, shipped: ensemble.shipped } };
}
