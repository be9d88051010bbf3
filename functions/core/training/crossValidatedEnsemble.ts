import type * as tfTypes from '@tensorflow/tfjs';
import { TrainingError } from '../errors.js';
import { P_EPSILON } from '../model/calibration.js';
import { buildModel } from './buildModel.js';
import { mergeEnsemble, membersWithinBudget } from './mergeEnsemble.js';
import type { ModelShape } from './modelShape.js';
import type { TrainedModel } from './searchHyperparameters.js';
import { deriveSeed, withSeededMathRandom } from './seededRandom.js';
import { complementRows } from './stratifiedSplit.js';
import { predictRows, selectRows, TrainingTensors, TrialTrainer, type EncodedRows } from './trialTrainer.js';

type Tf = typeof tfTypes;

/** One member of the cross-validated ensemble: which fold it did not see, and how its training went. */
export interface FoldMemberReport {
  readonly fold: number;
  /** 0 for the first member of a fold; 1… for the extra seeds of `training.ensemble`. */
  readonly seed: number;
  readonly trainRows: number;
  readonly heldOutRows: number;
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly bestValLoss: number;
  readonly bestValAuc: number;
  /** Whether the shipped model merges this member (see {@link membersWithinBudget}). */
  readonly shipped?: boolean;
}

export interface FoldEnsemble {
  /** The shipped members merged into one MLP (mean of their logits). */
  readonly model: tfTypes.LayersModel;
  /** How many of the members the model merges: all, unless {@link membersWithinBudget} allows fewer. */
  readonly shipped: number;
  /** Each fit row's probabilities (`rows × outputUnits`) from the members that did not learn from it. */
  readonly outOfFold: Float32Array;
  readonly members: readonly FoldMemberReport[];
}

