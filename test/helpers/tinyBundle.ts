import { buildLogisticOnnx, buildSoftmaxOnnx } from '../../functions/core/model/onnxFixtures.js';
import { parseFeatureSpec, type FeatureSpecInput, type FittedSpec } from '../../functions/core/spec/featureSpec.js';
import { fitSpec } from '../../functions/core/spec/fitSpec.js';
import { createBundle } from '../../functions/core/bundle/bundle.js';
import type { BundleManifestInput } from '../../functions/core/bundle/bundleManifest.js';
import { verifyBundle } from '../../functions/core/bundle/bundle.js';
import type { BundleFiles } from '../../functions/core/bundle/registry.js';

/**
 * A binary bundle whose probabilities can be computed by hand:
 * p = sigmoid(0.05·age + 1·member − 2), with age unscaled (median 40 fills a gap) and member 0/1.
 */
export const TINY_WEIGHTS = { age: 0.05, member: 1, bias: -2 } as const;

export const tinySpec: FeatureSpecInput = {
  columns: [
    { name: 'customer_id', role: 'id', type: 'categorical' },
    { name: 'age', role: 'feature', type: 'numeric', scale: 'none', impute: { strategy: 'median' } },
    { name: 'member', role: 'feature', type: 'boolean', scale: 'none' },
    { name: 'y', role: 'target', type: 'categorical' },
  ],
};

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export async function tinyBinaryBundle(overrides: Partial<BundleManifestInput> = {}): Promise<BundleFiles> {
  const fitted = await fitSpec(
    parseFeatureSpec(tinySpec),
    { header: ['customer_id', 'age', 'member', 'y'], records: [['a', '20', 'yes', 'no'], ['b', '40', 'no', 'yes'], ['c', '60', 'no', 'no']] },
    { now: new Date('2026-01-01T00:00:00Z') },
  );
  const model = buildLogisticOnnx([TINY_WEIGHTS.age, TINY_WEIGHTS.member], TINY_WEIGHTS.bias, { inputName: 'features', outputName: 'probability' });
  return binaryBundleOver(fitted, model, { name: 'tiny', version: '2026-01-01-test', ...overrides }, 'test/tiny');
}

/**
 * A verified binary ONNX bundle over any fitted spec and model (input `features`, output `probability`),
 * with the tiny bundles' economics; `overrides` are laid over the manifest.
 */
export function binaryBundleOver(fitted: FittedSpec, model: Uint8Array, overrides: Partial<BundleManifestInput>, location: string): BundleFiles {
  const bundle = createBundle(
    {
      schemaVersion: 1,
      name: 'tiny',
      version: '2026-01-01-test',
      created: '2026-01-01T00:00:00Z',
      task: 'binary',
      classes: ['no', 'yes'],
      positiveClass: 'yes',
      format: 'onnx',
      model: { file: 'model.onnx', inputName: 'features', outputName: 'probability', output: 'positive-probability' },
      featureSpec: fitted,
      economics: { costPerContact: 10, valuePerResponse: 100, fixedCost: 0 },
      ...overrides,
    },
    new Map([['model.onnx', model]]),
  );
  return verifyBundle(Buffer.from(JSON.stringify(bundle.manifest)), bundle.files, location);
}

/** A 3-segment bundle: logits = [x1, x2, 0], so softmax probabilities are hand-computable. */
export async function tinySegmentBundle(): Promise<BundleFiles> {
  const spec = parseFeatureSpec({
    columns: [
      { name: 'ID', role: 'id', type: 'categorical' },
      { name: 'x1', role: 'feature', scale: 'none' },
      { name: 'x2', role: 'feature', scale: 'none' },
      { name: 'Segmentation', role: 'target', type: 'categorical' },
    ],
  });
  const fitted = await fitSpec(spec, { header: ['ID', 'x1', 'x2', 'Segmentation'], records: [['1', '0', '0', 'A'], ['2', '1', '1', 'B'], ['3', '2', '2', 'C']] }, { now: new Date('2026-01-01T00:00:00Z') });
  const model = buildSoftmaxOnnx([[1, 0, 0], [0, 1, 0]], [0, 0, 0], { inputName: 'features', outputName: 'probabilities' });
  const bundle = createBundle(
    {
      schemaVersion: 1,
      name: 'tiny-segments',
      version: '2026-01-01-test',
      created: '2026-01-01T00:00:00Z',
      task: 'multiclass',
      classes: ['A', 'B', 'C'],
      format: 'onnx',
      model: { file: 'model.onnx', inputName: 'features', outputName: 'probabilities', output: 'class-probabilities' },
      featureSpec: fitted,
      economics: { costPerContact: 0, valuePerResponse: 0 },
      actions: { A: 'discounts', B: 'reminders', C: 'VIP programme' },
    },
    new Map([['model.onnx', model]]),
  );
  return verifyBundle(Buffer.from(JSON.stringify(bundle.manifest)), bundle.files, 'test/tiny-segments');
}
