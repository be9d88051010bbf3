import { buildLogisticOnnx } from '../../../functions/core/model/onnxFixtures.js';
import { createBundle } from '../../../functions/core/bundle/bundle.js';
import type { BundleManifest } from '../../../functions/core/bundle/bundleManifest.js';

/**
 * A bank-marketing bundle with hand-set weights on four numeric columns, so a test can compute any
 * row's probability: p = sigmoid(BIAS + Σ w·(x − shift)/scale). Economics: 5 per call, 60 per deposit.
 */
export const BANK_COLUMNS = [
  { name: 'age', shift: 40, scale: 10, weight: 0.2 },
  { name: 'balance', shift: 1000, scale: 3000, weight: 0.1 },
  { name: 'duration', shift: 250, scale: 250, weight: 1.2 },
  { name: 'campaign', shift: 2, scale: 3, weight: -0.4 },
] as const;
export const BANK_BIAS = -2.2;

/** Probability the bundle gives a row with these raw values (same order as {@link BANK_COLUMNS}). */
export function bankProbability(values: readonly number[]): number {
  let z = BANK_BIAS;
  BANK_COLUMNS.forEach((c, i) => {
    z += c.weight * ((values[i]! - c.shift) / c.scale);
  });
  return 1 / (1 + Math.exp(-z));
}

export function bankBundle(version = '2026-11-23T0900-test01', name = 'bank-marketing'): { manifest: BundleManifest; files: ReadonlyMap<string, Uint8Array> } {
  const model = buildLogisticOnnx(
    BANK_COLUMNS.map((c) => c.weight),
    BANK_BIAS,
    { inputName: 'features', outputName: 'probability' },
  );
  return createBundle(
    {
      schemaVersion: 1,
      name,
      version,
      created: '2026-11-23T09:00:00.000Z',
      description: 'test bundle with hand-set weights',
      task: 'binary',
      classes: ['no', 'yes'],
      positiveClass: 'yes',
      format: 'onnx',
      model: { file: 'model.onnx', inputName: 'features', outputName: 'probability', output: 'positive-probability' },
      featureSpec: {
        spec: {
          file: { header: true, delimiter: 'auto' },
          positiveClass: 'yes',
          columns: [...BANK_COLUMNS.map((c) => ({ name: c.name, role: 'feature' as const, type: 'numeric' as const })), { name: 'y', role: 'target' as const, type: 'categorical' as const }],
        },
        fittedAt: '2026-11-23T09:00:00.000Z',
        trainingRows: 45211,
        columns: Object.fromEntries(
          BANK_COLUMNS.map((c) => [c.name, { kind: 'numeric' as const, fill: c.shift, clipLower: null, clipUpper: null, shift: c.shift, scale: c.scale, missingRate: 0 }]),
        ),
        featureNames: BANK_COLUMNS.map((c) => c.name),
        classes: ['no', 'yes'],
      },
      economics: { currency: 'EUR', costPerContact: 5, valuePerResponse: 60 },
      threshold: 0.5,
    },
    new Map([['model.onnx', model]]),
  );
}
