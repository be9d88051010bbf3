import type { BundleManifest } from '../bundle/bundleManifest.js';
import type { DriftBaseline } from '../drift/driftBaseline.js';
import { evaluateClassifier, type Evaluation, type HoldoutDescription } from '../evaluation/evaluateClassifier.js';
import { trainingCurves } from '../evaluation/trainingCurves.js';
import type { FittedSpec } from '../spec/featureSpec.js';
import { assembleBundle, summarizeData } from './assembleBundle.js';
import { buildBaseline } from './buildBaseline.js';
import { calibrateAndChooseThresholds, type HeldOutPredictions, type Predict } from './calibrateAndChooseThresholds.js';
import type { ThresholdChoice } from './chooseThresholds.js';
import type { EncodedRecords } from './encodeSplits.js';
import { encodeVariants, encodingKey, variantFor } from './encodingVariants.js';
import { evaluateOnTest } from './evaluateOnTest.js';
import { exportAndCheckParity } from './exportAndCheckParity.js';
import type { CalibrationChoice } from './fitCalibration.js';
import { fitModel } from './fitModel.js';
import { labelRecords } from './labelRecords.js';
import { resolveTrainingSpec, type TrainingOverrides } from './resolveTrainingSpec.js';
import type { SearchReport } from './searchHyperparameters.js';
import { deriveSeed } from './seededRandom.js';
import { splitRows } from './splitRows.js';
import { timeOrderOf } from './timeOrder.js';
import { secondsSince, timed, type TrainTimings } from './trainTimings.js';
import type { TrainingRuntime } from './trainingRuntime.js';
import { readTrainingTable, type ExtractBytes, type TrainingTable } from './trainingTable.js';
import { predictRows, type EpochRecord } from './trialTrainer.js';

export { featureSlotGroups } from './featureSlotGroups.js';
export { MODEL_INPUT_NAME, MODEL_OUTPUT_NAME } from './modelGraphNames.js';
export type { TrainTimings } from './trainTimings.js';

/** The calibrated model on the in-period holdout: the random-split figure beside the out-of-time one. */
async function evaluateInPeriod(predict: Predict, rows: EncodedRecords, classes: readonly string[], outputUnits: number): Promise<NonNullable<HoldoutDescription['inPeriod']>> {
  const probabilities = await predict(rows.x, rows.rows);
  const e = evaluateClassifier({ values: probabilities, rows: rows.rows, width: outputUnits }, rows.y, classes);
  return { rows: rows.rows, rocAuc: e.rocAuc, accuracy: e.accuracy, logLoss: e.logLoss, expectedCalibrationError: e.expectedCalibrationError };
}

export interface TrainOptions {
  /** A CSV extract's bytes (plain or gzipped, laid out as the spec's `file` section says) or rows already in memory. */
  readonly data: ExtractBytes | TrainingTable;
  /** The training spec as parsed JSON (`model-store/<name>/spec.json`), or a bare feature spec. */
  readonly spec: unknown;
  /** Where the spec came from, for messages. */
  readonly specSource?: string;
  /** tfjs to fit, an ONNX loader for the parity check: `tfjsTrainingRuntime` from the adapters. */
  readonly runtime: TrainingRuntime;
  /** Overrides `training.seed`. */
  readonly seed?: number;
  /** Fit and bundle date (and the version stamp). @default new Date() */
  readonly now?: Date;
  /** @default `<yyyy-mm-ddThhmm>-<first 6 hex of the ONNX file's sha256>` */
  readonly version?: string;
  /**
   * 0-based data-row indices (of the file, rejected rows counted) to hold out for the evaluation,
   * e.g. a fixed benchmark split. Default: a stratified `training.testFraction` drawn from the seed.
   */
  readonly testRows?: ArrayLike<number>;
  /** Laid over the spec: quick settings for tests, `search: false` to train the spec's configuration only. */
  readonly overrides?: TrainingOverrides;
  /** Progress lines (search rungs, phases). */
  readonly log?: (line: string) => void;
}

