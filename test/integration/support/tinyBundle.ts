import { createBundle } from '../../../functions/core/bundle/bundle.js';
import type { BundleManifest } from '../../../functions/core/bundle/bundleManifest.js';

export { sha256Hex } from '../../../functions/core/bundle/bundle.js';

/**
 * A small but schema-valid bundle (manifest + a "model file" of known bytes), for registry tests
 * that exercise storage and hashing, not scoring.
 */
export function tinyBundle(version: string, modelBytes = `model bytes of ${version}`): {
  manifest: BundleManifest;
  files: Map<string, Uint8Array>;
} {
  const files = new Map([['model.onnx', new TextEncoder().encode(modelBytes)]]);
  const { manifest } = createBundle(
    {
      schemaVersion: 1,
      name: 'tiny',
      version,
      created: '2026-11-23T09:00:00.000Z',
      task: 'binary',
      classes: ['no', 'yes'],
      positiveClass: 'yes',
      format: 'onnx',
      model: { file: 'model.onnx', inputName: 'x', outputName: 'p', output: 'positive-probability' },
      featureSpec: {
        spec: { columns: [{ name: 'age', role: 'feature', type: 'numeric' }] },
        fittedAt: '2026-11-23T09:00:00.000Z',
        trainingRows: 3,
        columns: { age: { kind: 'numeric', fill: 40, clipLower: null, clipUpper: null, shift: 40, scale: 10, missingRate: 0 } },
        featureNames: ['age'],
      },
      economics: { costPerContact: 1, valuePerResponse: 10 },
    },
    files,
  );
  return { manifest, files };
}
