import type { S3Client } from '@aws-sdk/client-s3';
import { listRunIndexes, readRunIndex, runIndexRowsFromOutputs } from '../adapters/s3/runIndexStore.js';
import { readOutcomeFile, s3Url } from '../adapters/s3/s3Csv.js';
import { getObjectStream, headObject, readJsonObject } from '../adapters/s3/s3Objects.js';
import { DAY_MS, LABEL_JOIN_WINDOW_DAYS } from '../core/constants.js';
import type { SpoolFactory } from '../core/engine/spool.js';
import { assertExtractHasRows, openExtract } from '../core/extract/readExtract.js';
import { extractLabeller } from '../core/retrain/labelledExtract.js';
import { DEFAULT_MAX_TRAINING_ROWS, StratifiedSample, TRAINING_SAMPLE_SEED, type ClassCounts } from '../core/retrain/stratifiedSample.js';
import { OutcomeClaims } from '../core/runIndex/outcomeClaims.js';
import { inChunks, indexDay } from '../core/runIndex/runIndex.js';
import { idColumn, targetColumn, type FeatureSpec } from '../core/spec/featureSpec.js';
import { inTimeOrder, latestCut, type TimeOrder } from '../core/training/timeOrder.js';
import type { TrainingTable } from '../core/training/trainingTable.js';
import type { ListedObject } from '../nightly/nightlyRuntime.js';

export interface LabelledData {
  /** The stratified sample of the new labelled rows, in one table laid out as the first file's header. */
  readonly table: TrainingTable;
  /** Labelled rows found before sampling: what counts towards `minNewLabels`. */
  readonly labelledRows: number;
  /** Rows per class found and kept (the class is the target's text). */
  readonly byClass: ClassCounts;
  /** Files the rows came from (`s3://…`), for the record. */
  readonly sources: readonly string[];
  readonly warnings: readonly string[];
}

/** Lays rows of files whose header lists the columns in another order out on the first file's header. */
class RowAligner {
  private header: readonly string[] | null | undefined;

  /** The table's header (the first file's); null for header-less files. */
  get tableHeader(): readonly string[] | null {
    return this.header ?? null;
  }

  /** A function that lays a record of a file with `header` out on the table's columns. */
  forFile(header: readonly string[] | null): (record: readonly string[]) => readonly string[] {
    if (this.header === undefined) this.header = header;
    const table = this.header;
    if (!table || !header || header.join('\u0000') === table.join('\u0000')) return (record) => record;
    const positions = table.map((name) => header.indexOf(name));
    return (record) => positions.map((p) => (p < 0 ? '' : (record[p] ?? '')));
  }
}

/**
 * Gathers a bounded, stratified sample of the labelled rows that arrived since the last training
 * (at most `maxRows`, each class keeping its share; see {@link StratifiedSample}):
 * - full labelled extracts under `training/<model>/`, streamed;
 * - outcome files under `labels/<model>/` (customer id + `outcome`), joined with the extracts that
 *   recent runs scored. Which run scored a labelled customer is read from the run indexes (runs
 *   of the last {@link LABEL_JOIN_WINDOW_DAYS} days, newest first; a customer scored in several
 *   runs is taken from the newest, or the newest of its `contact_date`: see {@link OutcomeClaims}), then only those runs' extracts are streamed, keeping only
 *   the labelled customers' rows.
 * Memory: the labels' ids (a `Map`) and the sample; no file is held whole.
 */
