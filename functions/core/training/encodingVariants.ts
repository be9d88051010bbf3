import type { FeatureSpec, NumericEncoding } from '../spec/featureSpec.js';
import { encodeSplits, type EncodedSplits } from './encodeSplits.js';
import type { RecordLabels } from './labelRecords.js';
import { modelShapeFor, type ModelShape } from './modelShape.js';
import type { RowSplits } from './splitRows.js';
import type { Architecture, SearchSettings } from './trainingSpec.js';
import type { TrainingTable } from './trainingTable.js';

/** The rows encoded one way, and the model's shape over them. */
export interface EncodingVariant {
  readonly encoded: EncodedSplits;
  readonly shape: ModelShape;
}

/** The rows under the feature spec's own encoding, and under each numeric encoding the search may draw. */
export interface EncodingVariants {
  readonly own: EncodingVariant;
  /** By {@link encodingKey}; empty without `search.space.numericEncoding`. */
  readonly drawn: ReadonlyMap<string, EncodingVariant>;
}

/** Names a numeric encoding choice (`scale`, `ple16`). */
export function encodingKey(encoding: NumericEncoding): string {
  return encoding.encoding === 'ple' ? `ple${encoding.bins}` : encoding.encoding;
}

/** The variant a trial trained on: the spec's own, or the one of the encoding it drew. */
export function variantFor(variants: EncodingVariants, encoding: NumericEncoding | undefined): EncodingVariant {
  return (encoding && variants.drawn.get(encodingKey(encoding))) || variants.own;
}

/**
 * Fits and encodes the splits under the feature spec, and again under every `search.space.numericEncoding`
 * choice (as the spec's default numeric encoding; a column's own `encoding` still wins), so the
 * search can compare plain scaling with piecewise-linear bins on the same rows. Encoding is cheap next
 * to training: a few hundred ms for 40k rows.
 */
export async function encodeVariants(input: {
  readonly table: TrainingTable;
  readonly featureSpec: FeatureSpec;
  readonly labels: RecordLabels;
  readonly splits: RowSplits;
  readonly now: Date;
  readonly architecture: Architecture;
  readonly search: SearchSettings | undefined;
}): Promise<EncodingVariants> {
  const { table, featureSpec, labels, splits, now, architecture } = input;
  const encode = async (spec: FeatureSpec): Promise<EncodingVariant> => {
    const encoded = await encodeSplits(table, spec, labels, splits, now);
    return { encoded, shape: modelShapeFor(architecture, encoded.fitted, encoded.width, encoded.classes) };
  };
  const own = await encode(featureSpec);
  const drawn = new Map<string, EncodingVariant>();
  for (const encoding of input.search?.space.numericEncoding ?? []) {
    const key = encodingKey(encoding);
    if (!drawn.has(key)) drawn.set(key, await encode({ ...featureSpec, numericEncoding: encoding }));
  }
  return { own, drawn };
}
