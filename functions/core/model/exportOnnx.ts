/**
 * Export of trained tfjs LayersModels to ONNX, so bundles score on onnxruntime-node.
 *
 * Covers what the trainer builds: Dense, Dropout-like layers (identity at inference),
 * BatchNormalization (folded to one multiply-add), Activation / ReLU / LeakyReLU / ELU / Softmax
 * layers, Conv1D, Max/AveragePooling1D, GlobalAverage/GlobalMaxPooling1D, Flatten, Reshape, and a
 * calibration step on the output. Layers form a single chain from one input to one output.
 */
import type * as tf from '@tensorflow/tfjs';
import { TrainingError } from '../errors.js';
import { calibrationMismatch, calibrationSchema, isotonicKnots, LOG_FLOOR, P_EPSILON, type Calibration } from './calibration.js';
import { BATCH_DIM, OnnxGraphBuilder } from './onnxGraph.js';

/** Options for {@link exportTfjsToOnnx}. */
export interface ExportOnnxOptions {
  /** Graph input: a flat `[batch, width]` float32 vector (sequence inputs are reshaped inside the graph). */
  readonly inputName: string;
  /** Graph output: `[batch, outputWidth]` probabilities, after calibration. */
  readonly outputName: string;
  /** Appended after the model's own output activation. */
  readonly calibration?: Calibration;
}

/** Metadata keys written into the ONNX model's `metadata_props`. */
export const ONNX_METADATA = {
  /** JSON: the Keras input shape without the batch dim, e.g. `[10,6]` for a sequence input. */
  inputShape: 'propensity.input_shape',
  /** JSON of the calibration, when one was appended. */
  calibration: 'propensity.calibration',
} as const;

/**
 * A tensor while the graph is built. `shape` is the Keras shape without the batch dim; for rank-2
 * (sequence) tensors `layout` says whether the ONNX tensor holds it as Keras does
 * (`NWC`: [batch, steps, channels]) or as ONNX Conv/Pool want it (`NCW`: [batch, channels, steps]).
 */
interface GraphTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly layout: 'NWC' | 'NCW';
}

type Config = Record<string, unknown>;

const IDENTITY_LAYERS = new Set(['Dropout', 'SpatialDropout1D', 'GaussianDropout', 'GaussianNoise', 'AlphaDropout']);

const SUPPORTED_LAYERS = [
  'Dense', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'BatchNormalization', 'Conv1D', 'MaxPooling1D',
  'AveragePooling1D', 'GlobalAveragePooling1D', 'GlobalMaxPooling1D', 'Flatten', 'Reshape', ...IDENTITY_LAYERS,
];

class UnsupportedLayerError extends TrainingError {
  constructor(layer: tf.layers.Layer, why: string) {
    super(`cannot export layer "${layer.name}" (class ${layer.getClassName()}) to ONNX: ${why}`, { isInputError: false });
  }
}

/**
 * Converts a trained tfjs LayersModel (and an optional calibration) to ONNX bytes.
 *
 * The graph input is always a flat `[batch, width]` vector: a sequence model with Keras input
 * `[periods, features]` gets `[batch, periods·features]` (row-major, period by period) and reshapes it.
 *
 * @throws TrainingError naming the layer and its class when a layer or setting is not supported.
 * @example
 * const bytes = exportTfjsToOnnx(model, { inputName: 'features', outputName: 'probability', calibration: { kind: 'platt', a: 1.1, b: -0.2 } });
 */
