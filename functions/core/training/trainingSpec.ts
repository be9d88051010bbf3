import { z } from 'zod';
import { campaignEconomicsSchema } from '../economics/campaignEconomics.js';
import { SpecError } from '../errors.js';
import { parseWith } from '../validation.js';
import { featureSpecSchema, numericEncodingSchema } from '../spec/featureSpec.js';

/**
 * The training spec (`model-store/<name>/spec.json`): the feature spec plus how to train, search,
 * calibrate and price the model. A bare feature spec is accepted too and trained with the defaults.
 */

const activationSchema = z.enum(['relu', 'elu', 'selu', 'tanh', 'swish']);

/** Dense MLP: sigmoid output for binary targets, softmax for multiclass. */
export const mlpArchitectureSchema = z
  .object({
    kind: z.literal('mlp'),
    /** Units per hidden layer, input side first. */
    layers: z.array(z.number().int().positive()).min(1).default([64, 32]),
    activation: activationSchema.default('relu'),
    dropout: z.number().min(0).max(0.9).default(0.1),
    /** L2 penalty on every kernel. */
    l2: z.number().min(0).default(0),
    /** Batch normalization after each hidden dense layer (before its activation). */
    batchNorm: z.boolean().default(false),
  })
  .strict();

/**
 * Sequence model for monthly histories: Conv1D over periods → dense. Every feature must belong to
 * the one sequence group of the spec (the input is `[periods, features]`).
 */
export const sequenceArchitectureSchema = z
  .object({
    kind: z.literal('sequence'),
    filters: z.number().int().positive().default(32),
    kernelSize: z.number().int().positive().default(3),
    convLayers: z.number().int().min(1).max(4).default(1),
    /** `flatten` keeps where in time a pattern sits (recent months matter more); the global pools do not. */
    pooling: z.enum(['flatten', 'global-average', 'global-max']).default('flatten'),
    layers: z.array(z.number().int().positive()).default([32]),
    activation: activationSchema.default('relu'),
    dropout: z.number().min(0).max(0.9).default(0.1),
    l2: z.number().min(0).default(0),
    batchNorm: z.boolean().default(false),
  })
  .strict();

export const architectureSchema = z.discriminatedUnion('kind', [mlpArchitectureSchema, sequenceArchitectureSchema]);

export const trainingSettingsSchema = z
  .object({
    seed: z.number().int().default(42),
    /** Most epochs; early stopping usually ends sooner. */
    epochs: z.number().int().positive().default(100),
    batchSize: z.number().int().positive().default(256),
    learningRate: z.number().positive().default(0.001),
    /**
     * What early stopping watches (and which epoch's weights are restored): validation `loss`, or
     * validation ROC `auc` for data where the best ranking comes after the loss turns (memorizing
     * near-duplicate customers, as in ecommerce-churn); calibration then fixes the probabilities.
     */
    monitor: z.enum(['loss', 'auc']).default('loss'),
    /** Early stopping: epochs without a better monitored value before stopping (best weights restored). */
    patience: z.number().int().positive().default(8),
    minDelta: z.number().min(0).default(1e-4),
    /** Halve the learning rate after this many epochs without improvement (0 = never). */
    reduceLrPatience: z.number().int().min(0).default(4),
    /**
     * Cross-validated ensemble: the fit rows (all but the test holdout) are cut into this many folds;
     * one member per fold learns from the other folds (early stopping on its own), their
     * out-of-fold predictions calibrate the model and choose thresholds, and the members are merged
     * into the one shipped MLP. So the shipped model has seen every fit row. 1 = one model trained
     * on a train/validation split. Default: 5 for an mlp, 1 for a sequence model (members of a
     * sequence model cannot be merged).
     */
    folds: z.number().int().min(1).max(10).optional(),
    /**
     * With `folds: 1`: after the search and early stopping chose a configuration and an epoch count on
     * the validation rows, the shipped model is retrained on train and validation together for that
     * many epochs (calibration and thresholds stay fitted on the search model's validation predictions).
     * `false` ships the early-stopped model, which never learned from the validation rows.
     */
    refit: z.boolean().default(true),
    /** Share of the non-test rows held out for early stopping, calibration and thresholds (with `folds: 1`). */
    validationFraction: z.number().gt(0).lt(1).default(0.2),
    /** Share of all rows held out for the evaluation stored in the bundle (ignored when test rows are given). */
    testFraction: z.number().gt(0).lt(1).default(0.2),
    /**
     * `file`: the file's row order is time order. Then the test holdout and the validation rows are
     * the LATEST rows (not a random draw), and a random in-period holdout of the same size is kept
     * out of fitting too, so the evaluation shows the later period beside a random split.
     */
    order: z.enum(['random', 'file']).default('random'),
    /** A column giving each row's time (a number, or a date): time-ordered as with `order: 'file'`, sorted by it. */
    timeColumn: z.string().min(1).optional(),
    /** Imbalanced targets: `balanced` weighs each class by n/(k·count); `sqrt` by its square root. */
    classWeights: z.enum(['none', 'balanced', 'sqrt']).default('none'),
    calibration: z.enum(['platt', 'isotonic', 'temperature', 'auto', 'none']).default('auto'),
    /** Rows per predict() call: tfjs defaults to 32, which is ~50× slower on wasm. */
    predictBatchSize: z.number().int().positive().default(8192),
    /**
     * Members of a seed ensemble (mlp only): the chosen configuration is trained this many times
     * with different seeds and merged into one wider MLP that averages their logits. With
     * `folds > 1` the fold members are the ensemble: each fold gets ⌈ensemble / folds⌉ seeds. Every
     * path merges at most as many members as the bundle's weight budget holds (`membersWithinBudget`).
     */
    ensemble: z.number().int().min(1).max(10).default(1),
    /** Share of the training rows each extra ensemble member sees (a seeded subsample, for diversity). */
    ensembleSubsample: z.number().gt(0).max(1).default(1),
    /** Permutation importance repeats (0 = skip). */
    importanceRepeats: z.number().int().min(0).default(3),
  })
  .strict();