export async function gatherLabelledData(args: {
  readonly client: S3Client;
  readonly bucket: string;
  readonly model: string;
  readonly spec: FeatureSpec;
  readonly positiveClass: string;
  readonly negativeClass: string;
  /** New files under `training/<model>/`, oldest first. */
  readonly trainingKeys: readonly string[];
  /** New files under `labels/<model>/`, oldest first. */
  readonly labelKeys: readonly string[];
  /** The model's outputs listing (the runs' summaries). */
  readonly outputs: readonly ListedObject[];
  readonly prefixes: { readonly outputs: string; readonly index: string };
  readonly now: Date;
  /** Temp storage to join a run without an index from its own files. */
  readonly spool: SpoolFactory;
  /** @default DEFAULT_MAX_TRAINING_ROWS */
  readonly maxRows?: number;
  /** @default TRAINING_SAMPLE_SEED */
  readonly seed?: number;
}): Promise<LabelledData> {
  const { client, bucket, spec } = args;
  const sample = new StratifiedSample<readonly string[]>({ maxRows: args.maxRows ?? DEFAULT_MAX_TRAINING_ROWS, seed: args.seed ?? TRAINING_SAMPLE_SEED });
  const aligner = new RowAligner();
  const sources: string[] = [];
  const warnings: string[] = [];
  const target = targetColumn(spec);

  for (const key of args.trainingKeys) {
    const source = s3Url(bucket, key);
    const extract = await openExtract((await getObjectStream(client, bucket, key)).body, { source, header: spec.file.header, delimiter: spec.file.delimiter });
    const align = aligner.forFile(extract.header);
    const targetIndex = target ? (extract.header ? extract.header.indexOf(target.name) : spec.columns.indexOf(target)) : -1;
    for await (const item of extract.items) {
      if (item.kind !== 'record') continue;
      const row = align(item.record.fields);
      sample.offer(targetIndex >= 0 ? (item.record.fields[targetIndex] ?? '').trim() : '', row);
    }
    assertExtractHasRows(extract, source);
    sources.push(source);
  }

  if (args.labelKeys.length > 0) {
    const id = idColumn(spec);
    if (!id || !target || !spec.file.header) {
      warnings.push(`${args.labelKeys.length} label file(s) left out: joining outcomes needs a header, an id column and a target column in the feature spec`);
    } else {
      const outcomes = new Map<string, boolean>();
      const contactDay = new Map<string, string>();
      for (const key of args.labelKeys) {
        const labels = await readOutcomeFile(client, bucket, key, { idColumn: id.name, targetColumn: target.name, positiveClass: args.positiveClass });
        for (const [customer, responded] of labels.outcomes) {
          outcomes.set(customer, responded);
          const day = labels.contactDay?.get(customer);
          if (day === undefined) contactDay.delete(customer);
          else contactDay.set(customer, day);
        }
      }
      sources.push(...args.labelKeys.map((key) => s3Url(bucket, key)));
      const options = { idColumn: id.name, targetColumn: target.name, positiveClass: args.positiveClass, negativeClass: args.negativeClass };
      const claims = await claimLabelledCustomers({ ...args, claims: new OutcomeClaims({ outcomes, contactDay }), warnings });
      // Oldest run first, after the training extracts: rows come out in the order offered, which
      // a spec with `training.order: "file"` takes as time order.
      for (const run of [...claims.runs].reverse()) {
        const extract = await openExtract((await getObjectStream(client, run.bucket, run.key)).body, { source: run.source, header: true, delimiter: spec.file.delimiter });
        const labeller = extractLabeller(extract.header ?? [], run.source, options);
        const align = aligner.forFile(labeller.header);
        let labelled = 0;
        for await (const item of extract.items) {
          if (item.kind !== 'record') continue;
          const customer = labeller.idOf(item.record.fields);
          if (claims.runOf.get(customer) !== run.index) continue;
          const responded = outcomes.get(customer)!;
          sample.offer(responded ? args.positiveClass : args.negativeClass, align(labeller.label(item.record.fields, responded)));
          labelled++;
        }
        if (labelled > 0) sources.push(run.source);
      }
    }
  }
  const { rows, byClass } = sample.finish();
  return { table: { source: `${sources.length} labelled file(s)`, header: aligner.tableHeader, records: rows }, labelledRows: sample.seen, byClass, sources, warnings };
}

/** The runs whose extracts hold labelled customers, newest first, and which run each customer is taken from. */
interface Claims {
  readonly runs: ReadonlyArray<{ readonly index: number; readonly bucket: string; readonly key: string; readonly source: string }>;
  readonly runOf: ReadonlyMap<string, number>;
}

/**
 * Assigns each labelled customer to the newest run (of the label-join window) that scored it (of its contact day, when dated),
 * reading the runs' indexes (or, for a run without one, its own files) newest first, and stopping
 * once every label has its run. Runs whose extract is gone are passed over, with a warning.
 */