export function exportTfjsToOnnx(model: tf.LayersModel, options: ExportOnnxOptions): Uint8Array {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new TrainingError(`cannot export model "${model.name}" to ONNX: it has ${model.inputs.length} inputs and ${model.outputs.length} outputs, expected 1 and 1`, { isInputError: false });
  }
  const calibration = options.calibration === undefined ? undefined : calibrationSchema.parse(options.calibration);
  const inputShape = model.inputs[0]!.shape.slice(1);
  if (inputShape.length < 1 || inputShape.length > 2 || inputShape.some((d) => d === null)) {
    throw new TrainingError(`cannot export model "${model.name}" to ONNX: input shape [batch, ${inputShape.join(', ')}] is not [features] or [periods, features] with fixed sizes`, { isInputError: false });
  }
  const shape = inputShape as number[];

  const metadata: Record<string, string> = { [ONNX_METADATA.inputShape]: JSON.stringify(shape) };
  if (calibration) metadata[ONNX_METADATA.calibration] = JSON.stringify(calibration);
  const g = new OnnxGraphBuilder({ name: model.name, producerName: 'propensity exportTfjsToOnnx', metadata });

  const outputShape = model.outputs[0]!.shape.slice(1);
  const outputWidth = outputShape[0];
  if (outputShape.length !== 1 || typeof outputWidth !== 'number') {
    throw new TrainingError(`cannot export model "${model.name}" to ONNX: output shape [batch, ${outputShape.join(', ')}] is not [batch, classes]`, { isInputError: false });
  }
  const flatWidth = shape.reduce((a, b) => a * b, 1);
  g.addInput(options.inputName, [BATCH_DIM, flatWidth]);
  // Declared first so no generated tensor name can take the output's name.
  g.addOutput(options.outputName, [BATCH_DIM, outputWidth]);
  let input: GraphTensor = { name: options.inputName, shape, layout: 'NWC' };
  if (shape.length === 2) {
    // The scoring engine feeds a 2-D batch; Keras sees [batch, periods, features] channels-last.
    const target = g.addInt64Initializer('sequence_shape', [0, shape[0]!, shape[1]!]);
    input = { name: g.addNode('Reshape', [options.inputName, target]), shape, layout: 'NWC' };
  }

  const exporter = new LayerExporter(g);
  const produced = new Map<string, GraphTensor>([[model.inputs[0]!.sourceLayer.name, input]]);
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const inbound = (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
    const sources = inbound.flatMap((node) => node.inboundLayers);
    if (inbound.length !== 1 || sources.length !== 1) throw new UnsupportedLayerError(layer, 'only single-input layers used once are supported');
    const from = produced.get(sources[0]!.name);
    if (!from) throw new UnsupportedLayerError(layer, `its input "${sources[0]!.name}" comes from outside the exported chain`);
    produced.set(layer.name, exporter.layer(layer, from));
  }

  const outputLayer = model.outputs[0]!.sourceLayer.name;
  let out = produced.get(outputLayer);
  if (!out) throw new TrainingError(`cannot export model "${model.name}" to ONNX: output layer "${outputLayer}" was not reached`, { isInputError: false });
  if (out.shape.length !== 1 || out.shape[0] !== outputWidth) {
    throw new TrainingError(`cannot export model "${model.name}" to ONNX: the exported output has shape [batch, ${out.shape.join(', ')}], the model says [batch, ${outputWidth}]`, { isInputError: false });
  }
  if (calibration) {
    const problem = calibrationMismatch(calibration, outputWidth);
    if (problem) throw new TrainingError(`cannot export model "${model.name}" to ONNX: ${problem}`, { isInputError: false });
    out = { ...out, name: appendCalibration(g, out.name, calibration, outputWidth) };
  }
  g.addNode('Identity', [out.name], [options.outputName]);
  return g.toBytes();
}

/** Translates one layer at a time, tracking shapes and the NWC/NCW layout of sequence tensors. */
class LayerExporter {
  constructor(private readonly g: OnnxGraphBuilder) {}

