import { readLongCustomers } from '../extract/longLayout.js';
import { assertExtractHasRows, openExtract } from '../extract/readExtract.js';
import type { FeatureSpec } from '../spec/featureSpec.js';

/** A labelled extract not read yet: its bytes (plain or gzip) and the name every message gives it. */
export interface ExtractBytes {
  readonly source: string;
  readonly input: NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
}

/** Training rows in memory (training sets are small next to scoring extracts). */
export interface TrainingTable {
  readonly source: string;
  readonly header: readonly string[] | null;
  readonly records: readonly (readonly string[])[];
  /**
   * 0-based data-row index of each record in its file, counting rejected rows too, so a split
   * defined on the file's rows (bench/quality/splits) still points at the right records. Defaults to 0…n−1.
   */
  readonly rowIds?: Int32Array;
  /** Rows the reader rejected (bad quoting, wrong field count…). */
  readonly rejected?: number;
}

/**
 * Reads a training extract (CSV, gzipped or not) with the project's extract reader, laid out as the
 * feature spec's `file` section says. Rejected rows are counted, not fatal. A long extract of a
 * sequence spec (its header has `long.periodColumn`) gives one record per customer, in wide cells,
 * labelled by the customer's last row that has a label (see `LongCustomerReader`).
 * @param file names the bytes in every message (a path, an S3 URL)
 * @param input the bytes: a file stream, an S3 object body
 * @throws ExtractError for a file that cannot be read as a whole.
 */
export async function readTrainingTable(file: string, spec: FeatureSpec, input: ExtractBytes['input']): Promise<TrainingTable> {
  const extract = await openExtract(input, { source: file, header: spec.file.header, delimiter: spec.file.delimiter });
  const records: string[][] = [];
  const rowIds: number[] = [];
  let ordinal = 0;
  let rejected = 0;
  const long = readLongCustomers(spec, extract.header, file, extract.nextBatch);
  const nextBatch = long?.nextBatch ?? extract.nextBatch;
  for (let items = await nextBatch(); items !== null; items = await nextBatch()) {
    for (const item of items) {
      if (item.kind === 'record') {
        records.push(item.record.fields);
        rowIds.push(ordinal);
        // Long: a customer is one data row of the table (its wide pivot's row index).
        ordinal++;
      } else {
        rejected++;
        if (!long) ordinal++;
      }
    }
  }
  assertExtractHasRows(extract, file);
  return { source: file, header: long?.header ?? extract.header, records, rowIds: Int32Array.from(rowIds), rejected };
}
