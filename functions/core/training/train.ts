import { createHash } from 'node:crypto';
import { createBundle } from '../bundle/bundle.js';
import type { BundleManifest } from '../bundle/bundleManifest.js';
import { BaselineBuilder } from '../drift/baselineBuilder.js';
import type { DriftBaseline } from '../drift/driftBaseline.js';
import { TrainingError } from '../errors.js';
import { evaluateClassifier, type Evaluation } from '../evaluation/evaluateClassifier.js';
import { permutationImportance, type SlotGroup } from '../evaluation/permutationImportance.js';
import { applyCalibration } from '../model/calibration.js';
import { exportTfjsToOnnx } from '../model/exportOnnx.js';
import { layoutColumns } from '../spec/columnLayout.js';
import { missingMarkers, targetColumn, type FittedSpec } from '../spec/featureSpec.js';
import { fitSpec, orderedFeatureColumns } from '../spec/fitSpec.js';
import { compileEncoder, type RowEncoder } from '../spec/rowEncoder.js';
import { chooseThresholds, type ThresholdChoice } from './chooseThresholds.js';
import { fitCalibration, type CalibrationChoice } from './fitCalibration.js';
import { foldCalibration } from './foldCalibration.js';
import { trainWithSearch, type SearchReport } from './searchHyperparameters.js';
import { deriveSeed } from './seededRandom.js';
import { stratifiedSplit } from './stratifiedSplit.js';
import type { TrainingRuntime } from './trainingRuntime.js';
import { parseTrainingSpec, type Architecture, type SearchSettings, type TrainingSettings, type TrainingSpec } from './trainingSpec.js';
import { readTrainingTable, type ExtractBytes, type TrainingTable } from './trainingTable.js';
import { predictRows, TrainingTensors, type EncodedRows, type EpochRecord } from './trialTrainer.js';

/** Names of the ONNX graph's input and output in every trained bundle. */
export const MODEL_INPUT_NAME = 'features';
export const MODEL_OUTPUT_NAME = { binary: 'probability', multiclass: 'probabilities' } as const;

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
  readonly overrides?: {
    readonly training?: Partial<TrainingSettings>;
    readonly search?: Partial<SearchSettings> | false;
    readonly model?: Architecture;
  };
  /** Progress lines (search rungs, phases). */
  readonly log?: (line: string) => void;
}

/** Wall-clock seconds per phase. */
export interface TrainTimings {
  readonly read: number;
  readonly prepare: number;
  /** Search and final fit. */
  readonly fit: number;
  readonly evaluate: number;
  readonly export: number;
  readonly total: number;
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
   * Drift hook: calibrated validation probabilities (`rows × outputWidth`) and permutation importance
   * per feature column — what {@link BaselineBuilder} takes; the built baseline is in `baseline`
   * and in the manifest's `baseline` field.
   */
  readonly validation: { readonly probabilities: Float32Array; readonly labels: Int32Array; readonly rows: number; readonly outputWidth: number };
  /** Calibrated test probabilities (`rows × outputWidth`) and labels, as evaluated. */
  readonly test: { readonly probabilities: Float32Array; readonly labels: Int32Array; readonly rows: number };
  readonly featureImportance: Record<string, number>;
  readonly baseline: DriftBaseline;
  /** Largest |ONNX − calibrated tfjs| over the checked test rows. */
  readonly parity: { readonly rows: number; readonly maxAbsDiff: number };
  readonly backend: string;
}

interface Encoded extends EncodedRows {
  /** Record index (into the table) of each encoded row. */
  readonly records: Int32Array;
}

const seconds = (from: number) => Number(((performance.now() - from) / 1000).toFixed(3));

function applyOverrides(spec: TrainingSpec, options: TrainOptions): { spec: TrainingSpec; search: SearchSettings | undefined } {
  const o = options.overrides ?? {};
  const training = { ...spec.training, ...(o.training ?? {}), ...(options.seed !== undefined ? { seed: options.seed } : {}) };
  const search = o.search === false ? undefined : spec.search ? { ...spec.search, ...(o.search ?? {}) } : undefined;
  return { spec: { ...spec, training, model: o.model ?? spec.model }, search };
}