async function claimLabelledCustomers(args: {
  readonly client: S3Client;
  readonly bucket: string;
  readonly model: string;
  readonly outputs: readonly ListedObject[];
  readonly prefixes: { readonly outputs: string; readonly index: string };
  readonly now: Date;
  readonly spool: SpoolFactory;
  readonly claims: OutcomeClaims;
  readonly warnings: string[];
}): Promise<Claims> {
  const { client, bucket, model, prefixes } = args;
  const oldest = args.now.getTime() - LABEL_JOIN_WINDOW_DAYS * DAY_MS;
  const indexes = new Map((await listRunIndexes(client, bucket, prefixes.index, model, indexDay(new Date(oldest)))).map((i) => [i.runId, i]));
  const summaries = args.outputs
    .filter((o) => o.key.endsWith('/summary.json') && o.lastModified.getTime() >= oldest)
    .sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime());
  const { claims } = args;
  const runOf = new Map<string, number>();
  const runs: Array<Claims['runs'][number]> = [];
  for (const summaryObject of summaries) {
    if (claims.remaining === 0) break;
    const runId = summaryObject.key.slice(`${prefixes.outputs}${model}/`.length, -'/summary.json'.length);
    const indexed = indexes.get(runId);
    const day = indexed?.day ?? indexDay(summaryObject.lastModified);
    if (!claims.wants(day)) continue;
    const summary = (await readJsonObject(client, bucket, summaryObject.key)) as { source?: unknown } | undefined;
    const source = typeof summary?.source === 'string' ? summary.source : '';
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(source);
    if (!match) continue;
    if (!(await headObject(client, match[1]!, match[2]!))) {
      args.warnings.push(`${source} (scored by ${summaryObject.key}) is gone: its customers' labels cannot be joined`);
      continue;
    }
    const chunks = indexed
      ? readRunIndex(client, bucket, indexed.key)
      : inChunks((await runIndexRowsFromOutputs(client, { bucket, outputsPrefix: prefixes.outputs, indexPrefix: prefixes.index, model, runId }, args.spool)).rows);
    const index = runs.length;
    let claimed = 0;
    for await (const chunk of chunks) {
      for (const row of chunk) {
        const customer = row.id.trim();
        if (claims.claim(customer, day) === undefined) continue;
        runOf.set(customer, index);
        claimed++;
      }
      if (!claims.wants(day)) break;
    }
    if (claimed > 0) runs.push({ index, bucket: match[1]!, key: match[2]!, source });
  }
  if (claims.remaining > 0) args.warnings.push(`${claims.remaining} label(s) match no customer of the scored extracts of the last ${LABEL_JOIN_WINDOW_DAYS} days`);
  return { runs, runOf };
}

/**
 * Splits labelled rows into training rows and a holdout, deterministically (a multiplicative hash
 * of the row number), so a rerun of the same night judges on the same rows. When the training spec
 * orders rows in time (`time`, from `timeOrderOf`), the holdout is the latest `fraction` instead, as
 * `train` chooses its own, so champion and challenger are judged on the most recent period.
 */
export function splitHoldout(table: TrainingTable, fraction: number, time?: TimeOrder): { train: TrainingTable; holdout: TrainingTable } {
  const train: (readonly string[])[] = [];
  const holdout: (readonly string[])[] = [];
  if (time) {
    const ordered = inTimeOrder(Int32Array.from(table.records.keys()), time.times);
    const cut = latestCut(Array.from(ordered, (r) => time.times[r]!), fraction, 'labelled rows');
    ordered.forEach((r, i) => (i < cut ? train : holdout).push(table.records[r]!));
  } else {
    table.records.forEach((record, i) => {
      const u = (Math.imul(i + 1, 2654435761) >>> 0) / 2 ** 32;
      (u < fraction ? holdout : train).push(record);
    });
  }
  return {
    train: { source: `${table.source} (training part)`, header: table.header, records: train },
    holdout: { source: `${table.source} (holdout)`, header: table.header, records: holdout },
  };
}
