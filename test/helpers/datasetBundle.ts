import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { openExtract } from '../../functions/core/extract/readExtract.js';
import { buildLogisticOnnx, buildSoftmaxOnnx } from '../../functions/core/model/onnxFixtures.js';
import { parseFeatureSpec } from '../../functions/core/spec/featureSpec.js';
import { fitSpec } from '../../functions/core/spec/fitSpec.js';
import { createBundle } from '../../functions/core/bundle/bundle.js';
import { writeBundleDir } from '../../functions/adapters/fs/bundleDir.js';

export { DATASETS, dataset } from './datasets.js';

/**
 * Fits a spec on a real dataset file and bundles it with a fixed-weight linear model (logistic
 * for binary, softmax for multiclass): a real spec on real data, independent of training.
 */
export async function writeDatasetBundle(options: { specFile: string; data: string; name: string; dir: string; actions?: Record<string, string> }) {
  const spec = parseFeatureSpec(JSON.parse(await readFile(options.specFile, 'utf8')), options.specFile);
  const extract = await openExtract(createReadStream(options.data), { source: options.data, header: spec.file.header, delimiter: spec.file.delimiter });
  async function* records() {
    for await (const item of extract.items) if (item.kind === 'record') yield item.record.fields;
  }
  const fitted = await fitSpec(spec, { header: extract.header, records: records() }, { source: options.data, now: new Date('2026-11-01T00:00:00Z') });
  const width = fitted.featureNames.length;
  const classes = fitted.classes!;
  const binary = classes.length === 2;
  const weights = Array.from({ length: width }, (_, i) => 0.2 * ((i % 5) - 2));
  const model = binary
    ? buildLogisticOnnx(weights, -1, { inputName: 'features', outputName: 'probability' })
    : buildSoftmaxOnnx(
        weights.map((w, i) => classes.map((_, k) => (k === i % classes.length ? w + 0.1 : -w))),
        classes.map(() => 0),
        { inputName: 'features', outputName: 'probabilities' },
      );
  const bundle = createBundle(
    {
      schemaVersion: 1,
      name: options.name,
      version: 'fixed-weights',
      created: '2026-11-01T00:00:00Z',
      task: binary ? 'binary' : 'multiclass',
      classes,
      ...(binary ? { positiveClass: classes[1] } : {}),
      format: 'onnx',
      model: binary
        ? { file: 'model.onnx', inputName: 'features', outputName: 'probability', output: 'positive-probability' }
        : { file: 'model.onnx', inputName: 'features', outputName: 'probabilities', output: 'class-probabilities' },
      featureSpec: fitted,
      economics: { costPerContact: 5, valuePerResponse: 120, fixedCost: 500 },
      ...(options.actions ? { actions: options.actions } : {}),
    },
    new Map([['model.onnx', model]]),
  );
  await writeBundleDir(options.dir, bundle);
  return bundle;
}