/** Encodes the given records; rows the encoder refuses are counted by reason and left out. */
function encodeRecords(encoder: RowEncoder, table: TrainingTable, records: ArrayLike<number>, labelOf: (record: number) => number, dropped: Record<string, number>): Encoded {
  const width = encoder.width;
  const x = new Float32Array(records.length * width);
  const y = new Int32Array(records.length);
  const kept = new Int32Array(records.length);
  let rows = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const issue = encoder.encode(table.records[record]!, x, rows * width);
    if (issue) {
      dropped[issue.reason] = (dropped[issue.reason] ?? 0) + 1;
      continue;
    }
    y[rows] = labelOf(record);
    kept[rows] = record;
    rows++;
  }
  return { x: x.subarray(0, rows * width), y: y.subarray(0, rows), rows, records: kept.subarray(0, rows) };
}

/** Slots of each feature column (a sequence feature: all its periods), for permutation importance. */
export function featureSlotGroups(fitted: FittedSpec): { groups: SlotGroup[]; columnsOf: Map<string, string[]> } {
  const groups = new Map<string, number[]>();
  const columnsOf = new Map<string, string[]>();
  let slot = 0;
  for (const column of orderedFeatureColumns(fitted.spec)) {
    const fit = fitted.columns[column.name]!;
    const width = (fit.kind === 'numeric' ? 1 : fit.vocabulary.length) + (column.impute?.indicator ? 1 : 0);
    const name = column.sequence ? `${column.sequence.feature} (${column.sequence.group})` : column.name;
    if (!groups.has(name)) {
      groups.set(name, []);
      columnsOf.set(name, []);
    }
    for (let s = 0; s < width; s++) groups.get(name)!.push(slot + s);
    columnsOf.get(name)!.push(column.name);
    slot += width;
  }
  return { groups: [...groups].map(([name, slots]) => ({ name, slots })), columnsOf };
}

/** The Keras input shape: `[width]`, or `[periods, features]` for a sequence model. */
function inputShapeFor(architecture: Architecture, fitted: FittedSpec, width: number): number[] {
  if (architecture.kind !== 'sequence') return [width];
  const sequences = fitted.sequences ?? [];
  const only = sequences[0];
  if (sequences.length !== 1 || !only || only.offset !== 0 || only.periods * only.features.length !== width) {
    throw new TrainingError(
      `a sequence model needs every feature in one sequence group (found ${sequences.length} group(s) covering ` +
        `${sequences.reduce((n, s) => n + s.periods * s.features.length, 0)} of ${width} slots); use an mlp for static features`,
      { isInputError: true },
    );
  }
  return [only.periods, only.features.length];
}

function versionStamp(now: Date, onnx: Uint8Array): string {
  const iso = now.toISOString();
  return `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}-${createHash('sha256').update(onnx).digest('hex').slice(0, 6)}`;
}

