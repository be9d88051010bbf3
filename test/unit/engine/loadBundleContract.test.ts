import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pkg from 'onnx-proto';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalOutputTarget } from '../../../functions/adapters/fs/localOutputTarget.js';
import { tempFileSpool } from '../../../functions/adapters/fs/tempFileSpool.js';
import { loadModel } from '../../../functions/adapters/model/modelLoader.js';
import type { BundleManifestInput } from '../../../functions/core/bundle/bundleManifest.js';
import type { BundleFiles } from '../../../functions/core/bundle/registry.js';
import { resolveEconomics } from '../../../functions/core/economics/campaignEconomics.js';
import { loadBundle, type LoadedBundle } from '../../../functions/core/engine/loadBundle.js';
import { scoreExtract } from '../../../functions/core/engine/scoreExtract.js';
import { BundleError } from '../../../functions/core/errors.js';
import { buildLogisticOnnx, buildSoftmaxOnnx } from '../../../functions/core/model/onnxFixtures.js';
import { decodeOnnxModel } from '../../../functions/core/model/onnxGraph.js';
import { parseFeatureSpec, type FittedSpec } from '../../../functions/core/spec/featureSpec.js';
import { fitSpec } from '../../../functions/core/spec/fitSpec.js';
import { binaryBundleOver, sigmoid, tinyBinaryBundle, TINY_WEIGHTS } from '../../helpers/tinyBundle.js';

const { onnx } = pkg;

const loaded: LoadedBundle[] = [];
afterEach(async () => {
  for (const b of loaded.splice(0)) await b.model.dispose();
});

async function load(files: BundleFiles): Promise<LoadedBundle> {
  const bundle = await loadBundle(files, loadModel);
  loaded.push(bundle);
  return bundle;
}

