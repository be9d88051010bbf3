import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { RunSummary } from '../../core/engine/runSummary.js';
import { OUTPUT_FILES } from '../../core/engine/runOutputs.js';
import type { SpoolFactory } from '../../core/engine/spool.js';
import { endStream, writeText } from '../../core/engine/textStreams.js';
import { DriftError } from '../../core/errors.js';
import { openExtract } from '../../core/extract/readExtract.js';
import { joinRunIndex, type RunCsv } from '../../core/runIndex/joinRunIndex.js';
import { assertRunIndexHeader, formatRunIndexRow, parseRunIndexKey, RUN_INDEX_HEADER, runIndexKey, runIndexRowOf, type RunIndexRow } from '../../core/runIndex/runIndex.js';
import { s3Url } from './s3Csv.js';
import { getObjectStream, listChildPrefixes, listObjects, readJsonObject } from './s3Objects.js';
import { SUCCESS_FILE, type SuccessManifest } from './S3OutputTarget.js';

/** Where a run's outputs and its index live. */
export interface RunLocation {
  readonly bucket: string;
  readonly outputsPrefix: string;
  readonly indexPrefix: string;
  readonly model: string;
  readonly runId: string;
}

/** The run's output folder, `outputs/<model>/<run-id>/`. */
export const runFolder = (run: Pick<RunLocation, 'outputsPrefix' | 'model' | 'runId'>): string => `${run.outputsPrefix}${run.model}/${run.runId}/`;

/** A CSV object of a run (its own output, or an index): its header and its records a parsed chunk at a time. */
interface RunCsvBatches {
  readonly header: readonly string[];
  readonly batches: AsyncIterable<ReadonlyArray<readonly string[]>>;
}

/**
 * Opens a run's CSV object. Records come a parsed chunk (a few thousand) at a time: an index of a
 * million rows is read on label nights, and a promise per row costs more than the parsing
 * (with the tracer's async hooks installed, several times more).
 */
async function openRunCsv(client: S3Client, bucket: string, key: string): Promise<RunCsvBatches> {
  const extract = await openExtract((await getObjectStream(client, bucket, key)).body, { source: s3Url(bucket, key), header: true, delimiter: ',' });
  async function* batches(): AsyncGenerator<Array<readonly string[]>> {
    for (let batch = await extract.nextBatch(); batch !== null; batch = await extract.nextBatch()) {
      const records: Array<readonly string[]> = [];
      for (const item of batch) if (item.kind === 'record') records.push(item.record.fields);
      if (records.length > 0) yield records;
    }
  }
  return { header: extract.header ?? [], batches: batches() };
}

/** The same records one at a time, for the join of a run's own files (a fallback: runs without an index). */
function recordByRecord(csv: RunCsvBatches): RunCsv {
  async function* records(): AsyncGenerator<readonly string[]> {
    for await (const batch of csv.batches) yield* batch;
  }
  return { header: csv.header, records: records() };
}

/** The ids (first column) of a run's CSV output, e.g. its control.csv. */
export async function readRunIds(client: S3Client, bucket: string, key: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const batch of (await openRunCsv(client, bucket, key)).batches) for (const record of batch) ids.add(record[0] ?? '');
  return ids;
}

/**
 * The index rows of a committed run built from its own `scores.csv` and `targets.csv` (streamed;
 * memory bounded as {@link joinRunIndex} says): what its index holds, for a run that has none.
 * @throws DriftError when the run has no `_SUCCESS` or no `summary.json` (not a committed run).
 */
