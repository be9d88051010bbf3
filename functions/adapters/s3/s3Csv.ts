import type { S3Client } from '@aws-sdk/client-s3';
import { readOutcomeLabels } from '../../core/drift/realizedPerformance.js';
import { openExtract } from '../../core/extract/readExtract.js';
import { getObjectStream } from './s3Objects.js';

/** `s3://bucket/key`, as sources are named in reports and records. */
export const s3Url = (bucket: string, key: string): string => `s3://${bucket}/${key}`;

/** A small CSV object with a header line (label files, a run's own outputs), read whole; bad records are skipped. */
export async function readS3Csv(
  client: S3Client,
  bucket: string,
  key: string,
  delimiter: 'auto' | ',' = 'auto',
): Promise<{ header: string[]; records: string[][] }> {
  const extract = await openExtract((await getObjectStream(client, bucket, key)).body, { source: s3Url(bucket, key), header: true, delimiter });
  const records: string[][] = [];
  for await (const item of extract.items) if (item.kind === 'record') records.push(item.record.fields);
  return { header: extract.header ?? [], records };
}

/**
 * Outcomes by customer id from label files (CSV with a header: the id column, and `outcome` or the
 * target column). A later file's outcome for the same customer overrides an earlier one.
 */
export async function readOutcomes(
  client: S3Client,
  bucket: string,
  keys: readonly string[],
  options: { readonly idColumn: string; readonly targetColumn: string; readonly positiveClass: string },
): Promise<Map<string, boolean>> {
  const outcomes = new Map<string, boolean>();
  for (const key of keys) {
    const source = s3Url(bucket, key);
    const { header, records } = await readS3Csv(client, bucket, key);
    const outcomeColumn = header.some((h) => h.toLowerCase() === 'outcome') ? 'outcome' : options.targetColumn;
    const labels = readOutcomeLabels(header, records, { source, idColumn: options.idColumn, outcomeColumn, positiveClass: options.positiveClass });
    for (const [customer, responded] of labels.outcomes) outcomes.set(customer, responded);
  }
  return outcomes;
}
