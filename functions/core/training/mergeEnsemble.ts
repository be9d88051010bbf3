import type * as tfTypes from '@tensorflow/tfjs';
import { TrainingError } from '../errors.js';

type Tf = typeof tfTypes;

interface LayerPlan {
  readonly cls: 'Dense' | 'BatchNormalization' | 'Activation';
  readonly members: tfTypes.layers.Layer[];
}

/** Dense members' weights as arrays: kernel [in, out] and optional bias. */
function denseWeights(layer: tfTypes.layers.Layer): { kernel: Float32Array; inUnits: number; units: number; bias: Float32Array | null } {
  const [kernel, bias] = layer.getWeights();
  const [inUnits, units] = kernel!.shape as [number, number];
  return { kernel: kernel!.dataSync() as Float32Array, inUnits, units, bias: bias ? (bias.dataSync() as Float32Array) : null };
}

/**
 * Most weights the merged model may have. mergeEnsemble stores the deeper layers of M members as
 * one dense block-diagonal matrix (M² × the member's weights there), and the bundle keeps each
 * weight twice (model.onnx and tfjs/weights.bin, float32): 200 000 weights keep each file under 1 MB.
 */
const MAX_MERGED_WEIGHTS = 200_000;

/**
 * Weights of the model {@link mergeEnsemble} builds from `members` copies of `model`: the first dense
 * layer side by side, deeper dense layers block-diagonal (stored in full), the output averaged.
 * @example
 * mergedWeightCount(mlp10to64to32to1, 2) // → 10·128 + 128 + 128·64 + 64 + 64·1 + 1
 */
function mergedWeightCount(model: tfTypes.LayersModel, members: number): number {
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  let count = 0;
  dense.forEach((layer, i) => {
    const [kernel, bias] = layer.getWeights();
    const [inUnits, units] = kernel!.shape as [number, number];
    const rows = i === 0 ? inUnits : inUnits * members;
    const cols = i === dense.length - 1 ? units : units * members;
    count += rows * cols + (bias || i === dense.length - 1 ? cols : 0);
  });
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    count += layer.getWeights().reduce((n, w) => n + w.size, 0) * members;
  }
  return count;
}

/**
 * How many of `wanted` copies of `model` {@link mergeEnsemble} can merge within {@link MAX_MERGED_WEIGHTS}
 * (at least 1). Every path that merges members (folds, seeds, refitted seeds) ships no more than this,
 * and logs `why` when it is fewer.
 * @example
 * membersWithinBudget(mlp50to256to128to1, 3) // → { members: 2, why: '3 would need 334849 weights (budget 200000)' }
 */
export function membersWithinBudget(model: tfTypes.LayersModel, wanted: number): { members: number; why?: string } {
  let members = Math.max(1, wanted);
  while (members > 1 && mergedWeightCount(model, members) > MAX_MERGED_WEIGHTS) members--;
  return members < wanted ? { members, why: `${wanted} would need ${mergedWeightCount(model, wanted)} weights (budget ${MAX_MERGED_WEIGHTS})` } : { members };
}

/**
 * Merges M trained MLPs of the same depth into ONE wider MLP whose output is the ensemble: the first
 * hidden layers side by side, deeper hidden layers block-diagonal (no weights between members), and
 * the output layer averaging the members' logits before the sigmoid/softmax. Why one model: the
 * bundle, the ONNX exporter and the scorer all take a single chain of layers, and averaging seeds
 * buys ROC AUC a single MLP does not reach on tabular data.
 *
 * Dropout layers are dropped (inference only); the merged model is for scoring and export, not training.
 * @throws TrainingError when members differ in layer types or activations, or are not dense chains.
 */