/**
 * Trains a model bundle from a labelled extract and a training spec: reads the rows, splits off a
 * stratified test part (or the given `testRows`) and a validation part, fits the feature spec on
 * the rest, trains the spec's architecture (with a successive-halving search when the spec has one,
 * early stopping and best weights restored), calibrates on the validation rows, picks the
 * profit-optimal threshold under the default economics, evaluates on the test rows, exports ONNX
 * (calibration included), checks ONNX against tfjs, builds the drift baseline, and assembles the
 * bundle (the caller writes it: `writeBundleDir` or a registry). Deterministic for a seed, unless the search's time budget ran out.
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
  const parsed = parseTrainingSpec(options.spec, options.specSource ?? 'training spec');
  const { spec, search } = applyOverrides(parsed, options);
  const settings = spec.training;
  const seed = settings.seed;
  const featureSpec = spec.featureSpec;
  const now = options.now ?? new Date();
  if (spec.model.kind === 'sequence' && settings.ensemble > 1) {
    throw new TrainingError('an ensemble (training.ensemble > 1) is only supported for mlp models', { isInputError: true });
  }

  const readStarted = performance.now();
  const table = 'input' in options.data ? await readTrainingTable(options.data.source, featureSpec, options.data.input) : options.data;
  const source = table.source;
  const readSeconds = seconds(readStarted);

  const prepareStarted = performance.now();
  const target = targetColumn(featureSpec);
  if (!target) throw new TrainingError('the feature spec has no target column (role "target"): there is nothing to learn', { isInputError: true });
  const targetIndex = layoutColumns(featureSpec, table.header, source).require(target.name);
  const markers = missingMarkers(target);
  const labelText: string[] = new Array<string>(table.records.length);
  const labelled: number[] = [];
  for (let r = 0; r < table.records.length; r++) {
    const label = (table.records[r]![targetIndex] ?? '').trim();
    labelText[r] = label;
    if (!markers.has(label)) labelled.push(r);
  }
  const unlabelled = table.records.length - labelled.length;
  const rawClasses = [...new Set(labelled.map((r) => labelText[r]!))].sort();
  if (rawClasses.length < 2) throw new TrainingError(`target "${target.name}" has ${rawClasses.length} class(es) in ${source}; training needs two or more`, { isInputError: true });
  const rawIndex = new Map(rawClasses.map((c, i) => [c, i]));
  const rawLabels = new Int32Array(table.records.length).fill(-1);
  for (const r of labelled) rawLabels[r] = rawIndex.get(labelText[r]!)!;

  // Test rows: the given file rows, or a stratified share. Then validation from the rest.
  let testRecords: Int32Array;
  let restRecords: Int32Array;
  const labelledRows = Int32Array.from(labelled);
  if (options.testRows) {
    const wanted = new Set(Array.from(options.testRows));
    const rowIds = table.rowIds ?? Int32Array.from({ length: table.records.length }, (_, i) => i);
    testRecords = labelledRows.filter((r) => wanted.has(rowIds[r]!));
    restRecords = labelledRows.filter((r) => !wanted.has(rowIds[r]!));
  } else {
    const split = stratifiedSplit(rawLabels, settings.testFraction, deriveSeed(seed, 'test'), labelledRows);
    testRecords = split.holdout;
    restRecords = split.train;
  }
  const { train: trainRecords, holdout: validationRecords } = stratifiedSplit(rawLabels, settings.validationFraction, deriveSeed(seed, 'validation'), restRecords);

  const fitted = await fitSpec(featureSpec, { header: table.header, records: Array.from(restRecords, (r) => table.records[r]!) }, { source, now });
  const classes = fitted.classes;
  if (!classes) throw new TrainingError('the fitted spec has no classes', { isInputError: false });
  const binary = classes.length === 2;
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const unseenInTraining = new Set<string>();
  const labelOf = (record: number) => {
    const k = classIndex.get(labelText[record]!);
    if (k === undefined) unseenInTraining.add(labelText[record]!);
    return k ?? -1;
  };

  const dropped: Record<string, number> = {};
  const baselineBuilder = new BaselineBuilder(fitted);
  const observedEncoder = compileEncoder(fitted, table.header, source, { observer: baselineBuilder });
  const encoder = compileEncoder(fitted, table.header, source);
  const trainRows = encodeRecords(observedEncoder, table, trainRecords, labelOf, dropped);
  const validationRows = encodeRecords(observedEncoder, table, validationRecords, labelOf, dropped);
  const testAll = encodeRecords(encoder, table, testRecords, labelOf, dropped);
  // A class only in the test rows cannot be predicted; those rows are left out and reported.
  const keep = Int32Array.from({ length: testAll.rows }, (_, i) => i).filter((i) => testAll.y[i]! >= 0);
  const width = encoder.width;
  const testRows: Encoded =
    keep.length === testAll.rows
      ? testAll
      : {
          x: Float32Array.from({ length: keep.length * width }, (_, i) => testAll.x[keep[Math.floor(i / width)]! * width + (i % width)]!),
          y: Int32Array.from(keep, (i) => testAll.y[i]!),
          rows: keep.length,
          records: Int32Array.from(keep, (i) => testAll.records[i]!),
        };
  if (trainRows.rows === 0 || validationRows.rows === 0 || testRows.rows === 0) {
    throw new TrainingError(`too few usable rows: ${trainRows.rows} train, ${validationRows.rows} validation, ${testRows.rows} test`, { isInputError: true });
  }
  const inputShape = inputShapeFor(spec.model, fitted, width);
  const outputUnits = binary ? 1 : classes.length;
  const prepareSeconds = seconds(prepareStarted);
  log(`${source}: ${trainRows.rows} train, ${validationRows.rows} validation, ${testRows.rows} test rows; ${width} features; classes ${classes.join(', ')}`);

  const tf = await options.runtime.tf();
  const fitStarted = performance.now();
  const tensors = new TrainingTensors(tf, trainRows, validationRows, { inputShape, outputUnits });
  let trained;
  try {
    trained = await trainWithSearch({ tf, data: tensors, architecture: spec.model, training: settings, ...(search ? { search } : {}), seed, log });
  } finally {
    tensors.dispose();
  }
  const model = trained.model;
  const fitSeconds = seconds(fitStarted);
  log(`fit: ${trained.history.length} epochs (best ${trained.bestEpoch.epoch}, val loss ${trained.bestEpoch.valLoss.toFixed(4)}, val AUC ${trained.bestEpoch.valAuc.toFixed(4)}) in ${fitSeconds}s`);

  try {
    const evaluateStarted = performance.now();
    const predict = (x: Float32Array, rows: number) => predictRows(tf, model, x, rows, inputShape, settings.predictBatchSize);
    const rawValidation = await predict(validationRows.x, validationRows.rows);
    const calibration = fitCalibration(settings.calibration, rawValidation, validationRows.y, outputUnits);
    // Platt and temperature become part of the output layer; isotonic stays a step after the model.
    const folded = foldCalibration(tf, model, calibration.calibration);
    const graphCalibration = folded ? undefined : calibration.calibration;
    const calibrate = (p: Float32Array) => (graphCalibration ? applyCalibration(p, graphCalibration, outputUnits) : p);
    const validationP = folded ? await predict(validationRows.x, validationRows.rows) : calibrate(rawValidation);

    let thresholds: ThresholdChoice | undefined;
    if (binary) {
      const economics = spec.economics;
      const values =
        typeof economics.valuePerResponse === 'number'
          ? undefined
          : (() => {
              const index = encoder.valueIndex(economics.valuePerResponse.column);
              return Float64Array.from(validationRows.records, (r) => Number(table.records[r]![index]) || 0);
            })();
      thresholds = chooseThresholds(validationP, validationRows.y, economics, values);
    }

    const calibratedPredict = async (x: Float32Array, rows: number) => calibrate(await predict(x, rows));
    const testP = await calibratedPredict(testRows.x, testRows.rows);
    const { groups, columnsOf } = featureSlotGroups(fitted);
    const importance =
      settings.importanceRepeats > 0
        ? await permutationImportance({
            predict: calibratedPredict,
            x: testRows.x,
            rows: testRows.rows,
            width,
            outputWidth: outputUnits,
            labels: testRows.y,
            groups,
            repeats: settings.importanceRepeats,
            seed: deriveSeed(seed, 'importance'),
          })
        : [];
    const evaluation: Evaluation = {
      ...evaluateClassifier({ values: testP, rows: testRows.rows, width: outputUnits }, testRows.y, classes, {
        ...(thresholds ? { thresholds: { 'max-expected-profit': thresholds.maxExpectedProfit.threshold, 'max-f1': thresholds.maxF1.threshold, 'p ≥ 0.5': 0.5 } } : {}),
      }),
      featureImportance: importance,
    };
    const validationEvaluation = evaluateClassifier({ values: validationP, rows: validationRows.rows, width: outputUnits }, validationRows.y, classes);
    const rawValidationEce = evaluateClassifier({ values: rawValidation, rows: validationRows.rows, width: outputUnits }, validationRows.y, classes).expectedCalibrationError;
    const evaluateSeconds = seconds(evaluateStarted);

    // Drift baseline: training-row distributions were observed while encoding; add validation scores.
    const featureImportance: Record<string, number> = {};
    for (const f of importance) {
      const columns = columnsOf.get(f.feature) ?? [f.feature];
      for (const column of columns) featureImportance[column] = Math.max(0, f.importance) / columns.length;
    }
    baselineBuilder.score(validationP, validationRows.rows, outputUnits);
    const baseline = baselineBuilder.build({ featureImportance, createdAt: now.toISOString() });

    const exportStarted = performance.now();
    const outputName = binary ? MODEL_OUTPUT_NAME.binary : MODEL_OUTPUT_NAME.multiclass;
    const onnx = exportTfjsToOnnx(model, {
      inputName: MODEL_INPUT_NAME,
      outputName,
      ...(graphCalibration ? { calibration: graphCalibration } : {}),
    });
    const version = options.version ?? versionStamp(now, onnx);
    const parityRows = Math.min(testRows.rows, 2048);
    const onnxModel = await options.runtime.loadModel(
      {
        format: 'onnx',
        files: new Map([['model.onnx', onnx]]),
        file: 'model.onnx',
        inputName: MODEL_INPUT_NAME,
        outputName,
        inputWidth: width,
        outputWidth: outputUnits,
        ...(inputShape.length === 2 ? { sequence: { periods: inputShape[0]!, features: inputShape[1]! } } : {}),
      },
      { bundle: spec.name, version },
    );
    let maxAbsDiff = 0;
    try {
      const fromOnnx = await onnxModel.score(testRows.x, parityRows);
      for (let i = 0; i < parityRows * outputUnits; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(fromOnnx[i]! - testP[i]!));
    } finally {
      await onnxModel.dispose();
    }
    // A guard against export bugs, which show as large gaps; float32 rounding stays far below it.
    if (!(maxAbsDiff <= 1e-3)) {
      throw new TrainingError(`the exported ONNX model disagrees with tfjs by ${maxAbsDiff} on ${parityRows} test rows`, { isInputError: false });
    }
    const tfjsFiles = await options.runtime.saveLayersModel(model, 'tfjs');
    const files = new Map<string, Uint8Array>([['model.onnx', onnx], ...tfjsFiles]);
    const exportSeconds = seconds(exportStarted);

    const timings: TrainTimings = {
      read: readSeconds,
      prepare: prepareSeconds,
      fit: fitSeconds,
      evaluate: evaluateSeconds,
      export: exportSeconds,
      total: seconds(started),
    };
    const notes = [
      ...spec.notes,
      `Trained on ${trainRows.rows} rows of ${source}; early stopping and calibration on ${validationRows.rows} validation rows; evaluated on ${testRows.rows} held-out test rows.`,
      folded
        ? `The ${calibration.method} calibration (metrics.calibration) is folded into the output layer of both model.onnx and tfjs/.`
        : graphCalibration
          ? `model.onnx ends with the ${calibration.method} calibration (metrics.calibration); tfjs/ holds the model before it: apply applyCalibration to its output.`
          : 'No calibration was applied.',
    ];
    if (binary && thresholds) {
      notes.push(
        `threshold ${thresholds.maxExpectedProfit.threshold.toFixed(4)} maximizes expected profit on the validation rows under the default economics; ` +
          `the F1-optimal threshold is ${thresholds.maxF1.threshold.toFixed(4)}.`,
      );
    }
    const bundle = createBundle(
      {
        schemaVersion: 1,
        name: spec.name,
        version,
        created: now.toISOString(),
        ...(spec.description ? { description: spec.description } : {}),
        task: binary ? 'binary' : 'multiclass',
        classes,
        ...(binary ? { positiveClass: classes[1]! } : {}),
        format: 'onnx',
        model: {
          file: 'model.onnx',
          inputName: MODEL_INPUT_NAME,
          outputName,
          output: binary ? 'positive-probability' : 'class-probabilities',
          extraFiles: [...tfjsFiles.keys()],
        },
        featureSpec: fitted,
        economics: spec.economics,
        ...(spec.actions ? { actions: spec.actions } : {}),
        ...(binary && thresholds ? { threshold: thresholds.maxExpectedProfit.threshold } : {}),
        metrics: {
          evaluation,
          validation: {
            rows: validationRows.rows,
            rocAuc: validationEvaluation.rocAuc,
            logLoss: validationEvaluation.logLoss,
            expectedCalibrationError: { beforeCalibration: rawValidationEce, afterCalibration: validationEvaluation.expectedCalibrationError },
          },
          calibration: {
            method: calibration.method,
            appliedIn: folded ? 'output-layer' : graphCalibration ? 'onnx-graph' : 'none',
            ...(calibration.calibration ? { parameters: calibration.calibration } : {}),
            ...(calibration.crossFittedLogLoss ? { crossFittedLogLoss: calibration.crossFittedLogLoss } : {}),
          },
          ...(thresholds ? { thresholds } : {}),
          training: {
            seed,
            backend: tf.getBackend(),
            architecture: trained.config.architecture,
            settings: { ...settings, ...trained.config.settings },
            inputShape,
            epochs: trained.history.length,
            bestEpoch: trained.bestEpoch.epoch,
            history: trained.history,
          },
          search: trained.search,
          data: {
            source,
            rows: table.records.length + (table.rejected ?? 0),
            rejectedByReader: table.rejected ?? 0,
            unlabelled,
            droppedByEncoder: dropped,
            unseenClassesInTest: [...unseenInTraining],
            trainRows: trainRows.rows,
            validationRows: validationRows.rows,
            testRows: testRows.rows,
            testSplit: options.testRows ? 'given rows' : `stratified ${settings.testFraction}`,
          },
          parity: { rows: parityRows, maxAbsDiff },
          timings,
        },
        baseline,
        notes,
      },
      files,
    );
    log(`bundle ${spec.name}@${version}: ${[...files.values()].reduce((n, b) => n + b.length, 0)} bytes of model files; total ${timings.total}s`);
    return {
      bundle,
      evaluation,
      fittedSpec: fitted,
      calibration,
      thresholds,
      search: trained.search,
      history: trained.history,
      timings,
      validation: { probabilities: validationP, labels: validationRows.y, rows: validationRows.rows, outputWidth: outputUnits },
      test: { probabilities: testP, labels: testRows.y, rows: testRows.rows },
      featureImportance,
      baseline,
      parity: { rows: parityRows, maxAbsDiff },
      backend: tf.getBackend(),
    };
  } finally {
    model.dispose();
  }
}
