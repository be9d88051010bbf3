import { DriftError } from '../errors.js';
import type { LoadedBundle } from '../engine/loadBundle.js';
import { openExtract } from '../extract/readExtract.js';
import { layoutExpectation } from '../spec/columnLayout.js';
import { compileEncoder } from '../spec/rowEncoder.js';
import { BaselineBuilder } from './baselineBuilder.js';
import { EncodedBatch } from '../model/encodedBatch.js';
import type { DriftBaseline } from './driftBaseline.js';

/** Rows scored per model call while building a baseline. */
const BATCH_ROWS = 4096;

export interface SampleBaseline {
  readonly baseline: DriftBaseline;
  /** Rows of the sample the baseline was built from (encoded and scored). */
  readonly rows: number;
  /** Rows the reader or the encoder refused (they count in no distribution). */
  readonly rejected: number;
}

/**
 * The drift baseline of a model that was not trained here (`propensity baseline`): the feature
 * distributions of a sample extract, seen through the bundle's own row encoder (as a scoring run
 * profiles them), and the distribution of the model's scores on that sample. The sample should be
 * data the model is known to be right on (e.g. its training or validation data); feature importance
 * is unknown, so every feature weighs the same in the drift report.
 * @throws DriftError when no row of the sample could be encoded; ExtractError for an unreadable file.
 * @example
 * const { baseline } = await buildSampleBaseline(await loadBundle(files, loadModel), createReadStream('sample.csv'), 'sample.csv');
 */
export async function buildSampleBaseline(
  bundle: LoadedBundle,
  input: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  source: string,
): Promise<SampleBaseline> {
  const { featureSpec, model } = bundle;
  const { spec } = featureSpec;
  if (spec.long) throw new DriftError(`${source}: a baseline from a sample is built from wide extracts only (this spec reads a long layout)`);
  const extract = await openExtract(input, { source, header: spec.file.header, delimiter: spec.file.delimiter, expect: layoutExpectation(spec) });
  const builder = new BaselineBuilder(featureSpec);
  const encoder = compileEncoder(featureSpec, extract.header, source, { observer: builder });
  const batch = new EncodedBatch(encoder, BATCH_ROWS);
  let rows = 0;
  let rejected = 0;
  const flush = async () => {
    const filled = batch.rows;
    if (filled === 0) return;
    builder.score(await batch.scoreAndClear(model), filled, model.outputWidth);
    rows += filled;
  };
  try {
    for (let items = await extract.nextBatch(); items !== null; items = await extract.nextBatch()) {
      for (const item of items) {
        if (item.kind === 'reject' || batch.add(item.record.fields)) {
          rejected++;
          continue;
        }
        if (batch.full) await flush();
      }
    }
    await flush();
  } finally {
    extract.close();
  }
  if (rows === 0) throw new DriftError(`${source}: no row of the sample could be encoded (${rejected} refused): nothing to build a baseline from`);
  return { baseline: builder.build({ createdAt: new Date().toISOString() }), rows, rejected };
}