  layer(layer: tf.layers.Layer, x: GraphTensor): GraphTensor {
    const cls = layer.getClassName();
    const config = layer.getConfig() as Config;
    if (IDENTITY_LAYERS.has(cls)) return x;
    switch (cls) {
      case 'Dense':
        return this.activation(layer, this.dense(layer, x, config), configText(config.activation ?? 'linear'));
      case 'Activation':
        return this.activation(layer, x, configText(config.activation));
      case 'ReLU': {
        if (config.maxValue === null || config.maxValue === undefined) return this.unary(x, 'Relu');
        return this.clip(x, 0, Number(config.maxValue));
      }
      case 'LeakyReLU':
        return { ...x, name: this.g.addNode('LeakyRelu', [x.name], undefined, { alpha: { float: Number(config.alpha ?? 0.3) } }) };
      case 'ELU':
        return { ...x, name: this.g.addNode('Elu', [x.name], undefined, { alpha: { float: Number(config.alpha ?? 1) } }) };
      case 'Softmax':
        if (!isLastAxis(config.axis, x.shape.length)) throw new UnsupportedLayerError(layer, `softmax over axis ${String(config.axis)} (only the last axis)`);
        return this.activation(layer, x, 'softmax');
      case 'BatchNormalization':
        return this.batchNorm(layer, x, config);
      case 'Conv1D':
        return this.activation(layer, this.conv1d(layer, x, config), configText(config.activation ?? 'linear'));
      case 'MaxPooling1D':
      case 'AveragePooling1D':
        return this.pool1d(layer, x, config, cls === 'MaxPooling1D' ? 'MaxPool' : 'AveragePool');
      case 'GlobalAveragePooling1D':
      case 'GlobalMaxPooling1D':
        return this.globalPool1d(layer, x, config, cls === 'GlobalMaxPooling1D' ? 'ReduceMax' : 'ReduceMean');
      case 'Flatten':
        return this.flatten(x);
      case 'Reshape':
        return this.reshape(layer, x, config);
      default:
        throw new UnsupportedLayerError(layer, `supported layers are ${SUPPORTED_LAYERS.join(', ')}`);
    }
  }

  private weights(layer: tf.layers.Layer): Map<string, { values: Float32Array; shape: number[] }> {
    const tensors = layer.getWeights();
    const out = new Map<string, { values: Float32Array; shape: number[] }>();
    layer.weights.forEach((w, i) => {
      const key = w.originalName.split('/').pop() ?? w.originalName;
      out.set(key, { values: tensors[i]!.dataSync() as Float32Array, shape: [...tensors[i]!.shape] });
    });
    return out;
  }

  private dense(layer: tf.layers.Layer, x: GraphTensor, config: Config): GraphTensor {
    const w = this.weights(layer);
    const kernel = w.get('kernel');
    if (!kernel) throw new UnsupportedLayerError(layer, 'no kernel weights');
    const [inUnits, units] = kernel.shape as [number, number];
    const K = this.g.addInitializer(`${layer.name}_kernel`, kernel.values, [inUnits, units]);
    const bias = config.useBias === false ? undefined : w.get('bias');
    const B = bias ? this.g.addInitializer(`${layer.name}_bias`, bias.values, [units]) : undefined;
    if (x.shape.length === 1) {
      return { name: this.g.addNode('Gemm', B ? [x.name, K, B] : [x.name, K]), shape: [units], layout: 'NWC' };
    }
    // Keras applies Dense to the last axis of a sequence: channels-last, then MatMul broadcasts over steps.
    const nwc = this.toLayout(x, 'NWC');
    let y = this.g.addNode('MatMul', [nwc.name, K]);
    if (B) y = this.g.addNode('Add', [y, B]);
    return { name: y, shape: [...x.shape.slice(0, -1), units], layout: 'NWC' };
  }

  private activation(layer: tf.layers.Layer, x: GraphTensor, name: string): GraphTensor {
    const g = this.g;
    const unary = (op: string, attributes = {}): GraphTensor => ({ ...x, name: g.addNode(op, [x.name], undefined, attributes) });
    switch (name) {
      case 'linear':
        return x;
      case 'relu':
        return unary('Relu');
      case 'relu6':
        return this.clip(x, 0, 6);
      case 'elu':
        return unary('Elu', { alpha: { float: 1 } });
      case 'selu':
        // Keras/tfjs constants; the ONNX defaults are these values rounded to float32.
        return unary('Selu', { alpha: { float: 1.6732632423543772 }, gamma: { float: 1.0507009873554805 } });
      case 'tanh':
        return unary('Tanh');
      case 'sigmoid':
        return unary('Sigmoid');
      case 'hardSigmoid':
        return unary('HardSigmoid', { alpha: { float: 0.2 }, beta: { float: 0.5 } });
      case 'softplus':
        return unary('Softplus');
      case 'softsign':
        return unary('Softsign');
      case 'softmax': {
        // ONNX Softmax-13 works on one axis; Keras means the channels (last) axis.
        const nwc = this.toLayout(x, 'NWC');
        return { ...nwc, name: g.addNode('Softmax', [nwc.name], undefined, { axis: { int: -1 } }) };
      }
      case 'swish':
        return { ...x, name: g.addNode('Mul', [x.name, g.addNode('Sigmoid', [x.name])]) };
      case 'mish':
        return { ...x, name: g.addNode('Mul', [x.name, g.addNode('Tanh', [g.addNode('Softplus', [x.name])])]) };
      case 'gelu': {
        // x · ½(1 + erf(x / √2)), as tfjs computes it.
        const scaled = g.addNode('Div', [x.name, g.addInitializer('sqrt2', [Math.SQRT2], [])]);
        const erf1 = g.addNode('Add', [g.addNode('Erf', [scaled]), g.addInitializer('one', [1], [])]);
        return { ...x, name: g.addNode('Mul', [x.name, g.addNode('Mul', [erf1, g.addInitializer('half', [0.5], [])])]) };
      }
      default:
        throw new UnsupportedLayerError(layer, `activation "${name}" is not supported`);
    }
  }

