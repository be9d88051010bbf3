import { createHash } from 'node:crypto';
import { dataset } from '../../helpers/datasets.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleDir, writeBundleDir } from '../../../functions/adapters/fs/bundleDir.js';
import { parseDriftBaseline } from '../../../functions/core/drift/driftBaseline.js';
import { SpecError, TrainingError } from '../../../functions/core/errors.js';
import { applyCalibration, calibrationSchema } from '../../../functions/core/model/calibration.js';
import { loadOnnxModel } from '../../../functions/adapters/model/onnxModel.js';
import { readTfjsModelFromMemory } from '../../../functions/adapters/model/tfjsModel.js';
import { compileEncoder } from '../../../functions/core/spec/rowEncoder.js';
import { cardOfferSpec, generateCardOfferTable } from '../../../functions/core/training/syntheticCardOffer.js';
import { train, type TrainResult } from '../../../functions/core/training/train.js';
import { initTrainingTf } from '../../../functions/adapters/model/tfjsTrainingRuntime.js';
import type { TrainingTable } from '../../../functions/core/training/trainingTable.js';
import { syntheticSpec, syntheticTable } from './trainingFixtures.js';
import { localExtract } from '../../../functions/adapters/fs/localExtract.js';
import { LocalOutputTarget } from '../../../functions/adapters/fs/localOutputTarget.js';
import { tempFileSpool } from '../../../functions/adapters/fs/tempFileSpool.js';
import { loadModel } from '../../../functions/adapters/model/modelLoader.js';
import { resolveEconomics } from '../../../functions/core/economics/campaignEconomics.js';
import { loadBundle } from '../../../functions/core/engine/loadBundle.js';
import { scoreExtract } from '../../../functions/core/engine/scoreExtract.js';
import { compilePredictor } from '../../../functions/core/predict/customerPredictor.js';
import { describeBundle } from '../../../functions/cli/commands/inspect.js';
import { tfjsTrainingRuntime } from '../../../functions/adapters/model/tfjsTrainingRuntime.js';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Scores rows of `table` with the bundle's ONNX file (onnxruntime-node) and with its tfjs files
 * (plus the calibration the ONNX graph appends, if any) and returns the largest difference.
 */
async function onnxVersusTfjs(result: TrainResult, table: TrainingTable, rows: number): Promise<{ maxAbsDiff: number; compared: number }> {
  const { manifest, files } = result.bundle;
  const encoder = compileEncoder(manifest.featureSpec, table.header, table.source);
  const x = new Float32Array(rows * encoder.width);
  let n = 0;
  for (const record of table.records) {
    if (n === rows) break;
    if (!encoder.encode(record, x, n * encoder.width)) n++;
  }
  const outputWidth = manifest.task === 'binary' ? 1 : manifest.classes.length;
  const sequence = manifest.featureSpec.sequences?.[0];
  const onnx = await loadOnnxModel(
    files.get(manifest.model.file)!,
    {
      inputName: manifest.model.inputName,
      outputName: manifest.model.outputName,
      inputWidth: encoder.width,
      outputWidth,
      ...(sequence ? { sequence: { periods: sequence.periods, features: sequence.features.length } } : {}),
    },
    { bundle: manifest.name, version: manifest.version },
  );
  const fromOnnx = await onnx.score(x, n);
  await onnx.dispose();

  const tf = await initTrainingTf();
  const model = await readTfjsModelFromMemory(files, 'tfjs/model.json');
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  const out = model.predict(tf.tensor(x.subarray(0, n * encoder.width), [n, ...inputShape]), { batchSize: 4096 }) as import('@tensorflow/tfjs').Tensor;
  let fromTfjs = (await out.data()) as Float32Array;
  out.dispose();
  model.dispose();
  const calibration = (manifest.metrics.calibration as { appliedIn: string; parameters?: unknown }) ?? {};
  if (calibration.appliedIn === 'onnx-graph') fromTfjs = applyCalibration(fromTfjs, calibrationSchema.parse(calibration.parameters), outputWidth);

  let maxAbsDiff = 0;
  for (let i = 0; i < n * outputWidth; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(fromOnnx[i]! - fromTfjs[i]!));
  return { maxAbsDiff, compared: n };
}