export function mergeEnsemble(tf: Tf, members: readonly tfTypes.LayersModel[]): tfTypes.Sequential {
  if (members.length === 0) throw new TrainingError('mergeEnsemble needs at least one member', { isInputError: false });
  const chains = members.map((m) => m.layers.filter((l) => !['InputLayer', 'Dropout'].includes(l.getClassName())));
  const length = chains[0]!.length;
  if (chains.some((c) => c.length !== length)) {
    throw new TrainingError(`ensemble members differ in depth (${chains.map((c) => c.length).join(', ')} layers)`, { isInputError: false });
  }
  const plan: LayerPlan[] = [];
  for (let i = 0; i < length; i++) {
    const cls = chains[0]![i]!.getClassName();
    if (cls !== 'Dense' && cls !== 'BatchNormalization' && cls !== 'Activation') {
      throw new TrainingError(`cannot merge an ensemble with a ${cls} layer: only dense MLPs are merged`, { isInputError: false });
    }
    const layers = chains.map((chain) => chain[i]);
    if (layers.some((l) => !l || l.getClassName() !== cls)) throw new TrainingError('ensemble members differ in their layers', { isInputError: false });
    const activation = (l: tfTypes.layers.Layer): string => {
      const value = (l.getConfig() as { activation?: unknown }).activation ?? '';
      return typeof value === 'string' ? value : JSON.stringify(value);
    };
    if (layers.some((l) => activation(l!) !== activation(layers[0]!))) throw new TrainingError('ensemble members differ in their activations', { isInputError: false });
    plan.push({ cls, members: layers as tfTypes.layers.Layer[] });
  }

  const inputShape = members[0]!.inputs[0]!.shape.slice(1) as number[];
  const firstDense = plan.findIndex((p) => p.cls === 'Dense');
  const lastDense = plan.length - 1;
  if (plan[lastDense]!.cls !== 'Dense') throw new TrainingError('ensemble members must end in a dense output layer', { isInputError: false });
  // Fixed names, so the same members give byte-identical model files.
  const merged = tf.sequential({ name: 'propensity_ensemble' });
  const name = (i: number) => `${['dense', 'batch_norm', 'activation'][['Dense', 'BatchNormalization', 'Activation'].indexOf(plan[i]!.cls)]}_${i + 1}`;
  const M = members.length;
  const assignments: Array<() => void> = [];

  plan.forEach((step, i) => {
    const config = step.members[0]!.getConfig() as Record<string, unknown>;
    const first = { name: i === lastDense ? 'output' : name(i), ...(i === 0 ? { inputShape } : {}) };
    if (step.cls === 'Activation') {
      merged.add(tf.layers.activation({ activation: config.activation as 'relu', ...first }));
      return;
    }
    if (step.cls === 'BatchNormalization') {
      const layer = tf.layers.batchNormalization({ epsilon: Number(config.epsilon ?? 1e-3), ...first });
      merged.add(layer);
      assignments.push(() => {
        const parts = step.members.map((m) => m.getWeights().map((w) => w.dataSync() as Float32Array));
        const concat = (k: number) => {
          const total = parts.reduce((n, p) => n + p[k]!.length, 0);
          const out = new Float32Array(total);
          let at = 0;
          for (const p of parts) {
            out.set(p[k]!, at);
            at += p[k]!.length;
          }
          return tf.tensor1d(out);
        };
        // gamma, beta, moving mean, moving variance — in the order the layer declares them.
        layer.setWeights(parts[0]!.map((_, k) => concat(k)));
      });
      return;
    }
    const weights = step.members.map(denseWeights);
    const useBias = weights[0]!.bias !== null;
    const activation = config.activation as 'relu';
    if (i === lastDense) {
      // Output: mean of the members' logits, then the members' own sigmoid/softmax.
      const units = weights[0]!.units;
      const inUnits = weights.reduce((n, w) => n + w.inUnits, 0);
      const layer = tf.layers.dense({ units, activation, useBias: true, ...first });
      merged.add(layer);
      assignments.push(() => {
        const kernel = new Float32Array(inUnits * units);
        const bias = new Float32Array(units);
        let row = 0;
        for (const w of weights) {
          for (let r = 0; r < w.inUnits; r++) for (let c = 0; c < units; c++) kernel[(row + r) * units + c] = w.kernel[r * units + c]! / M;
          for (let c = 0; c < units; c++) bias[c]! += (w.bias?.[c] ?? 0) / M;
          row += w.inUnits;
        }
        layer.setWeights([tf.tensor2d(kernel, [inUnits, units]), tf.tensor1d(bias)]);
      });
      return;
    }
    const units = weights.reduce((n, w) => n + w.units, 0);
    const side = i === firstDense;
    const inUnits = side ? weights[0]!.inUnits : weights.reduce((n, w) => n + w.inUnits, 0);
    const layer = tf.layers.dense({ units, activation, useBias, ...first });
    merged.add(layer);
    assignments.push(() => {
      const kernel = new Float32Array(inUnits * units);
      const bias = new Float32Array(units);
      let row = 0;
      let col = 0;
      for (const w of weights) {
        // First layer: every member reads the whole input (side by side). Deeper: block-diagonal.
        const r0 = side ? 0 : row;
        for (let r = 0; r < w.inUnits; r++) for (let c = 0; c < w.units; c++) kernel[(r0 + r) * units + col + c] = w.kernel[r * w.units + c]!;
        if (w.bias) bias.set(w.bias, col);
        row += w.inUnits;
        col += w.units;
      }
      layer.setWeights(useBias ? [tf.tensor2d(kernel, [inUnits, units]), tf.tensor1d(bias)] : [tf.tensor2d(kernel, [inUnits, units])]);
    });
  });
  // setWeights needs built layers: they are built once the model knows its input shape.
  for (const assign of assignments) tf.tidy(assign);
  return merged;
}
