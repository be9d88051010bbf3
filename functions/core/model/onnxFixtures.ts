/**
 * Tiny ONNX models with known weights, so tests can compute the expected probabilities by hand.
 */
import { BATCH_DIM, OnnxGraphBuilder } from './onnxGraph.js';

/** Graph input/output names of a fixture model. */
export interface FixtureNames {
  /** @default 'features' */
  readonly inputName?: string;
  /** @default 'probability' (logistic) or 'probabilities' (softmax) */
  readonly outputName?: string;
}

/**
 * A logistic regression as ONNX: `p = 1 / (1 + exp(-(x·weights + bias)))`, input
 * `[batch, weights.length]`, output `[batch, 1]`.
 *
 * @example
 * const bytes = buildLogisticOnnx([0.5, -1, 2], 0.1, { inputName: 'features', outputName: 'probability' });
 * // row [1, 2, 3] scores 1 / (1 + exp(-(0.5 - 2 + 6 + 0.1)))
 */
export function buildLogisticOnnx(weights: readonly number[], bias: number, names: FixtureNames = {}): Uint8Array {
  if (weights.length === 0) throw new Error('buildLogisticOnnx: weights must not be empty');
  const input = names.inputName ?? 'features';
  const output = names.outputName ?? 'probability';
  const g = new OnnxGraphBuilder({ name: 'logistic' });
  g.addInput(input, [BATCH_DIM, weights.length]);
  g.addOutput(output, [BATCH_DIM, 1]);
  const w = g.addInitializer('weights', weights, [weights.length, 1]);
  const b = g.addInitializer('bias', [bias], [1]);
  const z = g.addNode('Gemm', [input, w, b]);
  g.addNode('Sigmoid', [z], [output]);
  return g.toBytes();
}

/**
 * A multinomial logistic (softmax) model as ONNX: `p = softmax(x·W + b)`.
 *
 * @param W one row per input feature, one column per class (`W[i][k]` multiplies feature `i` into class `k`),
 *   the same layout as a Keras Dense kernel.
 * @param b one bias per class.
 * @returns a model with input `[batch, W.length]` and output `[batch, b.length]`.
 *
 * @example
 * const bytes = buildSoftmaxOnnx([[1, 0, -1], [0, 2, 1]], [0, 0.5, -0.5]);
 */
export function buildSoftmaxOnnx(W: readonly (readonly number[])[], b: readonly number[], names: FixtureNames = {}): Uint8Array {
  const inputWidth = W.length;
  const classes = b.length;
  if (inputWidth === 0 || classes === 0) throw new Error('buildSoftmaxOnnx: W and b must not be empty');
  W.forEach((row, i) => {
    if (row.length !== classes) throw new Error(`buildSoftmaxOnnx: W[${i}] has ${row.length} columns, expected ${classes} (one per class)`);
  });
  const input = names.inputName ?? 'features';
  const output = names.outputName ?? 'probabilities';
  const g = new OnnxGraphBuilder({ name: 'softmax' });
  g.addInput(input, [BATCH_DIM, inputWidth]);
  g.addOutput(output, [BATCH_DIM, classes]);
  const w = g.addInitializer('weights', W.flat(), [inputWidth, classes]);
  const bias = g.addInitializer('bias', b, [classes]);
  const z = g.addNode('Gemm', [input, w, bias]);
  g.addNode('Softmax', [z], [output], { axis: { int: 1 } });
  return g.toBytes();
}
