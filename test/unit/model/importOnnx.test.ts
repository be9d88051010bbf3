import { describe, expect, it } from 'vitest';
import { BundleError } from '../../../functions/core/errors.js';
import { importOnnx } from '../../../functions/core/model/importOnnx.js';
import { buildLogisticOnnx } from '../../../functions/core/model/onnxFixtures.js';
import { decodeOnnxModel } from '../../../functions/core/model/onnxGraph.js';
import { PANDAS_MISSING_MARKERS } from '../../../functions/core/spec/featureSpec.js';
import { buildPipelineOnnx } from '../../helpers/pipelineOnnx.js';

const NOW = new Date('2026-11-30T12:00:00Z');

function importError(run: () => unknown): BundleError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BundleError);
    return error as BundleError;
  }
  throw new Error('expected importOnnx to refuse the model');
}

describe('importOnnx: a whole pipeline', () => {
  it('derives one feature column per graph input: numbers passed as NaN when missing, strings fed as text, pandas missing tokens', () => {
    const { bundle, shape, removedZipMap } = importOnnx({ model: buildPipelineOnnx(), source: 'p.onnx', name: 'p', idColumn: 'customer_id', now: NOW });
    const { manifest } = bundle;
    expect(shape).toBe('pipeline');
    expect(removedZipMap).toBeNull();
    expect(manifest.featureSpec.spec.columns.map((c) => [c.name, c.role, c.type, c.impute?.strategy ?? null, c.feed ?? null])).toEqual([
      ['customer_id', 'id', 'categorical', null, null],
      ['age', 'feature', 'numeric', 'nan', null],
      ['income', 'feature', 'numeric', 'nan', null],
      ['channel', 'feature', 'categorical', null, 'string'],
    ]);
    expect(manifest.featureSpec.spec.columns[1]!.missing).toEqual([...PANDAS_MISSING_MARKERS]);
    expect(manifest.featureSpec.featureNames).toEqual(['age', 'income']);
    expect(manifest.featureSpec.textNames).toEqual(['channel']);
    // The OneHotEncoder's categories, for the drift profile.
    expect(manifest.featureSpec.columns['channel']).toMatchObject({ vocabulary: ['email', 'sms', 'web', '__other__'], otherIndex: 3 });
    expect(manifest.model).toMatchObject({ inputName: 'age', outputName: 'probabilities', output: 'class-probabilities' });
    expect(manifest).toMatchObject({ task: 'binary', classes: ['0', '1'], positiveClass: '1', economics: { placeholder: true } });
    expect(manifest.version).toMatch(/^2026-11-30T1200-[0-9a-f]{6}$/);
  });

  it('removes a final ZipMap, serves the tensor before it, and takes the classes from it', () => {
    const { bundle, removedZipMap, messages } = importOnnx({ model: buildPipelineOnnx({ zipMap: true }), source: 'z.onnx', name: 'z', now: NOW });
    expect(removedZipMap).toEqual({ node: 'ZipMap_output_probability', output: 'output_probability', servedInstead: 'probabilities' });
    expect(messages[0]).toContain('removed the final ZipMap node');
    const graph = decodeOnnxModel(bundle.files.get('model.onnx')!).graph!;
    expect(graph.node!.some((n) => n.opType === 'ZipMap')).toBe(false);
    expect(graph.output!.map((o) => o.name)).toEqual(['label', 'probabilities']);
    expect(bundle.manifest.classes).toEqual(['0', '1']);
  });

  it('refuses an input wider than one column, and classes that do not match the output', () => {
    const wide = buildLogisticOnnx([1, 2, 3], 0);
    expect(importError(() => importOnnx({ model: wide, source: 'wide.onnx', name: 'w' })).message).toBe(
      'wide.onnx: input "features" has shape [N, 3]: a pipeline input must be one column, [N, 1] (a wider input needs a features-only import with --spec)',
    );
    expect(importError(() => importOnnx({ model: buildPipelineOnnx(), source: 'p.onnx', name: 'p', classes: ['a', 'b', 'c'] })).message).toBe(
      'p.onnx: output "probabilities" has 2 columns, but there are 3 classes [a, b, c]',
    );
  });

  it('refuses bytes that are not ONNX, naming the file', () => {
    expect(importError(() => importOnnx({ model: new TextEncoder().encode('id,age\n1,2\n'), source: 'x.onnx', name: 'x' })).message).toMatch(/^x\.onnx: not an ONNX model/);
  });
});

describe('importOnnx: a features-only model', () => {
  const spec = {
    spec: { columns: [{ name: 'a', role: 'feature', scale: 'none' }, { name: 'b', role: 'feature', scale: 'none' }] },
    columns: {
      a: { kind: 'numeric', fill: 0, clipLower: null, clipUpper: null, shift: 0, scale: 1, missingRate: 0 },
      b: { kind: 'numeric', fill: 0, clipLower: null, clipUpper: null, shift: 0, scale: 1, missingRate: 0 },
    },
    featureNames: ['a', 'b'],
  };

  it('takes the spec when its slots fill the input, one probability per row as P(positive)', () => {
    const { bundle, shape } = importOnnx({ model: buildLogisticOnnx([1, 2], 0), source: 'lr.onnx', name: 'lr', spec, specSource: 'spec.json', now: NOW });
    expect(shape).toBe('features-only');
    expect(bundle.manifest.model).toMatchObject({ inputName: 'features', outputName: 'probability', output: 'positive-probability' });
    expect(bundle.manifest.model.inputs).toBeUndefined();
    expect(bundle.manifest.featureSpec).toMatchObject({ trainingRows: 0, fittedAt: NOW.toISOString() });
  });

  it('refuses a width mismatch and a graph with several inputs', () => {
    expect(importError(() => importOnnx({ model: buildLogisticOnnx([1, 2, 3], 0), source: 'lr.onnx', name: 'lr', spec, specSource: 'spec.json' })).message).toBe(
      'lr.onnx: spec.json encodes 2 slots, the model\'s input "features" takes 3',
    );
    expect(importError(() => importOnnx({ model: buildPipelineOnnx(), source: 'p.onnx', name: 'p', spec, specSource: 'spec.json' })).message).toMatch(
      /^p\.onnx: a features-only model takes one input, this one takes 3 \(age, income, channel\)/,
    );
  });
});
