import type * as tfTypes from '@tensorflow/tfjs';
import { TrainingError } from '../errors.js';
import type { NumericEncoding } from '../spec/featureSpec.js';
import { buildModel } from './buildModel.js';
import { mergeEnsemble, membersWithinBudget } from './mergeEnsemble.js';
import { createRng, deriveSeed, permutation, withSeededMathRandom } from './seededRandom.js';
import type { Architecture, SearchSettings, SearchSpace, TrainingSettings } from './trainingSpec.js';
import { TrainingTensors, TrialTrainer, type EpochRecord, type TrialSettings } from './trialTrainer.js';

type Tf = typeof tfTypes;

/** One configuration: the architecture and training settings after the search drew its values. */
export interface TrialConfig {
  readonly architecture: Architecture;
  readonly settings: TrialSettings;
  /** The values drawn for this trial (trial 0 is the spec's own configuration and draws none). */
  readonly drawn: Record<string, unknown>;
  /** The numeric encoding drawn for this trial; undefined for the feature spec's own. */
  readonly numericEncoding?: NumericEncoding;
}

export interface TrialReport {
  readonly trial: number;
  readonly drawn: Record<string, unknown>;
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly bestValLoss: number;
  readonly bestValAuc: number;
  /** Successive-halving rung the trial reached (0 = eliminated after the first). */
  readonly rung: number;
}

/** One extra seed of the chosen configuration, when training an ensemble. */
export interface MemberReport {
  readonly member: number;
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly bestValLoss: number;
  readonly bestValAuc: number;
}

export interface SearchReport {
  readonly strategy: 'none' | 'successive-halving';
  readonly selectBy: 'auc' | 'loss';
  readonly trials: readonly TrialReport[];
  readonly chosenTrial: number;
  /** True when the time budget ended the halving early (results then depend on machine speed). */
  readonly timedOut: boolean;
  readonly searchSeconds: number;
  /** Ensemble members after the first (the chosen trial itself is member 0). */
  readonly members: readonly MemberReport[];
}

export interface TrainedModel {
  readonly model: tfTypes.LayersModel;
  readonly config: TrialConfig;
  readonly history: readonly EpochRecord[];
  readonly bestEpoch: EpochRecord;
  readonly search: SearchReport;
}

const SPACE_KEYS = ['layers', 'activation', 'dropout', 'l2', 'batchNorm', 'filters', 'kernelSize', 'learningRate', 'batchSize', 'classWeights'] as const satisfies readonly (keyof SearchSpace)[];
const ARCHITECTURE_KEYS = new Set(['layers', 'activation', 'dropout', 'l2', 'batchNorm', 'filters', 'kernelSize']);

function baseSettings(training: TrainingSettings): TrialSettings {
  const { batchSize, learningRate, monitor, patience, minDelta, reduceLrPatience, classWeights, predictBatchSize } = training;
  return { batchSize, learningRate, monitor, patience, minDelta, reduceLrPatience, classWeights, predictBatchSize };
}

/**
 * Draws `trials` configurations: trial 0 is the spec's own, the others pick one value per
 * hyperparameter listed in the search space (keys in a fixed order, so a seed always draws the same).
 * Keys that do not apply to the architecture (e.g. `filters` for an mlp) are ignored.
 */
export function drawConfigs(architecture: Architecture, training: TrainingSettings, search: SearchSettings, seed: number): TrialConfig[] {
  const rng = createRng(deriveSeed(seed, 'search'));
  const configs: TrialConfig[] = [{ architecture, settings: baseSettings(training), drawn: {} }];
  for (let t = 1; t < search.trials; t++) {
    const drawn: Record<string, unknown> = {};
    const arch: Record<string, unknown> = { ...architecture };
    const settings: Record<string, unknown> = { ...baseSettings(training) };
    for (const key of SPACE_KEYS) {
      const options = search.space[key] as readonly unknown[] | undefined;
      if (!options) continue;
      const value = options[Math.floor(rng() * options.length)];
      if (ARCHITECTURE_KEYS.has(key)) {
        if (!(key in architecture)) continue;
        arch[key] = value;
      } else {
        settings[key] = value;
      }
      drawn[key] = value;
    }
    // Drawn after the other keys, so a spec without it draws the same configurations as before.
    const encodings = search.space.numericEncoding;
    const numericEncoding = encodings ? encodings[Math.floor(rng() * encodings.length)] : undefined;
    if (numericEncoding) drawn['numericEncoding'] = numericEncoding;
    configs.push({ architecture: arch as Architecture, settings: settings as unknown as TrialSettings, drawn, ...(numericEncoding ? { numericEncoding } : {}) });
  }
  return configs;
}

