import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../functions/core/bundle/bundle.js';
import { ExtractError, TrainingError } from '../../../functions/core/errors.js';
import { evaluateClassifier } from '../../../functions/core/evaluation/evaluateClassifier.js';
import { featureSpecSchema, type FeatureSpec } from '../../../functions/core/spec/featureSpec.js';
import { fitSpec } from '../../../functions/core/spec/fitSpec.js';
import { assembleBundle, bundleNotes, summarizeData, type AssembleBundleInput } from '../../../functions/core/training/assembleBundle.js';
import { buildBaseline, columnImportance } from '../../../functions/core/training/buildBaseline.js';
import { responseValues } from '../../../functions/core/training/calibrateAndChooseThresholds.js';
import type { ThresholdChoice } from '../../../functions/core/training/chooseThresholds.js';
import { encodeSplits, withKnownLabels } from '../../../functions/core/training/encodeSplits.js';
import { labelRecords } from '../../../functions/core/training/labelRecords.js';
import { modelShapeFor } from '../../../functions/core/training/modelShape.js';
import { resolveTrainingSpec } from '../../../functions/core/training/resolveTrainingSpec.js';
import { splitRows, type RowSplits } from '../../../functions/core/training/splitRows.js';
import type { TrainingTable } from '../../../functions/core/training/trainingTable.js';
import { versionStamp } from '../../../functions/core/training/versionStamp.js';

const NOW = new Date('2026-01-02T03:04:05Z');

/** id, a raw numeric `x` (no scaling, so encoded values are the cells), a categorical `plan`, the target `label`. */
const handSpec: FeatureSpec = featureSpecSchema.parse({
  columns: [
    { name: 'id', role: 'id' },
    { name: 'x', role: 'feature', type: 'numeric', scale: 'none' },
    { name: 'plan', role: 'feature', type: 'categorical' },
    { name: 'label', role: 'target', type: 'categorical' },
  ],
});

/** Record 2 has a bad number; record 5 is the only `maybe`. */
const handTable: TrainingTable = {
  source: 'hand.csv',
  header: ['id', 'x', 'plan', 'label'],
  records: [
    ['1', '1', 'a', 'yes'],
    ['2', '2', 'b', 'no'],
    ['3', 'abc', 'a', 'yes'],
    ['4', '4', 'b', 'no'],
    ['5', '5', 'a', 'yes'],
    ['6', '6', 'b', 'maybe'],
    ['7', '7', 'a', 'no'],
    ['8', '8', 'b', 'yes'],
  ],
};

/** Two monthly features over two months: one sequence group, four slots. */
const sequenceSpec: FeatureSpec = featureSpecSchema.parse({
  columns: [
    ...['spend', 'visits'].flatMap((feature) =>
      [1, 2].map((period) => ({ name: `${feature}_m${period}`, role: 'feature', type: 'numeric', scale: 'none', sequence: { group: 'monthly', feature, period } })),
    ),
    { name: 'label', role: 'target', type: 'categorical' },
  ],
});
const sequenceTable = {
  header: ['spend_m1', 'spend_m2', 'visits_m1', 'visits_m2', 'label'],
  records: [
    ['1', '2', '3', '4', 'yes'],
    ['5', '6', '7', '8', 'no'],
  ],
};

const Int = (...values: number[]) => Int32Array.from(values);

describe('resolveTrainingSpec', () => {
  it('lays overrides and the seed over the spec, and drops the search when asked', () => {
    const spec = { name: 'hand', featureSpec: handSpec, training: { seed: 5, epochs: 9 }, search: { trials: 4 } };
    const { spec: resolved, search } = resolveTrainingSpec(spec, { seed: 11, overrides: { training: { epochs: 2 } } });
    expect(resolved.training).toMatchObject({ seed: 11, epochs: 2 });
    expect(search).toMatchObject({ trials: 4, eta: 3 });
    expect(resolveTrainingSpec(spec, { overrides: { search: false } }).search).toBeUndefined();
  });

  it('refuses an ensemble of sequence models', () => {
    const spec = { name: 'hand', featureSpec: sequenceSpec, model: { kind: 'sequence' }, training: { ensemble: 2 } };
    const error = catching(() => resolveTrainingSpec(spec));
    expect(error).toBeInstanceOf(TrainingError);
    expect(error).toMatchObject({ code: 'TRAINING_FAILED', isInputError: true, message: 'an ensemble (training.ensemble > 1) is only supported for mlp models' });
  });
});

