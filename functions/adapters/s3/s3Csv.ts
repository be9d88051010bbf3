import type { S3Client } from '@aws-sdk/client-s3';
import { readOutcomeLabels, type OutcomeLabels } from '../../core/drift/realizedPerformance.js';
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

/** Which columns of a label file hold the customer id and the outcome, and which outcome is a response. */
export interface OutcomeColumns {
  readonly idColumn: string;
  readonly targetColumn: string;
  readonly positiveClass: string;
}

/**
 * One label file's outcomes by customer id (CSV with a header: the id column, and `outcome` or the
 * target column), with the contact day of each when the file has a `contact_date` column.
 */
export async function readOutcomeFile(client: S3Client, bucket: string, key: string, options: OutcomeColumns): Promise<OutcomeLabels> {
  const { header, records } = await readS3Csv(client, bucket, key);
  const outcomeColumn = header.some((h) => h.toLowerCase() === 'outcome') ? 'outcome' : options.targetColumn;
  return readOutcomeLabels(header, records, { source: s3Url(bucket, key), idColumn: options.idColumn, outcomeColumn, positiveClass: options.positiveClass });
}

/** Outcomes by customer id from label files: a later file's outcome for the same customer overrides an earlier one. */
export async function readOutcomes(client: S3Client, bucket: string, keys: readonly string[], options: OutcomeColumns): Promise<Map<string, boolean>> {
  const outcomes = new Map<string, boolean>();
  for (const key of keys) {
    for (const [customer, responded] of (await readOutcomeFile(client, bucket, key, options)).outcomes) outcomes.set(customer, responded);
  }
  return outcomes;
}