  private unary(x: GraphTensor, op: string): GraphTensor {
    return { ...x, name: this.g.addNode(op, [x.name]) };
  }

  private clip(x: GraphTensor, min: number, max: number): GraphTensor {
    const lo = this.g.addInitializer('clip_min', [min], []);
    const hi = this.g.addInitializer('clip_max', [max], []);
    return { ...x, name: this.g.addNode('Clip', [x.name, lo, hi]) };
  }

  /** Inference-time batch norm folded to `x·scale + shift` per channel. */
  private batchNorm(layer: tf.layers.Layer, x: GraphTensor, config: Config): GraphTensor {
    if (!isLastAxis(config.axis, x.shape.length)) throw new UnsupportedLayerError(layer, `normalization over axis ${JSON.stringify(config.axis)} (only the last axis)`);
    const w = this.weights(layer);
    const mean = w.get('moving_mean')?.values;
    const variance = w.get('moving_variance')?.values;
    if (!mean || !variance) throw new UnsupportedLayerError(layer, 'no moving mean/variance weights');
    const gamma = w.get('gamma')?.values;
    const beta = w.get('beta')?.values;
    const epsilon = Number(config.epsilon ?? 1e-3);
    const channels = mean.length;
    const scale = new Float64Array(channels);
    const shift = new Float64Array(channels);
    for (let c = 0; c < channels; c++) {
      scale[c] = (gamma?.[c] ?? 1) / Math.sqrt(variance[c]! + epsilon);
      shift[c] = (beta?.[c] ?? 0) - mean[c]! * scale[c]!;
    }
    // In NCW the channel axis is 1, so the per-channel constants broadcast as [C, 1].
    const dims = x.shape.length === 2 && x.layout === 'NCW' ? [channels, 1] : [channels];
    const S = this.g.addInitializer(`${layer.name}_scale`, scale, dims);
    const T = this.g.addInitializer(`${layer.name}_shift`, shift, dims);
    return { ...x, name: this.g.addNode('Add', [this.g.addNode('Mul', [x.name, S]), T]) };
  }

  private conv1d(layer: tf.layers.Layer, x: GraphTensor, config: Config): GraphTensor {
    if (x.shape.length !== 2) throw new UnsupportedLayerError(layer, `input shape [batch, ${x.shape.join(', ')}] is not [batch, steps, channels]`);
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') throw new UnsupportedLayerError(layer, `data format ${configText(config.dataFormat)}`);
    const w = this.weights(layer);
    const kernel = w.get('kernel');
    if (!kernel) throw new UnsupportedLayerError(layer, 'no kernel weights');
    const [k, inChannels, filters] = kernel.shape as [number, number, number];
    const stride = first(config.strides, 1);
    const dilation = first(config.dilationRate, 1);
    const steps = x.shape[0]!;
    const pads = padding(layer, configText(config.padding ?? 'valid'), steps, (k - 1) * dilation + 1, stride);
    // tfjs kernel is [k, in, out]; ONNX Conv wants [out, in, k].
    const W = new Float32Array(kernel.values.length);
    for (let j = 0; j < k; j++) for (let c = 0; c < inChannels; c++) for (let m = 0; m < filters; m++) {
      W[(m * inChannels + c) * k + j] = kernel.values[(j * inChannels + c) * filters + m]!;
    }
    const inputs = [this.toLayout(x, 'NCW').name, this.g.addInitializer(`${layer.name}_kernel`, W, [filters, inChannels, k])];
    const bias = config.useBias === false ? undefined : w.get('bias');
    if (bias) inputs.push(this.g.addInitializer(`${layer.name}_bias`, bias.values, [filters]));
    const y = this.g.addNode('Conv', inputs, undefined, {
      kernel_shape: { ints: [k] },
      strides: { ints: [stride] },
      dilations: { ints: [dilation] },
      pads: { ints: pads.pads },
    });
    return { name: y, shape: [pads.outSteps, filters], layout: 'NCW' };
  }