export interface TrainResult {
  readonly bundle: { readonly manifest: BundleManifest; readonly files: ReadonlyMap<string, Uint8Array> };
  /** On the held-out test rows, with calibrated probabilities. */
  readonly evaluation: Evaluation;
  readonly fittedSpec: FittedSpec;
  readonly calibration: CalibrationChoice;
  /** Binary models: the profit- and F1-optimal thresholds chosen on the validation rows. */
  readonly thresholds: ThresholdChoice | undefined;
  readonly search: SearchReport;
  readonly history: readonly EpochRecord[];
  readonly timings: TrainTimings;
  /**
   * Drift hook: calibrated held-out probabilities (`rows × outputWidth`: the validation rows, or every
   * fit row out of fold for a cross-validated ensemble) and permutation importance
   * per feature column — what {@link BaselineBuilder} takes; the built baseline is in `baseline`
   * and in the manifest's `baseline` field.
   */
  readonly validation: { readonly probabilities: Float32Array; readonly labels: Int32Array; readonly rows: number; readonly outputWidth: number };
  /** Calibrated test probabilities (`rows × outputWidth`) and labels, as evaluated. */
  readonly test: { readonly probabilities: Float32Array; readonly labels: Int32Array; readonly rows: number; readonly uncalibratedProbabilities: Float32Array };
  readonly featureImportance: Record<string, number>;
  readonly baseline: DriftBaseline;
  /** Largest |ONNX − calibrated tfjs| over the checked test rows. */
  readonly parity: { readonly rows: number; readonly maxAbsDiff: number };
  readonly backend: string;
  /** What the training could not use (columns fitted as constants), also in the manifest's `warnings`. */
  readonly warnings: readonly string[];
}

