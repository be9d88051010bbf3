import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { BATCH_DIM, OnnxGraphBuilder } from '../../functions/core/model/onnxGraph.js';

const { onnx } = pkg;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

/**
 * ONNX fixtures for `propensity import`, built here with onnx-proto (no binary fixture is fetched),
 * with hand-set weights so a test computes every probability in plain JS.
 *
 * The pipeline is what skl2onnx writes for
 * `Pipeline([ColumnTransformer([(SimpleImputer → StandardScaler) on age, income; OneHotEncoder(handle_unknown='ignore') on channel]), LogisticRegression])`:
 * one `[N, 1]` input per raw column (`channel` a string tensor), ai.onnx.ml Imputer, Scaler and
 * OneHotEncoder inside, and the outputs `label` and `probabilities` `[N, 2]` (or a ZipMap after them).
 */
export const PIPELINE = {
  /** SimpleImputer(strategy='median').statistics_ */
  medians: [41, 52_000],
  /** StandardScaler.mean_ and .scale_ (fitted after the imputer). */
  means: [40.5, 50_500],
  scales: [12.25, 18_000],
  /** OneHotEncoder.categories_[0]; an unseen channel gives an all-zero block. */
  channels: ['email', 'sms', 'web'],
  /** LogisticRegression coef_ (age, income, email, sms, web) and intercept_. */
  weights: [0.8, -0.6, 0.3, -0.9, 0.45],
  bias: -0.25,
} as const;

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * P(class 1) of the pipeline for one raw row, in plain JS: median imputation of a missing number,
 * scaling after it, one-hot of the channel (all zeros when unseen or missing), logistic regression.
 */
export function pipelineProbability(age: number | null, income: number | null, channel: string): number {
  const raw = [age, income];
  let z: number = PIPELINE.bias;
  for (let i = 0; i < 2; i++) {
    const value = raw[i] ?? PIPELINE.medians[i]!;
    z += PIPELINE.weights[i]! * ((value - PIPELINE.means[i]!) / PIPELINE.scales[i]!);
  }
  PIPELINE.channels.forEach((c, k) => {
    if (c === channel) z += PIPELINE.weights[2 + k]!;
  });
  return sigmoid(z);
}

function tensorInfo(name: string, elemType: number, dims: readonly (number | 'batch')[]): OnnxTypes.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (d === 'batch' ? { dimParam: 'N' } : { dimValue: d })) } } } };
}

function floats(name: string, values: readonly number[], dims: readonly number[]): OnnxTypes.ITensorProto {
  return { name, dataType: T.FLOAT, dims: [...dims], floatData: [...values] };
}

const encode = (text: string) => new TextEncoder().encode(text);

