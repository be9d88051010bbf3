import type * as tfTypes from '@tensorflow/tfjs';
import { TrainingError } from '../errors.js';
import type { Architecture, MlpArchitecture, SequenceArchitecture } from './trainingSpec.js';

type Tf = typeof tfTypes;

/** What the model takes and returns. */
export interface ModelShape {
  /** Keras input shape without the batch dim: `[width]` or `[periods, features]`. */
  readonly inputShape: readonly number[];
  /** 1 (sigmoid, P(positive)) for binary targets, K (softmax) for K classes. */
  readonly outputUnits: number;
}

/**
 * Builds (uncompiled) the tfjs model an architecture describes, as one chain of layers the ONNX
 * exporter covers. Initial weights come from `Math.random`, which training seeds.
 * @throws TrainingError when the architecture does not fit the input (e.g. a sequence model on flat input).
 */
export function buildModel(tf: Tf, architecture: Architecture, shape: ModelShape): tfTypes.Sequential {
  return architecture.kind === 'mlp' ? buildMlp(tf, architecture, shape) : buildSequenceModel(tf, architecture, shape);
}

function regularizer(tf: Tf, l2: number) {
  return l2 > 0 ? tf.regularizers.l2({ l2 }) : undefined;
}

/**
 * Layer names are fixed (`dense_1`, `output`, …) rather than tfjs's process-wide counters, so the
 * same seed gives byte-identical model files (the ONNX initializers are named after the layers).
 */
function named(model: tfTypes.Sequential, kind: string): string {
  return `${kind}_${model.layers.filter((l) => l.name.startsWith(`${kind}_`)).length + 1}`;
}

/** Dense → (batch norm) → activation → (dropout), once per hidden layer. */
function addHidden(tf: Tf, model: tfTypes.Sequential, units: number, a: { activation: string; batchNorm: boolean; dropout: number; l2: number }, inputShape?: number[]) {
  const kernelRegularizer = regularizer(tf, a.l2);
  model.add(
    tf.layers.dense({
      name: named(model, 'dense'),
      units,
      ...(inputShape ? { inputShape } : {}),
      activation: a.batchNorm ? 'linear' : (a.activation as 'relu'),
      useBias: !a.batchNorm,
      ...(kernelRegularizer ? { kernelRegularizer } : {}),
    }),
  );
  if (a.batchNorm) {
    model.add(tf.layers.batchNormalization({ name: named(model, 'batch_norm') }));
    model.add(tf.layers.activation({ name: named(model, 'activation'), activation: a.activation as 'relu' }));
  }
  if (a.dropout > 0) model.add(tf.layers.dropout({ name: named(model, 'dropout'), rate: a.dropout }));
}

function addOutput(tf: Tf, model: tfTypes.Sequential, outputUnits: number) {
  model.add(tf.layers.dense({ name: 'output', units: outputUnits, activation: outputUnits === 1 ? 'sigmoid' : 'softmax' }));
}

function buildMlp(tf: Tf, a: MlpArchitecture, shape: ModelShape): tfTypes.Sequential {
  if (shape.inputShape.length !== 1) throw new TrainingError(`an mlp takes a flat input, got [${shape.inputShape.join(', ')}]`);
  const model = tf.sequential({ name: 'propensity_mlp' });
  a.layers.forEach((units, i) => addHidden(tf, model, units, a, i === 0 ? [...shape.inputShape] : undefined));
  addOutput(tf, model, shape.outputUnits);
  return model;
}

function buildSequenceModel(tf: Tf, a: SequenceArchitecture, shape: ModelShape): tfTypes.Sequential {
  if (shape.inputShape.length !== 2) throw new TrainingError(`a sequence model takes [periods, features], got [${shape.inputShape.join(', ')}]`);
  const [periods] = shape.inputShape as [number, number];
  if (a.convLayers * (a.kernelSize - 1) >= periods) {
    throw new TrainingError(`${a.convLayers} Conv1D layer(s) with kernel ${a.kernelSize} need more than ${periods} periods`, { isInputError: true });
  }
  const model = tf.sequential({ name: 'propensity_sequence' });
  const kernelRegularizer = regularizer(tf, a.l2);
  for (let i = 0; i < a.convLayers; i++) {
    model.add(
      tf.layers.conv1d({
        name: named(model, 'conv1d'),
        filters: a.filters,
        kernelSize: a.kernelSize,
        padding: 'valid',
        activation: a.batchNorm ? 'linear' : a.activation,
        useBias: !a.batchNorm,
        ...(i === 0 ? { inputShape: [...shape.inputShape] } : {}),
        ...(kernelRegularizer ? { kernelRegularizer } : {}),
      }),
    );
    if (a.batchNorm) {
      model.add(tf.layers.batchNormalization({ name: named(model, 'batch_norm') }));
      model.add(tf.layers.activation({ name: named(model, 'activation'), activation: a.activation }));
    }
  }
  if (a.pooling === 'flatten') model.add(tf.layers.flatten({ name: 'flatten' }));
  else if (a.pooling === 'global-average') model.add(tf.layers.globalAveragePooling1d({ name: 'pool' }));
  else model.add(tf.layers.globalMaxPooling1d({ name: 'pool' }));
  if (a.dropout > 0) model.add(tf.layers.dropout({ name: named(model, 'dropout'), rate: a.dropout }));
  for (const units of a.layers) addHidden(tf, model, units, a);
  addOutput(tf, model, shape.outputUnits);
  return model;
}