/** A hyperparameter's candidate values; the search draws one per trial. */
const choices = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1).optional();

export const searchSpaceSchema = z
  .object({
    layers: choices(z.array(z.number().int().positive()).min(1)),
    activation: choices(activationSchema),
    dropout: choices(z.number().min(0).max(0.9)),
    l2: choices(z.number().min(0)),
    batchNorm: choices(z.boolean()),
    filters: choices(z.number().int().positive()),
    kernelSize: choices(z.number().int().positive()),
    learningRate: choices(z.number().positive()),
    batchSize: choices(z.number().int().positive()),
    classWeights: choices(z.enum(['none', 'balanced', 'sqrt'])),
    /**
     * The feature spec's default numeric encoding, e.g. `[{ "encoding": "scale" }, { "encoding": "ple", "bins": 16 }]`:
     * each choice is fitted and encoded once, and a trial trains on the rows of the one it drew.
     */
    numericEncoding: choices(numericEncodingSchema),
  })
  .strict();

/**
 * Successive halving over random configurations (as Keras Tuner's Hyperband does in one bracket):
 * `trials` configurations train `minEpochs`, the best 1/`eta` continue for `eta`× as many, and so
 * on; the last survivor trains on with early stopping. The work is counted in epochs, so a seed gives
 * the same model on any machine. `timeBudgetSeconds`, when given, cuts the halving short on the clock:
 * then a slower or busier machine compares trials at fewer epochs and may choose another.
 */
export const searchSchema = z
  .object({
    trials: z.number().int().min(1).default(9),
    eta: z.number().int().min(2).default(3),
    minEpochs: z.number().int().positive().default(3),
    timeBudgetSeconds: z.number().positive().optional(),
    /** What ranks trials: validation ROC AUC (binary default) or log loss (multiclass default). */
    selectBy: z.enum(['auto', 'auc', 'loss']).default('auto'),
    space: searchSpaceSchema.default({}),
  })
  .strict();

export const trainingSpecSchema = z
  .object({
    schemaVersion: z.literal(1).default(1),
    /** Bundle name (lower-case, dashes). */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    description: z.string().optional(),
    featureSpec: featureSpecSchema,
    model: architectureSchema.default({ kind: 'mlp', layers: [64, 32], activation: 'relu', dropout: 0.1, l2: 0, batchNorm: false }),
    training: trainingSettingsSchema.default(trainingSettingsSchema.parse({})),
    search: searchSchema.optional(),
    /**
     * Default campaign economics stored in the bundle (the threshold is chosen under them). A spec
     * without economics gets EUR 1 per contact and 10 per response, flagged `placeholder`: every
     * report and command then says so until someone sets them.
     */
    economics: campaignEconomicsSchema.default(campaignEconomicsSchema.parse({ costPerContact: 1, valuePerResponse: 10, placeholder: true })),
    /** Multiclass: recommended action per class label. */
    actions: z.record(z.string(), z.string()).optional(),
    /** Carried into the bundle's notes (e.g. why a column is left out). */
    notes: z.array(z.string()).default([]),
  })
  .strict();

export type MlpArchitecture = z.infer<typeof mlpArchitectureSchema>;
export type SequenceArchitecture = z.infer<typeof sequenceArchitectureSchema>;
export type Architecture = z.infer<typeof architectureSchema>;
export type TrainingSettings = z.infer<typeof trainingSettingsSchema>;
export type SearchSpace = z.infer<typeof searchSpaceSchema>;
export type SearchSettings = z.infer<typeof searchSchema>;
export type TrainingSpec = z.infer<typeof trainingSpecSchema>;
export type TrainingSpecInput = z.input<typeof trainingSpecSchema>;

/**
 * Validates a training spec, or wraps a bare feature spec (an object with `columns`) in one with
 * default training settings and the name `fallbackName`.
 * @throws SpecError SPEC_INVALID naming the source and the first invalid path.
 * @example
 * const spec = parseTrainingSpec(JSON.parse(await readFile('model-store/bank-marketing/spec.json', 'utf8')), 'spec.json');
 */
export function parseTrainingSpec(value: unknown, source = 'training spec', fallbackName = 'model'): TrainingSpec {
  const wrapped =
    value !== null && typeof value === 'object' && 'columns' in value && !('featureSpec' in value) ? { name: fallbackName, featureSpec: value } : value;
  return parseWith(trainingSpecSchema, wrapped, ({ path, all }) => new SpecError('SPEC_INVALID', all, { source, path: path || undefined }), { root: '' });
}