export interface FoldEnsembleInput {
  readonly tf: Tf;
  /** Every fit row, encoded. */
  readonly fit: EncodedRows;
  /** Positions into `fit` of each fold; the last fold is the one `winner` was early-stopped on. */
  readonly folds: readonly Int32Array[];
  readonly shape: ModelShape;
  /** The search's result: its configuration trains every member; its model is the last fold's first member. */
  readonly winner: TrainedModel;
  /** Most epochs per member (early stopping on the member's own held-out fold ends sooner). */
  readonly epochs: number;
  /** Members per fold (different seeds), `training.ensemble`. */
  readonly seedsPerFold: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

/**
 * Probabilities of an ensemble that averages its members' logits, from the members' probabilities
 * (`rows × units` each): sigmoid of the mean logit (one unit), softmax of the mean log-probability
 * (several units: log softmax differs from the logits by a per-row constant, which softmax drops).
 * This is what {@link mergeEnsemble}'s merged model computes.
 * @example
 * meanLogitProbabilities([Float32Array.of(0.5), Float32Array.of(0.8)], 1) // → [sigmoid((0 + logit 0.8) / 2)] ≈ [0.6667]
 */
function meanLogitProbabilities(members: readonly Float32Array[], units: number): Float32Array {
  if (members.length === 1) return members[0]!;
  const cells = members[0]!.length;
  const out = new Float32Array(cells);
  const log = (p: number) => Math.log(Math.min(Math.max(p, P_EPSILON), 1 - P_EPSILON));
  if (units === 1) {
    for (let i = 0; i < cells; i++) {
      let z = 0;
      for (const m of members) z += log(m[i]!) - log(1 - m[i]!);
      out[i] = 1 / (1 + Math.exp(-z / members.length));
    }
    return out;
  }
  for (let r = 0; r < cells / units; r++) {
    const mean = Array.from({ length: units }, (_, k) => members.reduce((s, m) => s + log(m[r * units + k]!), 0) / members.length);
    const top = Math.max(...mean);
    const sum = mean.reduce((s, v) => s + Math.exp(v - top), 0);
    mean.forEach((v, k) => (out[r * units + k] = Math.exp(v - top) / sum));
  }
  return out;
}

/**
 * Trains the cross-validated ensemble: for each fold, members with the searched configuration learn
 * from the other folds (early stopping on the fold they do not see) and predict that fold; then all
 * members are merged into one MLP. The search's own model already is the last fold's first member.
 * The out-of-fold probabilities are honest held-out predictions for every fit row: what calibration
 * and the threshold are fitted on. Deterministic for a seed.
 * @throws TrainingError for a non-mlp architecture (members are merged into one dense chain).
 */
export async function trainFoldEnsemble(input: FoldEnsembleInput): Promise<FoldEnsemble> {
  const { tf, fit, folds, shape, winner, log } = input;
  if (winner.config.architecture.kind !== 'mlp') throw new TrainingError('a cross-validated ensemble (training.folds > 1) is only supported for mlp models', { isInputError: true });
  const width = shape.inputShape.reduce((a, b) => a * b, 1);
  const units = shape.outputUnits;
  const outOfFold = new Float32Array(fit.rows * units);
  const members: tfTypes.LayersModel[] = [];
  const reports: FoldMemberReport[] = [];
  const searchFold = folds.length - 1;
  let kept: tfTypes.LayersModel | undefined;
  try {
    for (const [fold, heldOut] of folds.entries()) {
      const learnFrom = complementRows(fit.rows, heldOut);
      const validation = selectRows(fit, heldOut, width);
      // Copied only when a member trains on them: the search fold's first member already has.
      let train: EncodedRows | undefined;
      const predictions: Float32Array[] = [];
      for (let seed = 0; seed < input.seedsPerFold; seed++) {
        let model: tfTypes.LayersModel;
        let best = winner.bestEpoch;
        let epochs = winner.history.length;
        if (fold === searchFold && seed === 0) {
          model = winner.model;
        } else {
          const memberSeed = deriveSeed(input.seed, `fold-${fold}-seed-${seed}`);
          model = await withSeededMathRandom(deriveSeed(memberSeed, 'init'), () => buildModel(tf, winner.config.architecture, shape));
          train ??= selectRows(fit, learnFrom, width);
          const tensors = new TrainingTensors(tf, train, validation, shape);
          const trainer = new TrialTrainer(tf, model, tensors, winner.config.settings, memberSeed);
          try {
            await trainer.run(input.epochs, { earlyStopping: true });
            trainer.restoreBest();
          } finally {
            trainer.dispose(true);
            tensors.dispose();
          }
          if (!trainer.bestEpoch) throw new TrainingError(`fold ${fold + 1} produced no finite validation loss`, { isInputError: false });
          best = trainer.bestEpoch;
          epochs = trainer.epochsDone;
        }
        members.push(model);
        predictions.push(await predictRows(tf, model, validation.x, validation.rows, shape.inputShape, winner.config.settings.predictBatchSize));
        reports.push({ fold, seed, trainRows: learnFrom.length, heldOutRows: validation.rows, epochs, bestEpoch: best.epoch, bestValLoss: best.valLoss, bestValAuc: best.valAuc });
        log(`fold ${fold + 1}/${folds.length}${input.seedsPerFold > 1 ? ` seed ${seed}` : ''}: ${epochs} epochs, best ${best.epoch} (val loss ${best.valLoss.toFixed(4)}, val AUC ${best.valAuc.toFixed(4)})`);
      }
      const foldProbabilities = meanLogitProbabilities(predictions, units);
      heldOut.forEach((p, i) => outOfFold.set(foldProbabilities.subarray(i * units, (i + 1) * units), p * units));
    }
    // Ship as many members as the size budget allows, one seed of every fold before any second seed
    // (so two members already cover every row); every member still gave its out-of-fold rows.
    const order = reports.map((r, i) => i).sort((a, b) => reports[a]!.seed - reports[b]!.seed || reports[a]!.fold - reports[b]!.fold);
    const { members: shipped, why } = membersWithinBudget(members[0]!, members.length);
    if (why) log(`shipping ${shipped} of ${members.length} members: ${why}`);
    const model = shipped === 1 ? members[order[0]!]! : mergeEnsemble(tf, order.slice(0, shipped).map((i) => members[i]!));
    kept = model;
    return { model, shipped, outOfFold, members: reports.map((r, i) => ({ ...r, shipped: order.indexOf(i) < shipped })) };
  } finally {
    for (const member of members) if (member !== kept) member.dispose();
    if (!members.includes(winner.model)) winner.model.dispose();
  }
}
