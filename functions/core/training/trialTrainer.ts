import type * as tfTypes from '@tensorflow/tfjs';
import { logLoss } from '../evaluation/metrics.js';
import { aucScore } from '../evaluation/permutationImportance.js';
import { deriveSeed, withSeededMathRandom } from './seededRandom.js';

type Tf = typeof tfTypes;

/** Encoded rows: `x` is `rows × width` row-major, `y` the class index per row. */
export interface EncodedRows {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly rows: number;
}

/** The rows of `rows` at `positions`, copied. */
export function selectRows(rows: EncodedRows, positions: ArrayLike<number>, width: number): EncodedRows {
  const x = new Float32Array(positions.length * width);
  const y = new Int32Array(positions.length);
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i]!;
    x.set(rows.x.subarray(p * width, (p + 1) * width), i * width);
    y[i] = rows.y[p]!;
  }
  return { x, y, rows: positions.length };
}

/** One epoch as the history records it. */
export interface EpochRecord {
  readonly epoch: number;
  readonly loss: number;
  readonly valLoss: number;
  /** Validation ROC AUC (macro one-vs-rest for multiclass). */
  readonly valAuc: number;
  readonly learningRate: number;
}

/** How one configuration trains (a subset of the training settings, after the search picked values). */
export interface TrialSettings {
  readonly batchSize: number;
  readonly learningRate: number;
  readonly monitor: 'loss' | 'auc';
  readonly patience: number;
  readonly minDelta: number;
  readonly reduceLrPatience: number;
  readonly classWeights: 'none' | 'balanced' | 'sqrt';
  readonly predictBatchSize: number;
}

/**
 * Class weights for imbalanced targets: `balanced` = n / (k · countₖ) as scikit-learn and Keras
 * guides compute them; `sqrt` = its square root (a milder push). Undefined for `none`.
 */
export function classWeightsFor(y: Int32Array, classes: number, mode: TrialSettings['classWeights']): Record<number, number> | undefined {
  if (mode === 'none') return undefined;
  const counts = new Array<number>(classes).fill(0);
  for (const label of y) counts[label]!++;
  const weights: Record<number, number> = {};
  counts.forEach((count, k) => {
    const balanced = count > 0 ? y.length / (classes * count) : 1;
    weights[k] = mode === 'balanced' ? balanced : Math.sqrt(balanced);
  });
  return weights;
}

/**
 * Runs a model on encoded rows in large batches (tfjs predicts 32 rows at a time by default, ~50×
 * slower on wasm) and returns `rows × outputUnits` probabilities.
 */
export async function predictRows(tf: Tf, model: tfTypes.LayersModel, x: Float32Array, rows: number, inputShape: readonly number[], batchSize: number): Promise<Float32Array> {
  if (rows === 0) return new Float32Array(0);
  const width = inputShape.reduce((a, b) => a * b, 1);
  const output = tf.tidy(() => {
    const input = tf.tensor(x.subarray(0, rows * width), [rows, ...inputShape], 'float32');
    return model.predict(input, { batchSize: Math.min(rows, batchSize) }) as tfTypes.Tensor;
  });
  try {
    return (await output.data()) as Float32Array;
  } finally {
    output.dispose();
  }
}

/** Targets as the loss wants them: `[rows, 1]` 0/1 for a sigmoid, one-hot `[rows, K]` for a softmax. */
function targetTensor(tf: Tf, y: Int32Array, outputUnits: number): tfTypes.Tensor {
  if (outputUnits === 1) return tf.tensor2d(Float32Array.from(y), [y.length, 1]);
  return tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), outputUnits).toFloat());
}

/** The loss a model with `outputUnits` outputs trains on: sigmoid cross-entropy, or softmax over one-hot targets. */
export function lossFor(outputUnits: number): 'binaryCrossentropy' | 'categoricalCrossentropy' {
  return outputUnits === 1 ? 'binaryCrossentropy' : 'categoricalCrossentropy';
}

/**
 * One epoch over the training tensors, its shuffle seeded by `seed` and the epoch number (so a refit
 * replays a trial's shuffles); returns the training loss.
 */
export async function fitOneEpoch(
  model: tfTypes.LayersModel,
  data: TrainingTensors,
  settings: Pick<TrialSettings, 'batchSize'>,
  classWeight: Record<number, number> | undefined,
  seed: number,
  epoch: number,
): Promise<number> {
  const fit = await withSeededMathRandom(deriveSeed(seed, `epoch-${epoch}`), () =>
    model.fit(data.xs, data.ys, { epochs: 1, batchSize: settings.batchSize, shuffle: true, verbose: 0, ...(classWeight ? { classWeight } : {}) }),
  );
  return Number(fit.history.loss?.[0] ?? Number.NaN);
}

/** Training rows as tensors, shared by every trial of a search, and the validation rows. */
export class TrainingTensors {
  readonly xs: tfTypes.Tensor;
  readonly ys: tfTypes.Tensor;