export async function runIndexRowsFromOutputs(client: S3Client, run: RunLocation, spool: SpoolFactory): Promise<{ committedAt: Date; rows: AsyncIterable<RunIndexRow> }> {
  const folder = runFolder(run);
  const manifest = (await readJsonObject(client, run.bucket, `${folder}${SUCCESS_FILE}`)) as Partial<SuccessManifest> | undefined;
  const summary = (await readJsonObject(client, run.bucket, `${folder}${OUTPUT_FILES.summary}`)) as Partial<RunSummary> | undefined;
  if (typeof manifest?.completedAt !== 'string' || typeof summary?.selected !== 'number') {
    throw new DriftError(`${s3Url(run.bucket, folder)}: not a committed run (no ${SUCCESS_FILE} or summary); it has no index`);
  }
  const scores = recordByRecord(await openRunCsv(client, run.bucket, `${folder}${OUTPUT_FILES.scores}`));
  const targets = recordByRecord(await openRunCsv(client, run.bucket, `${folder}${OUTPUT_FILES.targets}`));
  return { committedAt: new Date(manifest.completedAt), rows: joinRunIndex({ source: s3Url(run.bucket, folder), scores, targets, selected: summary.selected, spool }) };
}

/**
 * Writes a committed run's index (see `functions/core/runIndex/runIndex.ts` for layout and format),
 * streamed: rows → gzip → multipart upload. The key depends only on the run (its commit day and
 * id), so writing it again overwrites it with the same rows.
 * @returns the key, the rows and the compressed bytes written.
 */
export async function writeRunIndex(client: S3Client, run: RunLocation, spool: SpoolFactory): Promise<{ key: string; rows: number; bytes: number }> {
  const { committedAt, rows } = await runIndexRowsFromOutputs(client, run, spool);
  const key = runIndexKey(run.indexPrefix, run.model, committedAt, run.runId);
  const gzip = createGzip();
  let bytes = 0;
  const counted = gzip.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    }),
  );
  const upload = new Upload({ client, params: { Bucket: run.bucket, Key: key, Body: counted, ContentType: 'application/gzip' }, partSize: 5 * 1024 * 1024, queueSize: 2, leavePartsOnError: false });
  const done = upload.done();
  // Keep a failed upload from becoming an unhandled rejection while the rows are still being written.
  done.catch(() => undefined);
  let count = 0;
  try {
    let text = `${RUN_INDEX_HEADER.join(',')}\n`;
    for await (const row of rows) {
      text += formatRunIndexRow(row);
      count++;
      if (text.length > 1 << 16) {
        await writeText(gzip, text);
        text = '';
      }
    }
    await writeText(gzip, text);
    await endStream(gzip);
    await done;
  } catch (error) {
    gzip.destroy();
    await upload.abort().catch(() => undefined);
    throw error;
  }
  return { key, rows: count, bytes };
}

/** A run index found in the listing. */
export interface ListedRunIndex {
  readonly key: string;
  readonly day: string;
  readonly runId: string;
}

/**
 * The model's run indexes whose day partition is `sinceDay` or later: only those day folders are
 * listed, so older partitions cost nothing.
 */
export async function listRunIndexes(client: S3Client, bucket: string, indexPrefix: string, model: string, sinceDay: string): Promise<ListedRunIndex[]> {
  const folder = `${indexPrefix}${model}/`;
  const days = (await listChildPrefixes(client, bucket, folder)).filter((day) => day >= sinceDay).sort();
  const found: ListedRunIndex[] = [];
  for (const day of days) {
    for (const { key } of await listObjects(client, bucket, `${folder}${day}/`)) {
      const parsed = parseRunIndexKey(key, indexPrefix, model);
      if (parsed) found.push({ key, ...parsed });
    }
  }
  return found;
}

/**
 * Streams the rows of a run index, a parsed chunk (a few thousand rows) at a time.
 * @throws DriftError when the object is not a run index.
 */
export async function* readRunIndex(client: S3Client, bucket: string, key: string): AsyncGenerator<RunIndexRow[]> {
  const csv = await openRunCsv(client, bucket, key);
  assertRunIndexHeader(csv.header, s3Url(bucket, key));
  for await (const batch of csv.batches) yield batch.map(runIndexRowOf);
}