/** The skl2onnx-style pipeline; `zipMap` ends it with a ZipMap (`output_probability`, a sequence of maps) as skl2onnx does by default. */
export function buildPipelineOnnx(options: { zipMap?: boolean } = {}): Uint8Array {
  const node = (opType: string, input: string[], output: string[], attribute: OnnxTypes.IAttributeProto[] = [], domain = ''): OnnxTypes.INodeProto => ({
    name: `${opType}_${output[0]}`, opType, input, output, attribute, domain,
  });
  const nodes: OnnxTypes.INodeProto[] = [
    node('Concat', ['age', 'income'], ['numbers'], [{ name: 'axis', type: A.INT, i: 1 }]),
    node('Imputer', ['numbers'], ['imputed'], [
      { name: 'imputed_value_floats', type: A.FLOATS, floats: [...PIPELINE.medians] },
      { name: 'replaced_value_float', type: A.FLOAT, f: Number.NaN },
    ], 'ai.onnx.ml'),
    node('Scaler', ['imputed'], ['scaled'], [
      { name: 'offset', type: A.FLOATS, floats: [...PIPELINE.means] },
      { name: 'scale', type: A.FLOATS, floats: PIPELINE.scales.map((s) => 1 / s) },
    ], 'ai.onnx.ml'),
    node('OneHotEncoder', ['channel'], ['channel_onehot3d'], [
      { name: 'cats_strings', type: A.STRINGS, strings: PIPELINE.channels.map(encode) },
      { name: 'zeros', type: A.INT, i: 1 },
    ], 'ai.onnx.ml'),
    node('Flatten', ['channel_onehot3d'], ['channel_onehot'], [{ name: 'axis', type: A.INT, i: 1 }]),
    node('Concat', ['scaled', 'channel_onehot'], ['features'], [{ name: 'axis', type: A.INT, i: 1 }]),
    node('MatMul', ['features', 'coef'], ['logit_raw']),
    node('Add', ['logit_raw', 'intercept'], ['logit']),
    node('Sigmoid', ['logit'], ['p1']),
    node('Sub', ['one', 'p1'], ['p0']),
    node('Concat', ['p0', 'p1'], ['probabilities'], [{ name: 'axis', type: A.INT, i: 1 }]),
    node('ArgMax', ['probabilities'], ['label'], [{ name: 'axis', type: A.INT, i: 1 }, { name: 'keepdims', type: A.INT, i: 0 }]),
  ];
  const outputs = [tensorInfo('label', T.INT64, ['batch'])];
  if (options.zipMap) {
    nodes.push(node('ZipMap', ['probabilities'], ['output_probability'], [{ name: 'classlabels_int64s', type: A.INTS, ints: [0, 1] }], 'ai.onnx.ml'));
    outputs.push({
      name: 'output_probability',
      type: { sequenceType: { elemType: { mapType: { keyType: T.INT64, valueType: { tensorType: { elemType: T.FLOAT } } } } } },
    });
  } else {
    outputs.push(tensorInfo('probabilities', T.FLOAT, ['batch', 2]));
  }
  const model: OnnxTypes.IModelProto = {
    irVersion: 8,
    producerName: 'skl2onnx',
    opsetImport: [{ domain: '', version: 13 }, { domain: 'ai.onnx.ml', version: 1 }],
    graph: {
      name: 'pipeline',
      node: nodes,
      initializer: [
        floats('coef', PIPELINE.weights, [5, 1]),
        floats('intercept', [PIPELINE.bias], [1]),
        floats('one', [1], [1]),
      ],
      input: [tensorInfo('age', T.FLOAT, ['batch', 1]), tensorInfo('income', T.FLOAT, ['batch', 1]), tensorInfo('channel', T.STRING, ['batch', 1])],
      output: outputs,
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** A features-only MLP (as a PyTorch export): `features [N, width]` → Gemm → Relu → Gemm → Sigmoid → `probability [N, 1]`. */
export function buildMlpOnnx(hidden: readonly (readonly number[])[], hiddenBias: readonly number[], out: readonly number[], outBias: number): Uint8Array {
  const width = hidden.length;
  const units = hiddenBias.length;
  const g = new OnnxGraphBuilder({ name: 'mlp', producerName: 'pytorch' });
  g.addInput('features', [BATCH_DIM, width]);
  g.addOutput('probability', [BATCH_DIM, 1]);
  const w1 = g.addInitializer('w1', hidden.flat(), [width, units]);
  const b1 = g.addInitializer('b1', hiddenBias, [units]);
  const w2 = g.addInitializer('w2', out, [units, 1]);
  const b2 = g.addInitializer('b2', [outBias], [1]);
  const h = g.addNode('Relu', [g.addNode('Gemm', ['features', w1, b1])]);
  g.addNode('Sigmoid', [g.addNode('Gemm', [h, w2, b2])], ['probability']);
  return g.toBytes();
}

/** The plain-JS forward pass of {@link buildMlpOnnx}. */
export function mlpProbability(x: readonly number[], hidden: readonly (readonly number[])[], hiddenBias: readonly number[], out: readonly number[], outBias: number): number {
  let z = outBias;
  hiddenBias.forEach((b, j) => {
    let a = b;
    x.forEach((v, i) => (a += v * hidden[i]![j]!));
    z += Math.max(0, a) * out[j]!;
  });
  return sigmoid(z);
}
