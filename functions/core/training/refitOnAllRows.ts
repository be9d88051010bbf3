import type * as tfTypes from '@tensorflow/tfjs';
import { buildModel } from './buildModel.js';
import { mergeEnsemble, membersWithinBudget } from './mergeEnsemble.js';
import type { ModelShape } from './modelShape.js';
import type { TrainedModel } from './searchHyperparameters.js';
import { deriveSeed, withSeededMathRandom } from './seededRandom.js';
import { classWeightsFor, fitOneEpoch, lossFor, predictRows, TrainingTensors, type EncodedRows } from './trialTrainer.js';

type Tf = typeof tfTypes;

/** What the refit did, for the manifest and the training report. */
export interface RefitReport {
  /** Rows the shipped model learned from: train and validation together. */
  readonly rows: number;
  /** Epochs of each refit model: the search winner's best epoch. */
  readonly epochs: number;
  /** Models refitted and merged (`training.ensemble`). */
  readonly members: number;
}

export interface RefitResult {
  /** The shipped model: trained on every fit row (members merged into one MLP). */
  readonly model: tfTypes.LayersModel;
  /**
   * The search winner's probabilities on the validation rows (`rows × outputUnits`), taken before it
   * was disposed: the refit model has seen those rows, so calibration and thresholds are fitted here.
   */
  readonly validationProbabilities: Float32Array;
  readonly report: RefitReport;
}

export interface RefitInput {
  readonly tf: Tf;
  /** The search winner (trained on `train`, best weights restored); disposed here. */
  readonly winner: TrainedModel;
  /** Every fit row (train and validation), encoded as the winner saw them. */
  readonly fit: EncodedRows;
  readonly validation: EncodedRows;
  readonly shape: ModelShape;
  /** Models to refit with different seeds and merge (`training.ensemble`, mlp only above 1). */
  readonly members: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

/**
 * Early stopping chose a configuration and an epoch count on the validation rows; the shipped model
 * should still learn from those rows. Retrains the winner's configuration from scratch on train and
 * validation together for exactly its best epoch count, replaying the learning rate it had at each of
 * those epochs (the plateau halvings happened on validation, which the refit cannot watch). With
 * several members, each gets its own seed and the members are merged (mean of logits).
 * Deterministic for a seed.
 */
export async function refitOnAllRows(input: RefitInput): Promise<RefitResult> {
  const { tf, winner, fit, validation, shape, log } = input;
  const { settings, architecture } = winner.config;
  const validationProbabilities = await predictRows(tf, winner.model, validation.x, validation.rows, shape.inputShape, settings.predictBatchSize);
  const wanted = architecture.kind === 'mlp' ? Math.max(1, input.members) : 1;
  const { members, why } = membersWithinBudget(winner.model, wanted);
  if (why) log(`refitting ${members} of ${wanted} seeds: ${why}`);
  winner.model.dispose();
  const epochs = winner.bestEpoch.epoch;
  const schedule = winner.history.slice(0, epochs).map((e) => e.learningRate);
  const data = new TrainingTensors(tf, fit, { x: new Float32Array(0), y: new Int32Array(0), rows: 0 }, shape);
  const classWeight = classWeightsFor(fit.y, Math.max(2, shape.outputUnits), settings.classWeights);
  const models: tfTypes.LayersModel[] = [];
  try {
    for (let m = 0; m < members; m++) {
      // The first member starts from the winner's own initial weights and shuffle seeds (its trial's
      // seed, as the search drew it): the same run, on more rows. Others are seeded as the seed ensemble's.
      const memberSeed = deriveSeed(input.seed, m === 0 ? `trial-${winner.search.chosenTrial}` : `member-${m}`);
      const model = await withSeededMathRandom(deriveSeed(memberSeed, 'init'), () => buildModel(tf, architecture, shape));
      models.push(model);
      const optimizer = tf.train.adam(settings.learningRate);
      try {
        model.compile({ optimizer, loss: lossFor(shape.outputUnits) });
        for (const [e, learningRate] of schedule.entries()) {
          // Adam reads its learning rate from this field on every step (as TrialTrainer sets it).
          (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
          await fitOneEpoch(model, data, settings, classWeight, memberSeed, e + 1);
        }
      } finally {
        optimizer.dispose();
      }
    }
    log(`refit on all ${fit.rows} fit rows: ${epochs} epochs (the search's best)${members > 1 ? `, ${members} seeds merged` : ''}`);
    const model = members === 1 ? models[0]! : mergeEnsemble(tf, models);
    if (members > 1) for (const m of models) m.dispose();
    return { model, validationProbabilities, report: { rows: fit.rows, epochs, members } };
  } catch (error) {
    for (const m of models) m.dispose();
    throw error;
  } finally {
    data.dispose();
  }
}