  private pool1d(layer: tf.layers.Layer, x: GraphTensor, config: Config, op: 'MaxPool' | 'AveragePool'): GraphTensor {
    if (x.shape.length !== 2) throw new UnsupportedLayerError(layer, `input shape [batch, ${x.shape.join(', ')}] is not [batch, steps, channels]`);
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') throw new UnsupportedLayerError(layer, `data format ${configText(config.dataFormat)}`);
    const size = first(config.poolSize, 2);
    const stride = first(config.strides, size);
    const pads = padding(layer, configText(config.padding ?? 'valid'), x.shape[0]!, size, stride);
    // Keras averages over the window cells inside the input only, as ONNX does with count_include_pad = 0.
    const attributes = { kernel_shape: { ints: [size] }, strides: { ints: [stride] }, pads: { ints: pads.pads } };
    const y = this.g.addNode(op, [this.toLayout(x, 'NCW').name], undefined, attributes);
    return { name: y, shape: [pads.outSteps, x.shape[1]!], layout: 'NCW' };
  }

  private globalPool1d(layer: tf.layers.Layer, x: GraphTensor, config: Config, op: 'ReduceMean' | 'ReduceMax'): GraphTensor {
    if (x.shape.length !== 2) throw new UnsupportedLayerError(layer, `input shape [batch, ${x.shape.join(', ')}] is not [batch, steps, channels]`);
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') throw new UnsupportedLayerError(layer, `data format ${configText(config.dataFormat)}`);
    const stepAxis = x.layout === 'NCW' ? 2 : 1;
    const y = this.g.addNode(op, [x.name], undefined, { axes: { ints: [stepAxis] }, keepdims: { int: 0 } });
    return { name: y, shape: [x.shape[1]!], layout: 'NWC' };
  }

  private flatten(x: GraphTensor): GraphTensor {
    if (x.shape.length === 1) return x;
    // Keras flattens channels-last: element (step t, channel c) lands at t·C + c.
    const nwc = this.toLayout(x, 'NWC');
    return { name: this.g.addNode('Flatten', [nwc.name], undefined, { axis: { int: 1 } }), shape: [x.shape[0]! * x.shape[1]!], layout: 'NWC' };
  }

  private reshape(layer: tf.layers.Layer, x: GraphTensor, config: Config): GraphTensor {
    const target = (config.targetShape as number[] | undefined) ?? [];
    const size = x.shape.reduce((a, b) => a * b, 1);
    const known = target.filter((d) => d !== -1 && d !== null).reduce((a, b) => a * b, 1);
    const resolved = target.map((d) => (d === -1 || d === null ? size / known : d));
    if (resolved.length < 1 || resolved.length > 2 || resolved.reduce((a, b) => a * b, 1) !== size) {
      throw new UnsupportedLayerError(layer, `target shape [${target.join(', ')}] from [${x.shape.join(', ')}] (only rank 1 or 2 targets)`);
    }
    const nwc = this.toLayout(x, 'NWC');
    const shape = this.g.addInt64Initializer(`${layer.name}_shape`, [0, ...resolved]);
    return { name: this.g.addNode('Reshape', [nwc.name, shape]), shape: resolved, layout: 'NWC' };
  }

  private toLayout(x: GraphTensor, layout: 'NWC' | 'NCW'): GraphTensor {
    if (x.shape.length !== 2 || x.layout === layout) return x;
    return { name: this.g.addNode('Transpose', [x.name], undefined, { perm: { ints: [0, 2, 1] } }), shape: x.shape, layout };
  }
}

/** A layer config value as text: strings as they are, anything else as JSON (never `[object Object]`). */
function configText(value: unknown): string {
  // JSON.stringify gives undefined (not a string) for undefined, functions and symbols.
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
}

