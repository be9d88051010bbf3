import { Readable } from 'node:stream';
import { alignPartsToCustomers } from '../extract/customerBoundaries.js';
import { longLayoutFor } from '../extract/longLayout.js';
import { idColumn, missingMarkers } from '../spec/featureSpec.js';
import { planParts, type ByteRangeReader, type ExtractPart } from '../extract/planParts.js';
import type { LoadedBundle } from './loadBundle.js';
import { readExtractLayout } from './scorePart.js';

/** Bytes of the file's start read for its header when a long layout is possible. */
const HEADER_BYTES = 2 * 1024 * 1024;

/**
 * The parts a run scores an extract in: `planParts`' line-aligned byte ranges, and for a long
 * extract of a sequence bundle (its header has the spec's period column) those ranges moved to the
 * next change of customer (`alignPartsToCustomers`), so no customer is split between parts. The
 * same planner serves the worker threads (local files, S3) and the fan-out plan step.
 *
 * @example const plan = await planScoringParts(await localByteRanges(file), 4, bundle, file);
 */
export async function planScoringParts(bytes: ByteRangeReader, parts: number, bundle: LoadedBundle, source: string): Promise<ExtractPart[]> {
  const plan = await planParts(bytes, parts);
  const { spec } = bundle.featureSpec;
  if (plan.length === 1 || !spec.long) return plan;
  const head = await bytes.read(0, Math.min(plan[0]!.end, HEADER_BYTES));
  const layout = await readExtractLayout(Readable.from([head]), bundle, source);
  const long = longLayoutFor(spec, layout.headerFields, source);
  if (!long) return plan;
  // Records the reader refuses before their id (wrong field count, a missing id) belong to no customer.
  return alignPartsToCustomers(bytes, plan, { delimiter: layout.delimiter, idIndex: long.idIndex, fieldCount: long.fieldCount, missing: missingMarkers(idColumn(spec)!) });
}