describe('labelRecords', () => {
  it('trims the target, counts missing markers as unlabelled, and indexes the sorted classes', () => {
    const table: TrainingTable = { source: 't.csv', header: ['x', 'label'], records: [['1', ' yes '], ['2', ''], ['3', 'no'], ['4', 'NA'], ['5', 'maybe']] };
    const labels = labelRecords(table, handSpecWithout('id', 'plan'));
    expect(labels.text).toEqual(['yes', '', 'no', 'NA', 'maybe']);
    expect(labels.labelled).toEqual(Int(0, 2, 4));
    expect(labels.unlabelled).toBe(2);
    expect(labels.classes).toEqual(['maybe', 'no', 'yes']);
    expect(labels.classIndex).toEqual(Int(2, -1, 1, -1, 0));
  });

  it('refuses a spec without a target, and a target with one class, naming the column and the file', () => {
    const noTarget = featureSpecSchema.parse({ columns: handSpec.columns.filter((c) => c.role !== 'target') });
    expect(() => labelRecords(handTable, noTarget)).toThrow(TrainingError);
    expect(catching(() => labelRecords(handTable, noTarget))).toMatchObject({
      code: 'TRAINING_FAILED',
      isInputError: true,
      message: 'the feature spec has no target column (role "target"): there is nothing to learn',
    });
    const oneClass = { ...handTable, records: handTable.records.map((r) => [...r.slice(0, 3), r[3] === 'no' ? '' : 'yes']) };
    expect(catching(() => labelRecords(oneClass, handSpec))).toMatchObject({
      code: 'TRAINING_FAILED',
      isInputError: true,
      message: 'target "label" has 1 class(es) in hand.csv; training needs two or more',
    });
  });

  it('refuses a file without the target column as an extract error', () => {
    const table = { ...handTable, header: ['id', 'x', 'plan', 'outcome'] };
    expect(catching(() => labelRecords(table, handSpec))).toBeInstanceOf(ExtractError);
  });
});

describe('splitRows', () => {
  it('holds out the given file rows (by row id, labelled only) and splits validation from the rest', () => {
    // Row ids skip 3 (a row the reader rejected): records 3… are file rows 4…
    const table = { ...handTable, rowIds: Int(0, 1, 2, 4, 5, 6, 7, 8) };
    const labels = labelRecords(table, handSpec);
    const splits = splitRows(table, labels, { seed: 1, testFraction: 0.5, validationFraction: 0.25, testRows: [3, 4, 8] });
    expect(splits.test).toEqual(Int(3, 7));
    expect(splits.fit).toEqual(Int(0, 1, 2, 4, 5, 6));
    expect([...splits.train, ...splits.validation].sort()).toEqual([0, 1, 2, 4, 5, 6]);
    // One validation row per class with two or more rows (no: 1, 6; yes: 0, 2, 4); `maybe` has one.
    expect(splits.validation.map((r) => labels.classIndex[r]!).sort()).toEqual(Int(1, 2));
    expect(splits.testSplit).toBe('given rows');
  });

  it('draws a stratified test share from the seed, the same for the same seed', () => {
    const records = Array.from({ length: 20 }, (_, i) => [String(i), String(i), 'a', i < 12 ? 'no' : 'yes']);
    const table: TrainingTable = { ...handTable, records };
    const labels = labelRecords(table, handSpec);
    const splits = splitRows(table, labels, { seed: 3, testFraction: 0.25, validationFraction: 0.2 });
    expect(splits.testSplit).toBe('stratified 0.25');
    const classesOf = (rows: Int32Array) => [...rows].map((r) => records[r]![3]);
    expect(classesOf(splits.test).filter((c) => c === 'no')).toHaveLength(3);
    expect(classesOf(splits.test).filter((c) => c === 'yes')).toHaveLength(2);
    expect(splits.validation).toHaveLength(3); // round(9 × 0.2) + round(6 × 0.2)
    expect(new Set([...splits.train, ...splits.validation, ...splits.test]).size).toBe(20);
    expect(splitRows(table, labels, { seed: 3, testFraction: 0.25, validationFraction: 0.2 })).toEqual(splits);
    expect(splitRows(table, labels, { seed: 4, testFraction: 0.25, validationFraction: 0.2 }).test).not.toEqual(splits.test);
  });
});