/**
 * Trains a model bundle from a labelled extract and a training spec: reads the rows, splits off a
 * stratified test part (or the given `testRows`) and a validation part, fits the feature spec on
 * the rest, trains the spec's architecture (with a successive-halving search when the spec has one,
 * early stopping and best weights restored), calibrates on the validation rows, picks the
 * profit-optimal threshold under the default economics, evaluates on the test rows, builds the
 * drift baseline, exports ONNX (calibration included), checks ONNX against tfjs, and assembles the
 * bundle (the caller writes it: `writeBundleDir` or a registry). Each step is a function of its own
 * module, testable alone. Deterministic for a seed, unless the search's time budget ran out.
 * One training at a time per process: the seeded `Math.random` is process-wide (see withSeededMathRandom).
 *
 * @throws SpecError for an invalid spec, ExtractError for an unreadable file or missing column,
 *   TrainingError when the data cannot train the model (no target, one class, bad architecture).
 * @example
 * const result = await train({ data: table, spec: JSON.parse(specText), runtime: tfjsTrainingRuntime });
 * await writeBundleDir('out/bank', result.bundle);
 * console.log(formatEvaluation(result.evaluation));
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const { spec, search } = resolveTrainingSpec(options.spec, { source: options.specSource, seed: options.seed, overrides: options.overrides });
  const { training: settings, featureSpec } = spec;
  const now = options.now ?? new Date();

  const { data } = options;
  const [table, read] = await timed(() => ('input' in data ? readTrainingTable(data.source, featureSpec, data.input) : data));
  const [{ labels, splits, variants }, prepare] = await timed(async () => {
    const labels = labelRecords(table, featureSpec);
    const time = timeOrderOf(table, featureSpec, settings, labels.labelled);
    const splits = splitRows(table, labels, { ...settings, testRows: options.testRows, time });
    const variants = await encodeVariants({ table, featureSpec, labels, splits, now, architecture: spec.model, search });
    return { labels, splits, variants };
  });
  const own = variants.own.encoded;
  const warnings = own.warnings.map((w) => w.message);
  for (const warning of warnings) log(`warning: ${warning}`);
  const crossValidation = own.folds.length >= 2 ? { fit: own.fit, folds: own.folds } : undefined;
  log(
    `${table.source}: ${crossValidation ? `${own.fit.rows} fit rows in ${own.folds.length} folds (search on ${own.train.rows} train, ${own.validation.rows} validation)` : `${own.train.rows} train, ${own.validation.rows} validation`}, ` +
      `${own.test.rows} test rows (${splits.testSplit}); ${own.width} features; classes ${own.classes.join(', ')}`,
  );

  const tf = await options.runtime.tf();
  const [trained, fit] = await timed(() =>
    fitModel({
      tf, train: own.train, validation: own.validation, ...(crossValidation ? { crossValidation } : settings.refit ? { refit: { fit: own.fit } } : {}), shape: variants.own.shape, drawnEncodings: variants.drawn,
      architecture: spec.model, training: settings, search, seed: settings.seed, log,
    }),
  );
  const { model, bestEpoch } = trained;
  // The rest works on the rows as the chosen trial saw them (its numeric encoding).
  const { encoded, shape } = variantFor(variants, trained.config.numericEncoding);
  const { fitted, classes, width, validation, test } = encoded;
  if (trained.config.numericEncoding) log(`numeric encoding: ${encodingKey(trained.config.numericEncoding)} (${width} features)`);
  log(`fit: ${trained.history.length} epochs (best ${bestEpoch.epoch}, val loss ${bestEpoch.valLoss.toFixed(4)}, val AUC ${bestEpoch.valAuc.toFixed(4)}) in ${fit}s`);

  try {
    const predict: Predict = (x, rows) => predictRows(tf, model, x, rows, shape.inputShape, settings.predictBatchSize);
    // Before calibrating: a folded calibration changes the model itself. For the report's reliability diagram.
    const uncalibratedTest = await predict(test.x, test.rows);
    const [{ calibrated, tested }, evaluate] = await timed(async () => {
      const { calibration: method, importanceRepeats } = settings;
      const heldOut: HeldOutPredictions = trained.crossValidation
        ? { probabilities: trained.crossValidation.outOfFold, y: encoded.fit.y, records: encoded.fit.records, rows: encoded.fit.rows }
        : { probabilities: trained.refit?.validationProbabilities ?? (await predict(validation.x, validation.rows)), y: validation.y, records: validation.records, rows: validation.rows };
      const calibrated = calibrateAndChooseThresholds({ tf, model, predict, heldOut, method, classes, outputUnits: shape.outputUnits, economics: spec.economics, table, encoder: encoded.encoder });
      const importanceSeed = deriveSeed(settings.seed, 'importance');
      const tested = await evaluateOnTest({ predict: calibrated.predict, test, fitted, classes, width, outputUnits: shape.outputUnits, thresholds: calibrated.thresholds, importanceRepeats, importanceSeed });
      const inPeriod = encoded.inPeriod ? await evaluateInPeriod(calibrated.predict, encoded.inPeriod, classes, shape.outputUnits) : undefined;
      const holdout: HoldoutDescription = { rows: test.rows, chosen: splits.testSplit, ...(inPeriod ? { inPeriod } : {}) };
      return { calibrated, tested: { ...tested, evaluation: { ...tested.evaluation, holdout } } };
    });
    const { validationProbabilities, thresholds, calibration, graphCalibration } = calibrated;
    const { evaluation, importance, probabilities: testProbabilities } = tested;
    const heldOutRows = calibrated.validationMetrics.rows;
    const heldOutLabels = trained.crossValidation ? encoded.fit.y : validation.y;
    // The score reference is the shipped model on rows it never learned from: the validation or
    // out-of-fold predictions come from other models (the search model before a refit, single fold
    // members before the merge), whose scores are spread differently.
    const { baseline, featureImportance } = buildBaseline(encoded.baselineBuilder, { fitted, importance, heldOutProbabilities: testProbabilities, rows: test.rows, outputUnits: shape.outputUnits, createdAt: now });
    const [exported, exportSeconds] = await timed(() =>
      exportAndCheckParity({ runtime: options.runtime, model, classes, shape, graphCalibration, test, expected: testProbabilities, bundleName: spec.name, version: options.version, now }),
    );
    const timings: TrainTimings = { read, prepare, fit, evaluate, export: exportSeconds, total: secondsSince(started) };

    const { version, parity, files, outputName, extraFiles } = exported;
    const backend = tf.getBackend();
    const bundle = await assembleBundle(
      {
        spec, version, created: now, fitted, classes, trained, backend, evaluation, thresholds, parity, timings, baseline, calibration,
        model: { outputName, extraFiles, inputShape: shape.inputShape },
        calibrationAppliedIn: calibrated.appliedIn,
        validation: calibrated.validationMetrics,
        data: summarizeData(table, labels, splits, encoded),
        curves: trainingCurves({ values: testProbabilities, rows: test.rows, width: shape.outputUnits }, uncalibratedTest, test.y, classes),
        warnings,
      },
      files,
    );
    log(`bundle ${spec.name}@${version}: ${[...files.values()].reduce((n, b) => n + b.length, 0)} bytes of model files; total ${timings.total}s`);
    return {
      bundle, evaluation, fittedSpec: fitted, calibration, warnings, thresholds, search: trained.search, history: trained.history, timings, featureImportance, baseline, parity, backend,
      validation: { probabilities: validationProbabilities, labels: heldOutLabels, rows: heldOutRows, outputWidth: shape.outputUnits },
      test: { probabilities: testProbabilities, labels: test.y, rows: test.rows, uncalibratedProbabilities: uncalibratedTest },
    };
  } finally {
    model.dispose();
  }
}