async function loadError(files: BundleFiles | Promise<BundleFiles>): Promise<BundleError> {
  const error = await loadBundle(await files, loadModel).then(
    (bundle) => {
      loaded.push(bundle);
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BundleError);
  return error as BundleError;
}

/**
 * Fitted on three rows: slots `age`, `job=admin`, `job=tech`, `job=__other__` (otherIndex 2, fillIndex 0
 * with most-frequent imputation: admin is seen twice).
 */
async function fittedWithCategory(): Promise<FittedSpec> {
  const spec = parseFeatureSpec({
    columns: [
      { name: 'id', role: 'id', type: 'categorical' },
      { name: 'age', role: 'feature', scale: 'none' },
      { name: 'job', role: 'feature', type: 'categorical', impute: { strategy: 'most-frequent' } },
      { name: 'y', role: 'target', type: 'categorical' },
    ],
  });
  return fitSpec(
    spec,
    { header: ['id', 'age', 'job', 'y'], records: [['a', '20', 'admin', 'no'], ['b', '40', 'tech', 'yes'], ['c', '60', 'admin', 'no']] },
    { now: new Date('2026-01-01T00:00:00Z') },
  );
}

/** A binary bundle over any fitted spec, its model a logistic with one zero weight per slot. */
function bundleOver(fitted: FittedSpec, overrides: Partial<BundleManifestInput> = {}, model?: Uint8Array): BundleFiles {
  const bytes = model ?? buildLogisticOnnx(new Array<number>(Math.max(1, fitted.featureNames.length)).fill(0), 0, { inputName: 'features', outputName: 'probability' });
  return binaryBundleOver(fitted, bytes, { name: 'contract', version: 'v1', ...overrides }, 'test/contract');
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('loadBundle: every index of the fitted spec is in range', () => {
  it('loads the untouched spec (the baseline for the cases below)', async () => {
    const fitted = await fittedWithCategory();
    expect(fitted.featureNames).toEqual(['age', 'job=admin', 'job=tech', 'job=__other__']);
    expect(fitted.columns.job).toMatchObject({ otherIndex: 2, fillIndex: 0 });
    const bundle = await load(bundleOver(fitted));
    expect(bundle.model.inputWidth).toBe(4);
  });

  it('refuses an otherIndex outside the vocabulary block, naming the column and the field', async () => {
    const fitted = clone(await fittedWithCategory());
    fitted.columns.job = { ...fitted.columns.job!, otherIndex: 3 } as FittedSpec['columns'][string];
    const error = await loadError(bundleOver(fitted));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe('test/contract@v1: featureSpec.columns.job.otherIndex 3 is outside the vocabulary\'s 3 slots (0…2); for an all-zero block on unseen values set "unknown": "ignore" and otherIndex -1');
    expect(error.toJSON()).toMatchObject({ bundle: 'test/contract', modelVersion: 'v1' });
  });

  it('refuses a negative fillIndex', async () => {
    const fitted = clone(await fittedWithCategory());
    fitted.columns.job = { ...fitted.columns.job!, fillIndex: -1 } as FittedSpec['columns'][string];
    const error = await loadError(bundleOver(fitted));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe('test/contract@v1: featureSpec.columns.job.fillIndex -1 is outside the vocabulary\'s 3 slots (0…2)');
  });

  it('refuses a numeric scale of 0 (the encoder divides by it)', async () => {
    const fitted = clone(await fittedWithCategory());
    fitted.columns.age = { ...fitted.columns.age!, scale: 0 } as FittedSpec['columns'][string];
    const error = await loadError(bundleOver(fitted));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe('test/contract@v1: featureSpec.columns.age.scale is 0 (the encoder divides by it)');
  });

  it('refuses a feature without fitted parameters, or with the wrong kind', async () => {
    const missing = clone(await fittedWithCategory());
    delete missing.columns.job;
    expect((await loadError(bundleOver(missing))).message).toBe('test/contract@v1: featureSpec.columns.job feature "job" has no fitted parameters');

    const wrongKind = clone(await fittedWithCategory());
    wrongKind.columns.job = { kind: 'numeric', fill: 0, clipLower: null, clipUpper: null, shift: 0, scale: 1, missingRate: 0 };
    wrongKind.featureNames = ['age', 'job'];
    const error = await loadError(bundleOver(wrongKind));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe('test/contract@v1: featureSpec.columns.job.kind is numeric, a categorical column needs categorical');
  });
});

describe('loadBundle: slots in featureNames order, widths agree', () => {
  it('refuses featureNames in another order than the encoder writes, naming the first differing slot', async () => {
    const fitted = clone(await fittedWithCategory());
    fitted.featureNames = ['age', 'job=tech', 'job=admin', 'job=__other__'];
    const error = await loadError(bundleOver(fitted));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe('test/contract@v1: featureSpec.featureNames[1] is "job=tech", the encoder writes "job=admin" there');
  });

  it('refuses featureNames with a slot more than the encoder writes', async () => {
    const fitted = clone(await fittedWithCategory());
    fitted.featureNames = [...fitted.featureNames, 'job__missing'];
    const error = await loadError(bundleOver(fitted));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe('test/contract@v1: featureSpec.featureNames[4] "job__missing" is extra: the encoder writes 4 slots, featureNames names 5');
  });

  it('refuses featureNames with a slot fewer than the encoder writes', async () => {
    const fitted = clone(await fittedWithCategory());
    fitted.featureNames = fitted.featureNames.slice(0, 3);
    const error = await loadError(bundleOver(fitted));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe('test/contract@v1: featureSpec.featureNames[3] is missing: the encoder writes 4 slots, featureNames names 3; slot 3 is "job=__other__"');
  });

  it('refuses a model whose input width differs from the encoder at load, with MODEL_SHAPE_MISMATCH', async () => {
    const fitted = await fittedWithCategory();
    const error = await loadError(bundleOver(fitted, {}, buildLogisticOnnx([0, 0, 0], 0, { inputName: 'features', outputName: 'probability' })));
    expect(error.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(error.message).toBe('test/contract@v1: input "features" has shape [batch, 3], the manifest expects [batch, 4]');
  });
});

describe('loadBundle: sequence groups consistent with the spec', () => {
  async function fittedSequence(): Promise<FittedSpec> {
    const spec = parseFeatureSpec({
      columns: [
        { name: 'tenure', role: 'feature', scale: 'none' },
        ...['spend', 'visits'].flatMap((feature) =>
          [1, 2].map((period) => ({ name: `${feature}_m${period}`, role: 'feature', scale: 'none', sequence: { group: 'monthly', feature, period } })),
        ),
      ],
    });
    const header = ['tenure', 'spend_m1', 'spend_m2', 'visits_m1', 'visits_m2'];
    return fitSpec(spec, { header, records: [['1', '1', '2', '3', '4'], ['2', '5', '6', '7', '8']] }, { now: new Date('2026-01-01T00:00:00Z') });
  }

  it('loads the fitted layout and refuses an offset that does not point at the group\'s first slot', async () => {
    const fitted = await fittedSequence();
    expect(fitted.sequences).toEqual([{ group: 'monthly', offset: 1, periods: 2, features: ['spend', 'visits'] }]);
    await load(bundleOver(fitted));

    const shifted = clone(fitted);
    shifted.sequences![0]!.offset = 2;
    const error = await loadError(bundleOver(shifted));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe('test/contract@v1: featureSpec.sequences[0].offset is 2, the group\'s first slot is 1');
  });

  it('refuses periods or features that differ from the spec, and a layout the spec has no group for', async () => {
    const fitted = await fittedSequence();
    const periods = clone(fitted);
    periods.sequences![0]!.periods = 3;
    expect((await loadError(bundleOver(periods))).message).toBe('test/contract@v1: featureSpec.sequences[0].periods is 3, the spec gives 2');

    const features = clone(fitted);
    features.sequences![0]!.features = ['visits', 'spend'];
    expect((await loadError(bundleOver(features))).message).toBe(
      'test/contract@v1: featureSpec.sequences[0].features are [visits, spend], the spec gives [spend, visits]',
    );

    const extra = clone(await fittedWithCategory());
    extra.sequences = [{ group: 'monthly', offset: 0, periods: 1, features: ['age'] }];
    expect((await loadError(bundleOver(extra))).message).toBe('test/contract@v1: featureSpec.sequences lists 1 group(s), the spec\'s columns form 0');
  });
});

/** softmax([0, z]) = [1 − σ(z), σ(z)] with z = 0.05·age + 1·member − 2: the tiny logistic, as two class columns. */
const twoClassModel = () =>
  buildSoftmaxOnnx(
    [
      [0, TINY_WEIGHTS.age],
      [0, TINY_WEIGHTS.member],
    ],
    [0, TINY_WEIGHTS.bias],
    { inputName: 'features', outputName: 'probabilities' },
  );

async function twoClassBundle(overrides: Partial<BundleManifestInput> = {}): Promise<BundleFiles> {
  const tiny = await tinyBinaryBundle();
  return bundleOver(
    tiny.manifest.featureSpec,
    { model: { file: 'model.onnx', inputName: 'features', outputName: 'probabilities', output: 'class-probabilities' }, ...overrides },
    twoClassModel(),
  );
}

describe('loadBundle: binary model output', () => {
  // Rows [age, member]: z = 0, 1, −2.
  const rows = Float32Array.from([20, 1, 60, 0, 0, 0]);

  it('scores a [N, 2] output by the positive class column: hand-computed probabilities', async () => {
    const bundle = await load(await twoClassBundle());
    expect(bundle.model.outputWidth).toBe(1);
    const p = Array.from(await bundle.model.score(rows, 3));
    [0.5, sigmoid(1), sigmoid(-2)].forEach((expected, i) => expect(p[i]).toBeCloseTo(expected, 6));
    expect(p).toHaveLength(3);
  });

  it('reads the column of the positive class where classes put it (first here)', async () => {
    const bundle = await load(await twoClassBundle({ classes: ['yes', 'no'], positiveClass: 'yes' }));
    const p = Array.from(await bundle.model.score(rows, 3));
    [0.5, 1 - sigmoid(1), 1 - sigmoid(-2)].forEach((expected, i) => expect(p[i]).toBeCloseTo(expected, 6));
  });

  it('writes scores.csv from the positive column end to end (once, it interleaved both columns)', async () => {
    const files = await twoClassBundle();
    const bundle = await load(files);
    const out = await mkdtemp(path.join(tmpdir(), 'propensity-contract-'));
    await scoreExtract({
      input: Readable.from([Buffer.from('customer_id,age,member\nc1,20,yes\nc2,60,no\nc3,0,no\n')]),
      source: 'extract.csv',
      bundle,
      economics: resolveEconomics(files.manifest.economics, undefined),
      output: new LocalOutputTarget(out),
      spool: tempFileSpool(),
      batchSize: 2,
    });
    const scores = (await readFile(path.join(out, 'scores.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
    expect(scores.map((f) => f[0])).toEqual(['c1', 'c2', 'c3']);
    [0.5, sigmoid(1), sigmoid(-2)].forEach((expected, i) => expect(Number(scores[i]![1])).toBeCloseTo(expected, 6));
    // predicted: worth contacting at EUR 10 a contact, 100 a response (p > 0.1): sigmoid(−2) ≈ 0.119 is.
    expect(scores.map((f) => f[2])).toEqual(['yes', 'yes', 'yes']);
  });

  it('refuses a binary positive-probability manifest over a [N, 2] model at load', async () => {
    const error = await loadError(twoClassBundle({ model: { file: 'model.onnx', inputName: 'features', outputName: 'probabilities', output: 'positive-probability' } }));
    expect(error.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(error.message).toBe('test/contract@v1: output "probabilities" has shape [batch, 2], the manifest expects [batch, 1]');
  });

  it('refuses a binary class-probabilities manifest over a [N, 3] model at load', async () => {
    const tiny = await tinyBinaryBundle();
    const three = buildSoftmaxOnnx([[0, 0, 0], [0, 0, 0]], [0, 0, 0], { inputName: 'features', outputName: 'probabilities' });
    const error = await loadError(
      bundleOver(tiny.manifest.featureSpec, { model: { file: 'model.onnx', inputName: 'features', outputName: 'probabilities', output: 'class-probabilities' } }, three),
    );
    expect(error.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(error.message).toBe('test/contract@v1: output "probabilities" has shape [batch, 3], the manifest expects [batch, 2]');
  });

  it('refuses a multiclass manifest whose model.output is positive-probability', async () => {
    const tiny = await tinyBinaryBundle();
    const error = await loadError(
      bundleOver(tiny.manifest.featureSpec, { task: 'multiclass', classes: ['a', 'b', 'c'], positiveClass: undefined }),
    );
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe('test/contract@v1: model.output is "positive-probability", a multiclass model must give class-probabilities');
  });
});

/** Re-encodes a fixture with the last dimension of its input or output made symbolic. */
function withSymbolicWidth(bytes: Uint8Array, which: 'input' | 'output'): Uint8Array {
  const model = decodeOnnxModel(bytes);
  const value = which === 'input' ? model.graph!.input![0]! : model.graph!.output![0]!;
  value.type!.tensorType!.shape!.dim![1] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'width' });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The two-class model with its input width symbolic and its output reshaped to the input's shape at
 * run time, so onnxruntime cannot tell the output width before it runs.
 */
function outputShapedLikeInput(): Uint8Array {
  const model = decodeOnnxModel(withSymbolicWidth(twoClassModel(), 'input'));
  const graph = model.graph!;
  const softmax = graph.node!.find((n) => n.opType === 'Softmax')!;
  softmax.output = ['softmax_out'];
  graph.node!.push(onnx.NodeProto.create({ name: 'shape_of_input', opType: 'Shape', input: ['features'], output: ['input_shape'] }));
  graph.node!.push(onnx.NodeProto.create({ name: 'reshape', opType: 'Reshape', input: ['softmax_out', 'input_shape'], output: ['probabilities'] }));
  graph.output![0]!.type!.tensorType!.shape!.dim![1] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'width' });
  return onnx.ModelProto.encode(model).finish();
}

describe('loadBundle: widths the ONNX graph leaves symbolic are checked at load', () => {
  it('accepts a one-probability-per-row output declared [batch] (rank 1)', async () => {
    const model = decodeOnnxModel(buildLogisticOnnx([TINY_WEIGHTS.age, TINY_WEIGHTS.member], TINY_WEIGHTS.bias, { inputName: 'features', outputName: 'z' }));
    // Flatten the [batch, 1] probability to [batch].
    const shape = onnx.TensorProto.create({ name: 'flat', dataType: onnx.TensorProto.DataType.INT64, dims: [1], int64Data: [-1] });
    model.graph!.initializer!.push(shape);
    model.graph!.node!.push(onnx.NodeProto.create({ name: 'flatten', opType: 'Reshape', input: ['z', 'flat'], output: ['probability'] }));
    model.graph!.output![0] = onnx.ValueInfoProto.create({
      name: 'probability',
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }] } } },
    });
    const tiny = await tinyBinaryBundle();
    const bundle = await load(bundleOver(tiny.manifest.featureSpec, {}, onnx.ModelProto.encode(model).finish()));
    const p = Array.from(await bundle.model.score(Float32Array.from([20, 1, 60, 0]), 2));
    [0.5, sigmoid(1)].forEach((expected, i) => expect(p[i]).toBeCloseTo(expected, 6));
  });

  it('refuses a symbolic output width that gives 2 values per row where the manifest says 1', async () => {
    const tiny = await tinyBinaryBundle();
    const error = await loadError(
      bundleOver(
        tiny.manifest.featureSpec,
        { model: { file: 'model.onnx', inputName: 'features', outputName: 'probabilities', output: 'positive-probability' } },
        outputShapedLikeInput(),
      ),
    );
    expect(error.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(error.message).toBe('test/contract@v1: output "probabilities" has shape [1, 2] for 1 rows, expected [1, 1]');
  });

  it('refuses a symbolic input width the graph cannot take, with the runtime\'s reason as the cause', async () => {
    const tiny = await tinyBinaryBundle();
    const error = await loadError(
      bundleOver(tiny.manifest.featureSpec, {}, withSymbolicWidth(buildLogisticOnnx([1, 1, 1], 0, { inputName: 'features', outputName: 'probability' }), 'input')),
    );
    expect(error.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(error.message).toMatch(/^test\/contract@v1: the model cannot score one row of 2 features: /);
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe('loadBundle: modelOnFirstUse (a run on worker threads leaves the model to them)', () => {
  /** The real loader, counting its calls. */
  function countingLoader(): { loader: typeof loadModel; calls: () => number } {
    let calls = 0;
    return {
      loader: (request, context) => {
        calls++;
        return loadModel(request, context);
      },
      calls: () => calls,
    };
  }

  it('loads nothing until the first score, then scores as an eager load does (rows z = 0, 1, −2), loading once', async () => {
    const counting = countingLoader();
    const bundle = await loadBundle(await twoClassBundle(), counting.loader, { modelOnFirstUse: true });
    loaded.push(bundle);
    expect(counting.calls()).toBe(0);
    expect([bundle.model.inputWidth, bundle.model.outputWidth]).toEqual([2, 1]);
    const rows = Float32Array.from([20, 1, 60, 0, 0, 0]);
    const p = Array.from(await bundle.model.score(rows, 3));
    [0.5, sigmoid(1), sigmoid(-2)].forEach((expected, i) => expect(p[i]).toBeCloseTo(expected, 6));
    await bundle.model.score(rows, 3);
    expect(counting.calls()).toBe(1);
  });

  it('disposes of a model never used without loading it', async () => {
    const counting = countingLoader();
    const bundle = await loadBundle(await twoClassBundle(), counting.loader, { modelOnFirstUse: true });
    await bundle.model.dispose();
    expect(counting.calls()).toBe(0);
  });

  it('still checks the bundle files now, and the model contract at its first score (MODEL_SHAPE_MISMATCH there)', async () => {
    const fitted = await fittedWithCategory();
    const bundle = await loadBundle(bundleOver(fitted, {}, buildLogisticOnnx([0, 0, 0], 0, { inputName: 'features', outputName: 'probability' })), loadModel, { modelOnFirstUse: true });
    loaded.push(bundle);
    const error = await bundle.model.score(new Float32Array(4), 1).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as BundleError).code).toBe('MODEL_SHAPE_MISMATCH');
    const broken = clone(fitted);
    broken.featureNames = broken.featureNames.slice(0, 3);
    await expect(loadBundle(bundleOver(broken), loadModel, { modelOnFirstUse: true })).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
  });
});