  constructor(
    tf: Tf,
    readonly train: EncodedRows,
    readonly validation: EncodedRows,
    readonly shape: { readonly inputShape: readonly number[]; readonly outputUnits: number },
  ) {
    const width = shape.inputShape.reduce((a, b) => a * b, 1);
    this.xs = tf.tensor(train.x.subarray(0, train.rows * width), [train.rows, ...shape.inputShape], 'float32');
    this.ys = targetTensor(tf, train.y, shape.outputUnits);
  }

  dispose(): void {
    this.xs.dispose();
    this.ys.dispose();
  }
}

/**
 * Trains one model configuration in steps (successive halving continues the survivors), with
 * seeded shuffles and dropout, validation loss and AUC after every epoch, learning-rate halving on
 * plateaus, and the best weights (by the monitored value) kept for {@link restoreBest}.
 */
export class TrialTrainer {
  readonly history: EpochRecord[] = [];
  private bestWeights: tfTypes.Tensor[] | undefined;
  private best: EpochRecord | undefined;
  private sinceImprovement = 0;
  private sinceLrChange = 0;
  private readonly optimizer: tfTypes.AdamOptimizer;
  private readonly classWeight: Record<number, number> | undefined;
  /** True once early stopping fired. */
  stopped = false;

  constructor(
    private readonly tf: Tf,
    readonly model: tfTypes.LayersModel,
    private readonly data: TrainingTensors,
    readonly settings: TrialSettings,
    private readonly seed: number,
  ) {
    this.optimizer = tf.train.adam(settings.learningRate);
    const outputUnits = data.shape.outputUnits;
    model.compile({ optimizer: this.optimizer, loss: lossFor(outputUnits) });
    this.classWeight = classWeightsFor(data.train.y, Math.max(2, outputUnits), settings.classWeights);
  }

  /** Adam keeps its learning rate in a protected field that `applyGradients` reads on every step. */
  private get learningRate(): number {
    return (this.optimizer as unknown as { learningRate: number }).learningRate;
  }

  private set learningRate(value: number) {
    (this.optimizer as unknown as { learningRate: number }).learningRate = value;
  }

  get epochsDone(): number {
    return this.history.length;
  }

  /** The epoch with the best monitored value (lowest validation loss, or highest AUC) so far. */
  get bestEpoch(): EpochRecord | undefined {
    return this.best;
  }

  /**
   * Trains up to `epochs` more epochs. With `earlyStopping`, stops after `patience` epochs without
   * a validation loss better by `minDelta`; stops too once `deadline` (ms since epoch) has passed.
   */
  async run(epochs: number, options: { earlyStopping: boolean; deadline?: number }): Promise<void> {
    for (let e = 0; e < epochs; e++) {
      if (options.earlyStopping && this.stopped) return;
      if (options.deadline !== undefined && Date.now() > options.deadline) return;
      const epoch = this.history.length + 1;
      const learningRate = this.learningRate;
      const { validation, shape } = this.data;
      const loss = await fitOneEpoch(this.model, this.data, this.settings, this.classWeight, this.seed, epoch);
      const p = await predictRows(this.tf, this.model, validation.x, validation.rows, shape.inputShape, this.settings.predictBatchSize);
      const matrix = { values: p, rows: validation.rows, width: shape.outputUnits };
      const record: EpochRecord = { epoch, loss, valLoss: logLoss(matrix, validation.y), valAuc: aucScore(matrix, validation.y), learningRate };
      this.history.push(record);
      if (!Number.isFinite(record.valLoss) && this.settings.monitor === 'loss') {
        this.stopped = true;
        return;
      }
      const improved =
        this.settings.monitor === 'auc'
          ? !this.best || record.valAuc > this.best.valAuc + this.settings.minDelta
          : !this.best || record.valLoss < this.best.valLoss - this.settings.minDelta;
      if (improved) {
        this.best = record;
        this.sinceImprovement = 0;
        this.bestWeights?.forEach((t) => t.dispose());
        this.bestWeights = this.model.getWeights().map((w) => w.clone());
      } else {
        this.sinceImprovement++;
      }
      this.sinceLrChange++;
      if (this.settings.reduceLrPatience > 0 && this.sinceImprovement >= this.settings.reduceLrPatience && this.sinceLrChange >= this.settings.reduceLrPatience) {
        this.learningRate = learningRate / 2;
        this.sinceLrChange = 0;
      }
      if (this.sinceImprovement >= this.settings.patience) this.stopped = true;
    }
  }

  /** Puts the best weights back (early stopping's `restoreBestWeights`). */
  restoreBest(): void {
    if (this.bestWeights) this.model.setWeights(this.bestWeights);
  }

  /** Frees the optimizer and weight snapshots; `keepModel` leaves the model itself usable. */
  dispose(keepModel = false): void {
    this.bestWeights?.forEach((t) => t.dispose());
    this.bestWeights = undefined;
    this.optimizer.dispose();
    if (!keepModel) this.model.dispose();
  }
}