describe('encodeSplits', () => {
  const splits: RowSplits = { train: Int(0, 1, 2, 3), validation: Int(4, 6), test: Int(5, 7), fit: Int(0, 1, 2, 3, 4, 6), folds: [], testSplit: 'given rows' };

  it('fits on train + validation, encodes each part, counts refused rows and leaves out classes only in the test', async () => {
    const encoded = await encodeSplits(handTable, handSpec, labelRecords(handTable, handSpec), splits, NOW);
    expect(encoded.classes).toEqual(['no', 'yes']);
    expect(encoded.encoder.featureNames).toEqual(['x', 'plan=a', 'plan=b', 'plan=__other__']);
    expect(encoded.width).toBe(4);
    // Record 2 ('abc') is refused; records 0, 1, 3 remain.
    expect(encoded.train).toEqual({ x: Float32Array.of(1, 1, 0, 0, 2, 0, 1, 0, 4, 0, 1, 0), y: Int(1, 0, 0), rows: 3, records: Int(0, 1, 3) });
    expect(encoded.validation).toEqual({ x: Float32Array.of(5, 1, 0, 0, 7, 1, 0, 0), y: Int(1, 0), rows: 2, records: Int(4, 6) });
    // Record 5 is a `maybe`, which the model cannot predict.
    expect(encoded.test).toEqual({ x: Float32Array.of(8, 0, 1, 0), y: Int(1), rows: 1, records: Int(7) });
    expect(encoded.dropped).toEqual({ NOT_A_NUMBER: 1 });
    expect(encoded.unseenClassesInTest).toEqual(['maybe']);
    // The baseline saw the 5 training and validation rows that encoded.
    const baseline = encoded.baselineBuilder.build();
    expect(baseline.features.find((f) => f.name === 'plan')).toMatchObject({ kind: 'categorical', proportions: [0.6, 0.4, 0] });
  });

  it('refuses a part left without usable rows', async () => {
    const onlyBad = { ...splits, test: Int(5) };
    const error = await encodeSplits(handTable, handSpec, labelRecords(handTable, handSpec), onlyBad, NOW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect(error).toMatchObject({ code: 'TRAINING_FAILED', isInputError: true, message: 'too few usable rows: 3 train, 2 validation, 0 test' });
  });

  it('withKnownLabels keeps the rows with a class, and returns the same rows when all have one', () => {
    const rows = { x: Float32Array.of(1, 2, 3, 4, 5, 6), y: Int(0, -1, 1), rows: 3, records: Int(10, 11, 12) };
    expect(withKnownLabels(rows, 2)).toEqual({ x: Float32Array.of(1, 2, 5, 6), y: Int(0, 1), rows: 2, records: Int(10, 12) });
    const all = { ...rows, y: Int(0, 1, 1) };
    expect(withKnownLabels(all, 2)).toBe(all);
  });
});

describe('modelShapeFor', () => {
  it('gives an MLP one input row and a binary model one output', async () => {
    const fitted = await fitSpec(handSpec, { header: handTable.header, records: handTable.records }, { now: NOW });
    expect(modelShapeFor({ kind: 'mlp', layers: [4], activation: 'relu', dropout: 0, l2: 0, batchNorm: false }, fitted, 4, ['no', 'yes'])).toEqual({ inputShape: [4], outputUnits: 1 });
    expect(modelShapeFor({ kind: 'mlp', layers: [4], activation: 'relu', dropout: 0, l2: 0, batchNorm: false }, fitted, 4, ['a', 'b', 'c'])).toEqual({ inputShape: [4], outputUnits: 3 });
  });

  it('gives a sequence model [periods, features], and refuses features outside one sequence group', async () => {
    const sequence = resolveTrainingSpec({ name: 'seq', featureSpec: sequenceSpec, model: { kind: 'sequence' } }).spec.model;
    const fitted = await fitSpec(sequenceSpec, sequenceTable, { now: NOW });
    expect(modelShapeFor(sequence, fitted, 4, ['no', 'yes'])).toEqual({ inputShape: [2, 2], outputUnits: 1 });
    const staticFitted = await fitSpec(handSpec, { header: handTable.header, records: handTable.records }, { now: NOW });
    expect(catching(() => modelShapeFor(sequence, staticFitted, 4, ['no', 'yes']))).toMatchObject({
      code: 'TRAINING_FAILED',
      isInputError: true,
      message: 'a sequence model needs every feature in one sequence group (found 0 group(s) covering 0 of 4 slots); use an mlp for static features',
    });
  });
});

describe('responseValues', () => {
  it('reads the economics value column of the given records (0 where not a number), none for a constant value', async () => {
    const encoded = await encodeSplits(handTable, handSpec, labelRecords(handTable, handSpec), { train: Int(0, 1), validation: Int(4, 6), test: Int(7), fit: Int(0, 1, 4, 6), folds: [], testSplit: '' }, NOW);
    const economics = resolveTrainingSpec({ name: 'hand', featureSpec: handSpec, economics: { costPerContact: 1, valuePerResponse: { column: 'x' } } }).spec.economics;
    expect(responseValues(economics, encoded.encoder, handTable, Int(0, 2, 7))).toEqual(Float64Array.of(1, 0, 8));
    expect(responseValues({ ...economics, valuePerResponse: 10 }, encoded.encoder, handTable, Int(0))).toBeUndefined();
    expect(catching(() => responseValues({ ...economics, valuePerResponse: { column: 'spend' } }, encoded.encoder, handTable, Int(0)))).toBeInstanceOf(ExtractError);
  });
});

describe('buildBaseline', () => {
  it('shares a sequence feature’s importance among its periods and floors negative importance at 0', async () => {
    const fitted = await fitSpec(sequenceSpec, sequenceTable, { now: NOW });
    const importance = [
      { feature: 'spend (monthly)', importance: 0.4, std: 0 },
      { feature: 'visits (monthly)', importance: -0.1, std: 0 },
    ];
    expect(columnImportance(importance, fitted)).toEqual({ spend_m1: 0.2, spend_m2: 0.2, visits_m1: 0, visits_m2: 0 });
  });

  it('adds the validation scores and the column importance to what the encoder observed', async () => {
    const encoded = await encodeSplits(handTable, handSpec, labelRecords(handTable, handSpec), { train: Int(0, 1, 3), validation: Int(4, 6), test: Int(7), fit: Int(0, 1, 3, 4, 6), folds: [], testSplit: '' }, NOW);
    const { baseline, featureImportance } = buildBaseline(encoded.baselineBuilder, {
      fitted: encoded.fitted,
      importance: [{ feature: 'x', importance: 0.3, std: 0 }],
      heldOutProbabilities: Float32Array.of(0.25, 0.75),
      rows: 2,
      outputUnits: 1,
      createdAt: NOW,
    });
    expect(featureImportance).toEqual({ x: 0.3 });
    expect(baseline).toMatchObject({ createdAt: '2026-01-02T03:04:05.000Z', featureImportance: { x: 0.3 }, score: { rows: 2 } });
    expect(baseline.features.map((f) => f.name)).toEqual(['x', 'plan']);
  });
});

describe('versionStamp', () => {
  it('is the fit minute (UTC) and the first 6 hex of the ONNX sha256', () => {
    const onnx = new TextEncoder().encode('onnx');
    expect(versionStamp(NOW, onnx)).toBe(`2026-01-02T0304-${sha256Hex(onnx).slice(0, 6)}`);
  });
});

describe('assembleBundle', () => {
  const threshold = (t: number, f1: number) => ({ threshold: t, contacts: 3, expectedProfit: 10, realizedProfit: 8, f1 });
  const thresholds: ThresholdChoice = { maxExpectedProfit: threshold(0.123456, 0.5), maxRealizedProfit: threshold(0.2, 0.6), maxF1: threshold(0.4, 0.7) };

  async function input(overrides: Partial<AssembleBundleInput> = {}): Promise<AssembleBundleInput> {
    const labels = labelRecords(handTable, handSpec);
    const splits: RowSplits = { train: Int(0, 1, 2, 3), validation: Int(4, 6), test: Int(5, 7), fit: Int(0, 1, 2, 3, 4, 6), folds: [], testSplit: 'given rows' };
    const encoded = await encodeSplits(handTable, handSpec, labels, splits, NOW);
    const { spec } = resolveTrainingSpec({ name: 'hand', featureSpec: handSpec, notes: ['a note from the spec'] });
    const epoch = { epoch: 1, loss: 0.6, valLoss: 0.65, valAuc: 0.7, learningRate: 0.01 };
    return {
      spec,
      version: 'v1',
      created: NOW,
      fitted: encoded.fitted,
      classes: encoded.classes,
      model: { outputName: 'probability', extraFiles: ['tfjs/model.json'], inputShape: [4] },
      trained: {
        config: { architecture: spec.model, settings: { ...spec.training, learningRate: 0.05 }, drawn: {} },
        history: [epoch],
        bestEpoch: epoch,
        search: { strategy: 'none', selectBy: 'auc', trials: [], chosenTrial: 0, timedOut: false, searchSeconds: 0, members: [] },
      },
      backend: 'cpu',
      evaluation: evaluateClassifier({ values: Float32Array.of(0.8), rows: 1, width: 1 }, Int(1), encoded.classes),
      validation: { rows: 2, rocAuc: 1, logLoss: 0.3, expectedCalibrationError: { beforeCalibration: 0.2, afterCalibration: 0.1 } },
      calibration: { calibration: { kind: 'platt', a: 1.5, b: -0.5 }, method: 'platt' },
      calibrationAppliedIn: 'output-layer',
      thresholds,
      data: summarizeData({ ...handTable, rejected: 2 }, labels, splits, encoded),
      parity: { rows: 1, maxAbsDiff: 0 },
      timings: { read: 0, prepare: 0, fit: 0, evaluate: 0, export: 0, total: 0 },
      baseline: encoded.baselineBuilder.build(),
      ...overrides,
    };
  }

  it('summarizes where the rows went', async () => {
    expect((await input()).data).toEqual({
      source: 'hand.csv',
      rows: 10,
      rejectedByReader: 2,
      unlabelled: 0,
      droppedByEncoder: { NOT_A_NUMBER: 1 },
      unseenClassesInTest: ['maybe'],
      trainRows: 3,
      validationRows: 2,
      fitRows: 5,
      folds: 1,
      testRows: 1,
      testSplit: 'given rows',
    });
  });

  it('notes the rows, where the calibration lives and the chosen thresholds', async () => {
    const base = await input();
    const rowsNote = 'Trained on 3 rows of hand.csv; early stopping and calibration on 2 validation rows; evaluated on 1 held-out test rows.';
    expect(bundleNotes(base)).toEqual([
      'a note from the spec',
      rowsNote,
      'The platt calibration (metrics.calibration) is folded into the output layer of both model.onnx and tfjs/.',
      'threshold 0.1235 maximizes expected profit on the validation rows under the default economics; the F1-optimal threshold is 0.4000.',
    ]);
    expect(bundleNotes({ ...base, calibration: { calibration: { kind: 'isotonic', x: [0, 1], y: [0, 1] }, method: 'isotonic' }, calibrationAppliedIn: 'onnx-graph' })[2]).toBe(
      'model.onnx ends with the isotonic calibration (metrics.calibration); tfjs/ holds the model before it: apply applyCalibration to its output.',
    );
    expect(bundleNotes({ ...base, calibration: { calibration: undefined, method: 'none' }, calibrationAppliedIn: 'none', thresholds: undefined })).toEqual([
      'a note from the spec',
      rowsNote,
      'No calibration was applied.',
    ]);
  });

  it('assembles a binary manifest: positive class, profit threshold, model files and the metrics of every step', async () => {
    const files = new Map([['model.onnx', Uint8Array.of(1, 2, 3)], ['tfjs/model.json', Uint8Array.of(4)]]);
    const bundle = await assembleBundle(await input(), files);
    const { manifest } = bundle;
    // The training report is one of the files, hashed like the others, rendered from this manifest.
    const report = bundle.files.get('report.html')!;
    expect(manifest.files['report.html']).toBe(sha256Hex(report));
    expect(Buffer.from(report).toString('utf8')).toContain('<h1>Training report: hand v1</h1>');
    expect(manifest).toMatchObject({
      name: 'hand',
      version: 'v1',
      created: '2026-01-02T03:04:05.000Z',
      task: 'binary',
      classes: ['no', 'yes'],
      positiveClass: 'yes',
      threshold: 0.123456,
      model: { file: 'model.onnx', inputName: 'features', outputName: 'probability', output: 'positive-probability', extraFiles: ['tfjs/model.json'] },
      files: { 'model.onnx': sha256Hex(Uint8Array.of(1, 2, 3)), 'tfjs/model.json': sha256Hex(Uint8Array.of(4)) },
    });
    expect(manifest.metrics).toMatchObject({
      validation: { rows: 2, expectedCalibrationError: { beforeCalibration: 0.2, afterCalibration: 0.1 } },
      calibration: { method: 'platt', appliedIn: 'output-layer', parameters: { kind: 'platt', a: 1.5, b: -0.5 } },
      thresholds,
      training: { seed: 42, backend: 'cpu', inputShape: [4], epochs: 1, bestEpoch: 1, settings: { learningRate: 0.05, epochs: 100 } },
      data: { trainRows: 3, testSplit: 'given rows' },
      parity: { rows: 1, maxAbsDiff: 0 },
    });
    expect(Object.keys(manifest.metrics)).toEqual(['evaluation', 'validation', 'calibration', 'thresholds', 'training', 'search', 'data', 'parity', 'timings']);
    expect(manifest.notes).toHaveLength(4);
  });

  it('assembles a multiclass manifest without positive class or threshold', async () => {
    const classes = ['bronze', 'gold', 'silver'];
    const base = await input({ classes, thresholds: undefined, model: { outputName: 'probabilities', extraFiles: [], inputShape: [4] } });
    const { manifest } = await assembleBundle(base, new Map([['model.onnx', Uint8Array.of(1)]]));
    expect(manifest).toMatchObject({ task: 'multiclass', classes, model: { outputName: 'probabilities', output: 'class-probabilities' } });
    expect(manifest.positiveClass).toBeUndefined();
    expect(manifest.threshold).toBeUndefined();
    expect(manifest.metrics.thresholds).toBeUndefined();
  });
});

/** The error `run` throws (undefined when it returns). */
function catching(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** The hand spec without the named columns. */
function handSpecWithout(...names: string[]): FeatureSpec {
  return featureSpecSchema.parse({ columns: handSpec.columns.filter((c) => !names.includes(c.name)) });
}