describe('train: binary MLP on a synthetic table', () => {
  const table = syntheticTable(1500, 1);
  let first: TrainResult;
  let second: TrainResult;
  let out: string;

  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'propensity-train-'));
    first = await train({ runtime: tfjsTrainingRuntime, data: table, spec: syntheticSpec(), now: new Date('2026-01-02T03:04:05Z') });
    await writeBundleDir(path.join(out, 'bundle'), first.bundle);
    second = await train({ runtime: tfjsTrainingRuntime, data: table, spec: syntheticSpec(), now: new Date('2026-01-02T03:04:05Z') });
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('learns the signal, calibrates, and evaluates on the held-out 20 %', () => {
    const e = first.evaluation;
    expect(e.task).toBe('binary');
    expect(e.classes).toEqual(['no', 'yes']);
    expect(e.rows).toBe(300);
    expect(e.rocAuc).toBeGreaterThan(0.75);
    expect(e.lift).toHaveLength(10);
    expect(e.thresholds!.map((t) => t.name)).toEqual(['max-expected-profit', 'max-f1', 'p ≥ 0.5']);
    expect(e.featureImportance!.map((f) => f.feature).sort()).toEqual(['plan', 'x1', 'x2']);
    // x1 carries the strongest signal (coefficient 2).
    expect(e.featureImportance![0]!.feature).toBe('x1');
  });

  it('is deterministic: the same seed gives the same metrics, history and model bytes', () => {
    expect(second.evaluation).toEqual(first.evaluation);
    expect(second.history).toEqual(first.history);
    expect(sha(second.bundle.files.get('model.onnx')!)).toBe(sha(first.bundle.files.get('model.onnx')!));
    expect(second.bundle.manifest.version).toBe(first.bundle.manifest.version);
  });

  it('a different seed trains a different model', async () => {
    const other = await train({ runtime: tfjsTrainingRuntime, data: table, spec: syntheticSpec(), seed: 6, now: new Date('2026-01-02T03:04:05Z') });
    expect(sha(other.bundle.files.get('model.onnx')!)).not.toBe(sha(first.bundle.files.get('model.onnx')!));
  });

  it('ONNX and tfjs agree within 1e-5 on held-out rows', async () => {
    const { maxAbsDiff, compared } = await onnxVersusTfjs(first, syntheticTable(400, 99), 400);
    expect(compared).toBe(400);
    expect(maxAbsDiff).toBeLessThan(1e-5);
    expect(first.parity.maxAbsDiff).toBeLessThan(1e-5);
  });

  it('writes a bundle that reads back with verified hashes, a profit threshold and a drift baseline', async () => {
    const bundle = await readBundleDir(path.join(out, 'bundle'));
    const m = bundle.manifest;
    expect(m.name).toBe('synthetic');
    expect(m.version).toMatch(/^2026-01-02T0304-[0-9a-f]{6}$/);
    expect(m.format).toBe('onnx');
    expect(m.model).toMatchObject({ file: 'model.onnx', inputName: 'features', outputName: 'probability', output: 'positive-probability' });
    expect(m.model.extraFiles.sort()).toEqual(['tfjs/model.json', 'tfjs/weights.bin']);
    expect(m.positiveClass).toBe('yes');
    expect(m.threshold).toBe(first.thresholds!.maxExpectedProfit.threshold);
    expect((m.metrics.evaluation as { rocAuc: number }).rocAuc).toBe(first.evaluation.rocAuc);
    const baseline = parseDriftBaseline(m.baseline);
    expect(baseline.features.map((f) => f.name)).toEqual(['x1', 'x2', 'plan']);
    // The score reference: the shipped model on the 300 test rows it never learned from.
    expect(baseline.score?.rows).toBe(300);
    const positive = Array.from({ length: first.test.rows }, (_, r) => first.test.probabilities[r]!);
    expect(baseline.score?.mean).toBeCloseTo(positive.reduce((a, b) => a + b, 0) / positive.length, 6);
    // The default for an mlp: 5 folds, every one of the 1200 non-test rows trains the shipped model.
    expect(m.metrics.data).toMatchObject({ fitRows: 1200, folds: 5, testRows: 300 });
    expect(first.validation.rows).toBe(1200);
    expect(Object.keys(baseline.featureImportance).sort()).toEqual(['plan', 'x1', 'x2']);
  });
});