function isLastAxis(axis: unknown, rank: number): boolean {
  const a: unknown = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : undefined) : (axis ?? -1);
  return a === -1 || a === rank;
}

function first(value: unknown, fallback: number): number {
  if (Array.isArray(value)) return Number(value[0] ?? fallback);
  if (value === null || value === undefined) return fallback;
  return Number(value);
}

/** Explicit pads and output length for TF-style `valid` and `same` padding (the odd cell goes at the end); tfjs has no `causal`. */
function padding(layer: tf.layers.Layer, mode: string, steps: number, window: number, stride: number): { pads: [number, number]; outSteps: number } {
  switch (mode) {
    case 'valid':
      if (steps < window) throw new UnsupportedLayerError(layer, `window ${window} is longer than the ${steps} input steps`);
      return { pads: [0, 0], outSteps: Math.floor((steps - window) / stride) + 1 };
    case 'same': {
      const outSteps = Math.ceil(steps / stride);
      const total = Math.max((outSteps - 1) * stride + window - steps, 0);
      return { pads: [Math.floor(total / 2), total - Math.floor(total / 2)], outSteps };
    }
    default:
      throw new UnsupportedLayerError(layer, `padding "${mode}"`);
  }
}

/** Appends the calibration maths to the graph (the same as applyCalibration in calibration.ts). */
function appendCalibration(g: OnnxGraphBuilder, p: string, calibration: Calibration, outputWidth: number): string {
  const scalar = (name: string, value: number): string => g.addInitializer(name, [value], []);
  const logit = (): string => {
    const q = g.addNode('Clip', [p, scalar('p_min', P_EPSILON), scalar('p_max', 1 - P_EPSILON)]);
    const oneMinusQ = g.addNode('Sub', [scalar('one', 1), q]);
    return g.addNode('Sub', [g.addNode('Log', [q]), g.addNode('Log', [oneMinusQ])]);
  };
  switch (calibration.kind) {
    case 'platt': {
      const z = g.addNode('Add', [g.addNode('Mul', [logit(), scalar('platt_a', calibration.a)]), scalar('platt_b', calibration.b)]);
      return g.addNode('Sigmoid', [z]);
    }
    case 'temperature': {
      if (outputWidth === 1) return g.addNode('Sigmoid', [g.addNode('Div', [logit(), scalar('temperature', calibration.t)])]);
      const logp = g.addNode('Log', [g.addNode('Max', [p, scalar('log_floor', LOG_FLOOR)])]);
      return g.addNode('Softmax', [g.addNode('Div', [logp, scalar('temperature', calibration.t)])], undefined, { axis: { int: -1 } });
    }
    case 'isotonic': {
      // Segment index = how many knots after the first lie below p, capped at n − 2; then gather the
      // segment's end points and interpolate, clamping t to [0, 1] (so p outside [x0, xn] clamps to the end y).
      const { x, y } = isotonicKnots(calibration);
      const n = x.length;
      const X = g.addInitializer('iso_x', x, [n]);
      const Y = g.addInitializer('iso_y', y, [n]);
      const below = g.addNode('Cast', [g.addNode('Less', [g.addInitializer('iso_x_tail', x.subarray(1), [n - 1]), p])], undefined, { to: { int: 7 } });
      const count = g.addNode('ReduceSum', [below, g.addInt64Initializer('iso_axes', [1])], undefined, { keepdims: { int: 1 } });
      const lo = g.addNode('Min', [count, g.addInt64Initializer('iso_last_segment', [n - 2], [])]);
      const hi = g.addNode('Add', [lo, g.addInt64Initializer('iso_one', [1], [])]);
      const x0 = g.addNode('Gather', [X, lo]);
      const y0 = g.addNode('Gather', [Y, lo]);
      const dx = g.addNode('Sub', [g.addNode('Gather', [X, hi]), x0]);
      const dy = g.addNode('Sub', [g.addNode('Gather', [Y, hi]), y0]);
      const t = g.addNode('Clip', [g.addNode('Div', [g.addNode('Sub', [p, x0]), dx]), scalar('iso_t_min', 0), scalar('iso_t_max', 1)]);
      return g.addNode('Add', [y0, g.addNode('Mul', [t, dy])]);
    }
  }
}
