import { describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../../../functions/adapters/model/onnxModel.js';
import { tfjsTrainingRuntime } from '../../../functions/adapters/model/tfjsTrainingRuntime.js';
import { parseFittedSpec } from '../../../functions/core/spec/featureSpec.js';
import { compileEncoder } from '../../../functions/core/spec/rowEncoder.js';
import { drawConfigs } from '../../../functions/core/training/searchHyperparameters.js';
import { train } from '../../../functions/core/training/train.js';
import { parseTrainingSpec } from '../../../functions/core/training/trainingSpec.js';
import { syntheticSpec, syntheticTable } from './trainingFixtures.js';

const NOW = new Date('2026-01-02T03:04:05Z');
const table = syntheticTable(1200, 3);
const testRows = Int32Array.from({ length: 240 }, (_, i) => i * 5);

describe('train with piecewise-linear numeric encoding', () => {
  it('the scoring path (stored fitted spec → encoder → ONNX) gives the probabilities the training path evaluated', async () => {
    // Prepare: x1 and x2 binned (8 quantile bins each), no search.
    const base = syntheticSpec();
    const spec = { ...base, featureSpec: { ...base.featureSpec, numericEncoding: { encoding: 'ple', bins: 8 } } };

    // Act
    const result = await train({ runtime: tfjsTrainingRuntime, data: table, spec, testRows, now: NOW });

    // Assess: 8 slots each for x1 and x2 (+ x1's missing indicator) + 3 plans + other.
    const { manifest, files } = result.bundle;
    expect(manifest.featureSpec.featureNames.filter((n) => n.includes('__ple'))).toHaveLength(16);
    expect(result.parity.maxAbsDiff).toBeLessThan(1e-5);
    const fitted = parseFittedSpec(JSON.parse(JSON.stringify(manifest.featureSpec)), 'manifest');
    const encoder = compileEncoder(fitted, table.header, table.source);
    const x = new Float32Array(testRows.length * encoder.width);
    testRows.forEach((record, i) => expect(encoder.encode(table.records[record]!, x, i * encoder.width)).toBeNull());
    const onnx = await loadOnnxModel(
      files.get(manifest.model.file)!,
      { inputName: manifest.model.inputName, outputName: manifest.model.outputName, inputWidth: encoder.width, outputWidth: 1 },
      { bundle: manifest.name, version: manifest.version },
    );
    const scored = await onnx.score(x, testRows.length);
    await onnx.dispose();
    expect(result.test.rows).toBe(testRows.length);
    let maxAbsDiff = 0;
    for (let i = 0; i < testRows.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(scored[i]! - result.test.probabilities[i]!));
    expect(maxAbsDiff).toBeLessThan(1e-5);
    expect(result.evaluation.rocAuc).toBeGreaterThan(0.75);
  });

  it('the search draws the numeric encoding per trial, and the bundle is encoded as the chosen trial was', async () => {
    // Prepare: 6 trials over plain scaling and two bin counts.
    const spec = syntheticSpec({
      search: { trials: 6, eta: 3, minEpochs: 2, timeBudgetSeconds: 600, space: { numericEncoding: [{ encoding: 'scale' }, { encoding: 'ple', bins: 4 }, { encoding: 'ple', bins: 8 }] } },
    });
    const parsed = parseTrainingSpec(spec);
    const drawn = drawConfigs(parsed.model, parsed.training, parsed.search!, parsed.training.seed);
    expect(drawn[0]!.numericEncoding).toBeUndefined();
    expect(drawn.slice(1).every((c) => c.numericEncoding && c.drawn['numericEncoding'] === c.numericEncoding)).toBe(true);

    // Act
    const result = await train({ runtime: tfjsTrainingRuntime, data: table, spec, testRows, now: NOW });

    // Assess: the fitted spec in the bundle has the chosen trial's bins (none for trial 0 or `scale`).
    const chosen = drawn[result.search.chosenTrial]!.numericEncoding;
    const bins = chosen?.encoding === 'ple' ? chosen.bins : 0;
    const names = result.bundle.manifest.featureSpec.featureNames;
    expect(names.filter((n) => n.startsWith('x2__ple'))).toHaveLength(bins);
    expect(result.search.trials.map((t) => t.drawn['numericEncoding'])).toEqual(drawn.map((c) => c.numericEncoding));
    expect(result.parity.maxAbsDiff).toBeLessThan(1e-5);
  });
});