/** A seeded share of the training rows (validation rows unchanged), sorted to keep row order. */
function subsample(tf: Tf, data: TrainingTensors, share: number, seed: number): TrainingTensors {
  const { train, validation, shape } = data;
  const width = shape.inputShape.reduce((a, b) => a * b, 1);
  const rows = permutation(train.rows, createRng(seed)).subarray(0, Math.max(1, Math.round(train.rows * share))).sort();
  const x = new Float32Array(rows.length * width);
  rows.forEach((row, i) => x.set(train.x.subarray(row * width, (row + 1) * width), i * width));
  return new TrainingTensors(tf, { x, y: Int32Array.from(rows, (row) => train.y[row]!), rows: rows.length }, validation, shape);
}

interface Trial {
  readonly index: number;
  readonly config: TrialConfig;
  readonly trainer: TrialTrainer;
  rung: number;
}

/**
 * Trains a model, with a successive-halving search when `search` is given:
 * every configuration trains `minEpochs`; the best ⌈n/eta⌉ by validation AUC (binary) or loss
 * continue to `eta`× the epochs, and so on until one is left, which trains on with early stopping
 * up to `training.epochs`. The best weights (lowest validation loss) are restored at the end.
 * Deterministic for a seed unless the time budget cuts the halving short (reported as `timedOut`).
 */