describe('train: multiclass, ensembles, sequences', () => {
  it('trains a softmax model with temperature scaling folded into its output layer', async () => {
    const table = syntheticTable(1500, 2, 'multiclass');
    const result = await train({ runtime: tfjsTrainingRuntime, data: table, spec: syntheticSpec({ actions: { gold: 'upsell' } }) });
    expect(result.evaluation.task).toBe('multiclass');
    expect(result.evaluation.classes).toEqual(['bronze', 'gold', 'silver']);
    expect(result.evaluation.rocAucPerClass).toHaveLength(3);
    expect(result.calibration.method).toBe('temperature');
    expect(result.bundle.manifest.metrics.calibration).toMatchObject({ method: 'temperature', appliedIn: 'output-layer' });
    expect(result.bundle.manifest.model.output).toBe('class-probabilities');
    expect(result.bundle.manifest.actions).toEqual({ gold: 'upsell' });
    expect(result.bundle.manifest.threshold).toBeUndefined();
    const { maxAbsDiff } = await onnxVersusTfjs(result, syntheticTable(300, 98, 'multiclass'), 300);
    expect(maxAbsDiff).toBeLessThan(1e-5);
  });

  it('merges a seed ensemble into one exportable model and keeps isotonic calibration as an ONNX step', async () => {
    const table = syntheticTable(1500, 3);
    const spec = syntheticSpec();
    const result = await train({ runtime: tfjsTrainingRuntime, data: table, spec: { ...spec, training: { ...spec.training, folds: 1, ensemble: 3, calibration: 'isotonic', refit: false } } });
    expect(result.search.members).toHaveLength(2);
    type ModelJson = { modelTopology: { config: { layers: { class_name: string; config: { units?: number } }[] } } };
    const modelJson = JSON.parse(new TextDecoder().decode(result.bundle.files.get('tfjs/model.json'))) as ModelJson;
    const dense = modelJson.modelTopology.config.layers.filter((l) => l.class_name === 'Dense').map((l) => l.config.units);
    expect(dense).toEqual([24, 12, 1]);
    expect(result.bundle.manifest.metrics.calibration).toMatchObject({ method: 'isotonic', appliedIn: 'onnx-graph' });
    const { maxAbsDiff } = await onnxVersusTfjs(result, syntheticTable(300, 97), 300);
    expect(maxAbsDiff).toBeLessThan(1e-5);
  });

  it('seed ensembles keep to the merged-weight budget as fold ensembles do: wide layers refit and merge only the seeds that fit', async () => {
    const table = syntheticTable(800, 5);
    const spec = syntheticSpec();
    // 256-128 members: 2 merged need about 140k weights, 3 would need over 300k (budget 200k).
    const wide = { ...spec, model: { ...spec.model, layers: [256, 128] } };
    const settings = { ...spec.training, folds: 1, ensemble: 3, epochs: 3, importanceRepeats: 0 };
    type ModelJson = { modelTopology: { config: { layers: { class_name: string; config: { units?: number } }[] } } };
    const denseUnits = (files: ReadonlyMap<string, Uint8Array>) =>
      (JSON.parse(new TextDecoder().decode(files.get('tfjs/model.json'))) as ModelJson).modelTopology.config.layers.filter((l) => l.class_name === 'Dense').map((l) => l.config.units);
    const refit = await train({ runtime: tfjsTrainingRuntime, data: table, spec: { ...wide, training: settings } });
    expect(refit.bundle.manifest.metrics.training).toMatchObject({ refit: { members: 2 } });
    expect(denseUnits(refit.bundle.files)).toEqual([512, 256, 1]);
    const seeds = await train({ runtime: tfjsTrainingRuntime, data: table, spec: { ...wide, training: { ...settings, refit: false } } });
    expect(seeds.search.members).toHaveLength(1);
    expect(denseUnits(seeds.bundle.files)).toEqual([512, 256, 1]);
    for (const bytes of [...refit.bundle.files.values(), ...seeds.bundle.files.values()]) expect(bytes.length).toBeLessThan(1_000_000);
  });

  it('with folds: 1, refits the chosen configuration on train and validation for its best epoch count, calibrated on the search model', async () => {
    const table = syntheticTable(1500, 3);
    const spec = syntheticSpec();
    const settings = { ...spec.training, folds: 1, ensemble: 2, calibration: 'platt' as const, importanceRepeats: 0 };
    const early = await train({ runtime: tfjsTrainingRuntime, data: table, spec: { ...spec, training: { ...settings, ensemble: 1, refit: false } } });
    const refit = await train({ runtime: tfjsTrainingRuntime, data: table, spec: { ...spec, training: settings } });
    const m = refit.bundle.manifest;
    // 1500 rows: 300 test, 1200 fit = 960 train + 240 validation; the refit learns from all 1200.
    expect(m.metrics.data).toMatchObject({ trainRows: 960, validationRows: 240, testRows: 300 });
    const { bestEpoch } = m.metrics.training as { bestEpoch: number };
    expect(bestEpoch).toBeGreaterThan(0);
    expect(m.metrics.training).toMatchObject({ refit: { rows: 1200, epochs: bestEpoch, members: 2 } });
    expect((early.bundle.manifest.metrics.training as Record<string, unknown>).refit).toBeUndefined();
    expect(m.notes.join(' ')).toContain('then refitted on all 1200 of them');
    // The search (and so the validation predictions calibration is fitted on) is the same run either way:
    // the refit's members are trained after it, not by it.
    expect(refit.history).toEqual(early.history);
    expect(refit.calibration).toEqual(early.calibration);
    expect(refit.search.members).toEqual([]);
    // Two refitted seeds merged: the dense layers are twice as wide.
    type ModelJson = { modelTopology: { config: { layers: { class_name: string; config: { units?: number } }[] } } };
    const modelJson = JSON.parse(new TextDecoder().decode(refit.bundle.files.get('tfjs/model.json'))) as ModelJson;
    expect(modelJson.modelTopology.config.layers.filter((l) => l.class_name === 'Dense').map((l) => l.config.units)).toEqual([16, 8, 1]);
    // A different model from the early-stopped one, as good on the held-out rows, and exportable.
    expect(Array.from(refit.test.uncalibratedProbabilities)).not.toEqual(Array.from(early.test.uncalibratedProbabilities));
    expect(refit.evaluation.rocAuc).toBeGreaterThan(early.evaluation.rocAuc - 0.02);
    const { maxAbsDiff } = await onnxVersusTfjs(refit, syntheticTable(300, 97), 300);
    expect(maxAbsDiff).toBeLessThan(1e-5);
  });

  it('ships a cross-validated ensemble: ⌈ensemble / folds⌉ members per fold, merged; calibrated on every fit row out of fold', async () => {
    const table = syntheticTable(1000, 4);
    const spec = syntheticSpec();
    const result = await train({ runtime: tfjsTrainingRuntime, data: table, spec: { ...spec, training: { ...spec.training, folds: 3, ensemble: 5, importanceRepeats: 0 } } });
    const m = result.bundle.manifest;
    // 1000 rows: 200 held out for the test, the other 800 all train the shipped model.
    expect(m.metrics.data).toMatchObject({ fitRows: 800, folds: 3, testRows: 200, testSplit: 'stratified 0.2' });
    expect(result.evaluation.rows).toBe(200);
    // Calibration and thresholds use all 800 out-of-fold predictions; the drift baseline's scores are
    // the merged model's own, on the 200 test rows (the fold members' scores are spread differently).
    expect(result.validation.rows).toBe(800);
    expect((m.metrics.validation as { rows: number }).rows).toBe(800);
    expect(parseDriftBaseline(m.baseline).score?.rows).toBe(200);
    type Member = { fold: number; seed: number; trainRows: number; heldOutRows: number };
    const members = (m.metrics.training as { crossValidation: { folds: number; members: Member[] } }).crossValidation.members;
    expect(members.map((x) => [x.fold, x.seed])).toEqual([[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]);
    for (const member of members) expect(member.trainRows + member.heldOutRows).toBe(800);
    expect(new Set(members.map((x) => x.heldOutRows)).size).toBeLessThanOrEqual(2);
    type ModelJson = { modelTopology: { config: { layers: { class_name: string; config: { units?: number } }[] } } };
    const modelJson = JSON.parse(new TextDecoder().decode(result.bundle.files.get('tfjs/model.json'))) as ModelJson;
    expect(modelJson.modelTopology.config.layers.filter((l) => l.class_name === 'Dense').map((l) => l.config.units)).toEqual([48, 24, 1]);
    expect(m.notes.join(' ')).toContain('A cross-validated ensemble of 6 members merged into one model, trained on all 800 rows');
    expect(result.evaluation.rocAuc).toBeGreaterThan(0.75);
    const { maxAbsDiff } = await onnxVersusTfjs(result, syntheticTable(300, 96), 300);
    expect(maxAbsDiff).toBeLessThan(1e-5);
  });

  it('ships fewer members when all of them would make the merged model too big, one per fold first', async () => {
    const spec = syntheticSpec({ model: { kind: 'mlp', layers: [160, 160], dropout: 0 } });
    const result = await train({ runtime: tfjsTrainingRuntime, data: syntheticTable(600, 5), spec: { ...spec, training: { ...spec.training, epochs: 2, folds: 3, importanceRepeats: 0 } } });
    // 3 members: 480 × 480 block-diagonal weights in the second layer (230 400) > 200 000; 2 members: 320 × 320 fit.
    const cv = (result.bundle.manifest.metrics.training as { crossValidation: { shippedMembers: number; members: { fold: number; shipped: boolean }[] } }).crossValidation;
    expect(cv.shippedMembers).toBe(2);
    expect(cv.members.map((x) => [x.fold, x.shipped])).toEqual([[0, true], [1, true], [2, false]]);
    type ModelJson = { modelTopology: { config: { layers: { class_name: string; config: { units?: number } }[] } } };
    const modelJson = JSON.parse(new TextDecoder().decode(result.bundle.files.get('tfjs/model.json'))) as ModelJson;
    expect(modelJson.modelTopology.config.layers.filter((l) => l.class_name === 'Dense').map((l) => l.config.units)).toEqual([320, 320, 1]);
    expect(result.bundle.manifest.notes.join(' ')).toContain("A cross-validated ensemble of 2 of its 3 members (the bundle's size budget) merged into one model");
  });

  it('a search is counted in epochs: without a time budget every rung runs; a budget that runs out cuts the halving after its rung', async () => {
    const table = syntheticTable(600, 4);
    const spec = syntheticSpec();
    const search = { trials: 4, eta: 2, minEpochs: 1, space: { dropout: [0, 0.2], learningRate: [0.001, 0.003] } };
    const run = (budget: { timeBudgetSeconds?: number }) =>
      train({ runtime: tfjsTrainingRuntime, data: table, spec: { ...spec, search: { ...search, ...budget } }, overrides: { training: { epochs: 4, importanceRepeats: 0 } } });
    const unbounded = await run({});
    expect(unbounded.search.timedOut).toBe(false);
    // 4 trials at 1 epoch, the best 2 at 2 epochs, then the winner trains on.
    expect(unbounded.search.trials.map((t) => t.rung).sort()).toEqual([0, 0, 1, 1]);
    const cut = await run({ timeBudgetSeconds: 1e-6 });
    expect(cut.search.timedOut).toBe(true);
    expect(cut.search.trials.map((t) => t.rung)).toEqual([0, 0, 0, 0]);
  });

  it('trains the Conv1D sequence model on monthly histories, with a search, and exports it', async () => {
    const table = generateCardOfferTable({ customers: 1500, seed: 11 });
    const spec = cardOfferSpec();
    const result = await train({
      runtime: tfjsTrainingRuntime,
      data: table,
      spec,
      overrides: { training: { epochs: 4, importanceRepeats: 0 }, search: { trials: 2, minEpochs: 1 } },
    });
    expect(result.bundle.manifest.metrics.training).toMatchObject({ inputShape: [10, 24], architecture: { kind: 'sequence' } });
    expect(result.search.strategy).toBe('successive-halving');
    expect(result.search.trials).toHaveLength(2);
    expect(result.evaluation.rocAuc).toBeGreaterThan(0.6);
    const { maxAbsDiff } = await onnxVersusTfjs(result, generateCardOfferTable({ customers: 300, seed: 12 }), 300);
    expect(maxAbsDiff).toBeLessThan(1e-5);
  });
});

describe('train: a real dataset', () => {
  it('trains audiobooks (no header, last column the target) in a few epochs to a useful model', async () => {
    const spec = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../../model-store/audiobooks/spec.json'), 'utf8')) as unknown;
    const data = localExtract(dataset('audiobooks/Audiobooks_data.csv'));
    const result = await train({ runtime: tfjsTrainingRuntime, data, spec, overrides: { search: false, training: { epochs: 3, importanceRepeats: 0 } } });
    expect(result.evaluation.rows).toBe(Math.round(2237 * 0.2) + Math.round(11847 * 0.2));
    expect(result.evaluation.rocAuc).toBeGreaterThan(0.85);
    expect(result.evaluation.expectedCalibrationError).toBeLessThan(0.05);
    expect(result.bundle.manifest.classes).toEqual(['0', '1']);
    expect((result.bundle.manifest.metrics.data as { rows: number }).rows).toBe(14084);
  });
});

describe('train: errors', () => {
  const table = syntheticTable(200, 4);

  it('refuses a spec without a target column', async () => {
    const spec = syntheticSpec();
    const columns = spec.featureSpec.columns.filter((c) => c.role !== 'target');
    const error = await train({ runtime: tfjsTrainingRuntime, data: table, spec: { ...spec, featureSpec: { columns } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect(error).toMatchObject({ code: 'TRAINING_FAILED', isInputError: true, message: 'the feature spec has no target column (role "target"): there is nothing to learn' });
  });

  it('refuses a target with a single class, naming the column and the file', async () => {
    const oneClass = { ...table, records: table.records.map((r) => [...r.slice(0, 4), 'yes']) };
    const error = await train({ runtime: tfjsTrainingRuntime, data: oneClass, spec: syntheticSpec() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRAINING_FAILED', message: 'target "label" has 1 class(es) in synthetic-binary.csv; training needs two or more' });
  });

  it('refuses a sequence model on features that are not one sequence group', async () => {
    const error = await train({ runtime: tfjsTrainingRuntime, data: table, spec: syntheticSpec({ model: { kind: 'sequence' } }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect((error as Error).message).toBe(
      'a sequence model needs every feature in one sequence group (found 0 group(s) covering 0 of 7 slots); use an mlp for static features',
    );
  });

  it('refuses an ensemble of sequence models before reading any data', async () => {
    const spec = cardOfferSpec();
    const error = await train({ runtime: tfjsTrainingRuntime, data: localExtract('/nonexistent.csv'), spec: { ...spec, training: { ...spec.training, ensemble: 2 } } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRAINING_FAILED', message: 'an ensemble (training.ensemble > 1) is only supported for mlp models' });
  });

  it('reports an invalid spec as SPEC_INVALID with its source', async () => {
    const error = await train({ runtime: tfjsTrainingRuntime, data: table, spec: { name: 'Bad Name', featureSpec: syntheticSpec().featureSpec }, specSource: 'spec.json' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect(error).toMatchObject({ code: 'SPEC_INVALID', source: 'spec.json', path: 'name' });
  });
});

describe('train: a feature cross', () => {
  // The synthetic table plus a `region` column (n, s, e, w by row), crossed with `plan`.
  const withRegion = (table: TrainingTable): TrainingTable => ({
    source: table.source,
    header: [...table.header!, 'region'],
    records: (table.records as string[][]).map((record, i) => [...record, ['n', 's', 'e', 'w'][i % 4]!]),
  });
  const spec = () => {
    const base = syntheticSpec();
    const columns = [...base.featureSpec.columns, { name: 'region', role: 'feature' as const, type: 'categorical' as const }];
    return { ...base, featureSpec: { columns, crosses: [{ columns: ['plan', 'region'], minCategoryCount: 20 }] } };
  };
  let result: TrainResult;
  beforeAll(async () => {
    result = await train({ runtime: tfjsTrainingRuntime, data: withRegion(syntheticTable(800, 7)), spec: spec(), now: new Date('2026-01-02T03:04:05Z') });
  });

  it('fits the cross into the bundle’s spec: 12 combinations + other after the columns, its own importance group', () => {
    const fitted = result.bundle.manifest.featureSpec;
    // 3 plans × 4 regions, each seen ~50 times in the fit rows.
    expect(fitted.crosses![0]!.combinations).toHaveLength(12);
    expect(fitted.featureNames.slice(-13, -11)).toEqual(['plan×region=basic|e', 'plan×region=basic|n']);
    expect(fitted.featureNames.at(-1)).toBe('plan×region=__other__');
    expect(result.evaluation.featureImportance!.map((f) => f.feature).sort()).toEqual(['plan', 'plan×region', 'region', 'x1', 'x2']);
  });

  it('ONNX and tfjs agree within 1e-5, and the real engine scores an extract as the ONNX model scores its encoded rows', async () => {
    const table = withRegion(syntheticTable(200, 98));
    const { maxAbsDiff, compared } = await onnxVersusTfjs(result, table, 200);
    expect(compared).toBe(200);
    expect(maxAbsDiff).toBeLessThan(1e-5);

    // Through the bundle as stored: written to a folder and read back with its hashes checked.
    const out = await mkdtemp(path.join(tmpdir(), 'propensity-cross-'));
    await writeBundleDir(path.join(out, 'bundle'), result.bundle);
    const files = await readBundleDir(path.join(out, 'bundle'));
    const bundle = await loadBundle(files, loadModel);
    const { manifest } = files;
    // `propensity inspect` lists the cross with its slots (12 combinations + other).
    expect(describeBundle(files).split('\n')).toContain('  crosses (1): plan×region (13)');
    const records = table.records as string[][];
    const text = [table.header!.join(','), ...records.map((r) => r.join(','))].join('\n');
    try {
      await scoreExtract({ input: Readable.from([Buffer.from(text)]), source: 'extract.csv', bundle, economics: resolveEconomics(manifest.economics, undefined), output: new LocalOutputTarget(path.join(out, 'run')), spool: tempFileSpool(), batchSize: 64 });
      const scored = (await readFile(path.join(out, 'run', 'scores.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
      const encoder = compileEncoder(manifest.featureSpec, table.header, 'extract.csv');
      const x = new Float32Array(records.length * encoder.width);
      records.forEach((r, i) => expect(encoder.encode(r, x, i * encoder.width)).toBeNull());
      // Each row's cross block holds one 1, at its plan|region slot (every combination is kept here).
      const block = manifest.featureSpec.featureNames.length - 13;
      records.forEach((r, i) => {
        const slots = [...x.subarray(i * encoder.width + block, (i + 1) * encoder.width)];
        expect(manifest.featureSpec.featureNames[block + slots.indexOf(1)]).toBe(`plan×region=${r[3]}|${r[5]}`);
        expect(slots.reduce((a, b) => a + b, 0)).toBe(1);
      });
      const expected = await bundle.model.score(x, records.length);
      expect(scored.map((f) => f[0])).toEqual(records.map((r) => r[0]));
      scored.forEach((f, i) => expect(Number(f[1])).toBeCloseTo(expected[i]!, 5));
      // Online predict: the same encoder, so the same probability; reasons name groups, the cross's among them.
      const [record] = records;
      const customer = Object.fromEntries(table.header!.map((name, k) => [name, record![k]!]));
      const { customers } = await compilePredictor(bundle).predict({ customers: [customer], explain: true });
      expect(customers[0]).toMatchObject({ id: record![0] });
      expect((customers[0] as { probability: number }).probability).toBeCloseTo(expected[0]!, 6);
      for (const reason of customers[0]!.reasons!) expect(['x1', 'x2', 'plan', 'region', 'plan×region']).toContain(reason.feature);
    } finally {
      await bundle.model.dispose();
      await rm(out, { recursive: true, force: true });
    }
  });
});