export async function trainWithSearch(args: {
  tf: Tf;
  /** The rows as the feature spec encodes them. */
  data: TrainingTensors;
  /** The rows under a numeric encoding the search drew (`search.space.numericEncoding`). */
  dataFor?: (encoding: NumericEncoding) => TrainingTensors;
  architecture: Architecture;
  training: TrainingSettings;
  search?: SearchSettings;
  seed: number;
  log?: (line: string) => void;
}): Promise<TrainedModel> {
  const { tf, data, training, seed } = args;
  const log = args.log ?? (() => {});
  const started = Date.now();
  const selectBy: 'auc' | 'loss' =
    args.search && args.search.selectBy !== 'auto' ? args.search.selectBy : data.shape.outputUnits === 1 ? 'auc' : 'loss';
  const configs = args.search ? drawConfigs(args.architecture, training, args.search, seed) : [{ architecture: args.architecture, settings: baseSettings(training), drawn: {} }];

  const dataOf = (config: TrialConfig): TrainingTensors => (config.numericEncoding && args.dataFor ? args.dataFor(config.numericEncoding) : data);
  const trials: Trial[] = [];
  for (const [index, config] of configs.entries()) {
    const trialSeed = deriveSeed(seed, `trial-${index}`);
    const trialData = dataOf(config);
    const model = await withSeededMathRandom(deriveSeed(trialSeed, 'init'), () => buildModel(tf, config.architecture, trialData.shape));
    trials.push({ index, config, trainer: new TrialTrainer(tf, model, trialData, config.settings, trialSeed), rung: 0 });
  }
  const score = (t: Trial): number => {
    const best = t.trainer.bestEpoch;
    if (!best) return Number.POSITIVE_INFINITY;
    return selectBy === 'auc' ? -(Number.isFinite(best.valAuc) ? best.valAuc : 0) : best.valLoss;
  };

  let survivors = trials;
  let timedOut = false;
  if (args.search && trials.length > 1) {
    const { eta, minEpochs, timeBudgetSeconds } = args.search;
    const deadline = timeBudgetSeconds === undefined ? Number.POSITIVE_INFINITY : started + timeBudgetSeconds * 1000;
    let target = minEpochs;
    for (let rung = 0; survivors.length > 1; rung++) {
      for (const trial of survivors) {
        trial.rung = rung;
        await trial.trainer.run(Math.min(target, training.epochs) - trial.trainer.epochsDone, { earlyStopping: true, deadline });
      }
      const ranked = [...survivors].sort((a, b) => score(a) - score(b) || a.index - b.index);
      const keep = Date.now() > deadline ? 1 : Math.max(1, Math.ceil(survivors.length / eta));
      if (Date.now() > deadline) timedOut = true;
      for (const loser of ranked.slice(keep)) loser.trainer.dispose();
      survivors = ranked.slice(0, keep);
      log(
        `search rung ${rung}: ${ranked.length} trial(s) at ≤${Math.min(target, training.epochs)} epochs; best ${selectBy} ` +
          `${ranked.map((t) => (selectBy === 'auc' ? -score(t) : score(t)).toFixed(4)).join(' ')}; keeping ${keep}`,
      );
      target *= eta;
    }
  }

  const winner = survivors[0]!;
  const searchSeconds = (Date.now() - started) / 1000;
  await winner.trainer.run(training.epochs - winner.trainer.epochsDone, { earlyStopping: true });
  winner.trainer.restoreBest();
  const bestEpoch = winner.trainer.bestEpoch;
  winner.trainer.dispose(true);
  if (!bestEpoch) throw new TrainingError('training produced no finite validation loss', { isInputError: false });

  // Seed ensemble: more members of the chosen configuration, merged into one model.
  let model: tfTypes.LayersModel = winner.trainer.model;
  const winnerData = dataOf(winner.config);
  const members: MemberReport[] = [];
  if (training.ensemble > 1) {
    if (winner.config.architecture.kind !== 'mlp') throw new TrainingError('an ensemble (training.ensemble > 1) is only supported for mlp models', { isInputError: true });
    const trained: tfTypes.LayersModel[] = [model];
    const { members: seeds, why } = membersWithinBudget(model, training.ensemble);
    if (why) log(`training ${seeds} of ${training.ensemble} seeds: ${why}`);
    try {
      for (let m = 1; m < seeds; m++) {
        const memberSeed = deriveSeed(seed, `member-${m}`);
        const memberModel = await withSeededMathRandom(deriveSeed(memberSeed, 'init'), () => buildModel(tf, winner.config.architecture, winnerData.shape));
        const memberData = training.ensembleSubsample < 1 ? subsample(tf, winnerData, training.ensembleSubsample, deriveSeed(memberSeed, 'rows')) : winnerData;
        const trainer = new TrialTrainer(tf, memberModel, memberData, winner.config.settings, memberSeed);
        trained.push(memberModel);
        try {
          await trainer.run(training.epochs, { earlyStopping: true });
        } finally {
          if (memberData !== winnerData) memberData.dispose();
        }
        trainer.restoreBest();
        trainer.dispose(true);
        const best = trainer.bestEpoch;
        members.push({ member: m, epochs: trainer.epochsDone, bestEpoch: best?.epoch ?? 0, bestValLoss: best?.valLoss ?? Number.NaN, bestValAuc: best?.valAuc ?? Number.NaN });
        log(`ensemble member ${m}: ${trainer.epochsDone} epochs, best val loss ${best?.valLoss.toFixed(4)}, val AUC ${best?.valAuc.toFixed(4)}`);
      }
      model = mergeEnsemble(tf, trained);
    } finally {
      for (const member of trained) member.dispose();
    }
  }

  const report = (t: Trial): TrialReport => ({
    trial: t.index,
    drawn: t.config.drawn,
    epochs: t.trainer.epochsDone,
    bestEpoch: t.trainer.bestEpoch?.epoch ?? 0,
    bestValLoss: t.trainer.bestEpoch?.valLoss ?? Number.NaN,
    bestValAuc: t.trainer.bestEpoch?.valAuc ?? Number.NaN,
    rung: t.rung,
  });
  return {
    model,
    config: winner.config,
    history: winner.trainer.history,
    bestEpoch,
    search: {
      strategy: args.search && trials.length > 1 ? 'successive-halving' : 'none',
      selectBy,
      trials: trials.map(report),
      chosenTrial: winner.index,
      timedOut,
      searchSeconds,
      members,
    },
  };
}
