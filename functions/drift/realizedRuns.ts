import { responseGain } from '../core/economics/campaignEconomics.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { listRunIndexes, readRunIds, readRunIndex, runIndexRowsFromOutputs } from '../adapters/s3/runIndexStore.js';
import { OUTPUT_FILES } from '../core/engine/runOutputs.js';
import { incrementalFromOutcomes, type IncrementalResponse } from '../core/policy/incrementalResponse.js';
import { putJsonObject, readJsonObject } from '../adapters/s3/s3Objects.js';
import { DAY_MS } from '../core/constants.js';
import { DriftError } from '../core/errors.js';
import { realizedPerformance, type RealizedPerformance } from '../core/drift/realizedPerformance.js';
import type { RunSummary } from '../core/engine/runSummary.js';
import type { SpoolFactory } from '../core/engine/spool.js';
import { joinIndexedOutcomes } from '../core/runIndex/indexedOutcomes.js';
import { indexDay, type RunIndexRow } from '../core/runIndex/runIndex.js';
import { LABEL_JOIN_WINDOW_DAYS } from '../nightly/nightlySettings.js';
import type { ListedObject, LogFn } from '../nightly/nightlyRuntime.js';

/** Realized figures of one past run, beside what it expected. */
export interface RunRealized {
  /** The run's output folder, e.g. `outputs/bank-marketing/<run-id>/`. */
  readonly run: string;
  readonly modelVersion: string;
  /** Customers of the run with an outcome, and without one yet. */
  readonly labelled: number;
  readonly unlabelled: number;
  readonly performance: RealizedPerformance;
  /** A run with a control group: treated vs control response, incremental responders and ROI with a 95 % interval; null when either group has no label yet. */
  readonly incremental?: IncrementalResponse | null;
}

/** A label file as the listing shows it: a new upload under the same key is a different file. */
export interface LabelFile {
  readonly key: string;
  readonly lastModified: string;
}

/**
 * What one run's realized figures were computed from, kept in `drift/<model>/realized-runs/<run-id>.json`:
 * while the label files of the lookback window stay the same, a run's figures cannot change (its
 * index never does), so the next night reads this instead of the run's index.
 */
interface RealizedRunRecord {
  readonly labelFiles: readonly LabelFile[];
  /** null: none of the run's customers is labelled. */
  readonly realized: RunRealized | null;
}

export interface RealizedForRunsArgs {
  readonly client: S3Client;
  readonly bucket: string;
  readonly model: string;
  readonly prefixes: { readonly outputs: string; readonly index: string; readonly drift: string };
  /** The model's `outputs/` listing (the runs' summaries). */
  readonly outputs: readonly ListedObject[];
  /** The label files the outcomes were read from (the cache's key). */
  readonly labelFiles: readonly LabelFile[];
  readonly outcomes: ReadonlyMap<string, boolean>;
  readonly now: Date;
  /** Temp storage for a run without an index, whose rows are joined from its own files. */
  readonly spool: SpoolFactory;
  readonly log: LogFn;
}

/**
 * Once outcomes arrive: for every binary run of the last {@link LABEL_JOIN_WINDOW_DAYS} days with
 * labelled customers, the realized response rate, AUC, precision and recall of its selection, and
 * realized ROI beside the expected ROI.
 *
 * Each run's customers come from its index (only the day partitions of the window are listed); a
 * run without one is joined from its own `scores.csv` and `targets.csv`, which gives the same rows.
 * Memory: the labels' `Map` (held by the caller) plus one run's labelled rows; the rows stream.
 * A run whose figures were computed from the same label files before is not read again.
 */
export async function realizedForRuns(args: RealizedForRunsArgs): Promise<RunRealized[]> {
  const { client, bucket, model, prefixes } = args;
  const oldest = args.now.getTime() - LABEL_JOIN_WINDOW_DAYS * DAY_MS;
  const indexes = new Map((await listRunIndexes(client, bucket, prefixes.index, model, indexDay(new Date(oldest)))).map((i) => [i.runId, i.key]));
  const labelFiles = JSON.stringify(args.labelFiles);
  const results: RunRealized[] = [];
  const summaries = args.outputs.filter((o) => o.key.endsWith('/summary.json') && o.lastModified.getTime() >= oldest);
  for (const { key } of summaries) {
    const run = key.slice(0, -'summary.json'.length);
    const runId = run.slice(`${prefixes.outputs}${model}/`.length, -1);
    const recordKey = `${prefixes.drift}${model}/realized-runs/${runId}.json`;
    const record = (await readJsonObject(client, bucket, recordKey)) as RealizedRunRecord | undefined;
    if (record && JSON.stringify(record.labelFiles) === labelFiles) {
      if (record.realized) results.push(record.realized);
      continue;
    }
    const realized = await realizeRun(args, { run, runId, summaryKey: key, indexKey: indexes.get(runId) });
    await putJsonObject(client, bucket, recordKey, { labelFiles: args.labelFiles, realized } satisfies RealizedRunRecord);
    if (realized) results.push(realized);
  }
  return results;
}

async function realizeRun(args: RealizedForRunsArgs, where: { run: string; runId: string; summaryKey: string; indexKey: string | undefined }): Promise<RunRealized | null> {
  const { client, bucket } = args;
  const summary = (await readJsonObject(client, bucket, where.summaryKey)) as RunSummary | undefined;
  if (!summary || summary.model.task !== 'binary') return null;
  let rows: AsyncIterable<RunIndexRow>;
  if (where.indexKey) {
    rows = readRunIndex(client, bucket, where.indexKey);
  } else {
    args.log('info', 'run has no index: joining its scores.csv and targets.csv', { model: args.model, run: where.run });
    const location = { bucket, outputsPrefix: args.prefixes.outputs, indexPrefix: args.prefixes.index, model: args.model, runId: where.runId };
    try {
      rows = (await runIndexRowsFromOutputs(client, location, args.spool)).rows;
    } catch (error) {
      // A summary without _SUCCESS: the run failed while committing; nothing of it counts.
      if (!(error instanceof DriftError)) throw error;
      args.log('warn', 'run left out of realized performance', { model: args.model, run: where.run, reason: error.message });
      return null;
    }
  }
  // The gain per response, as the run's targets.csv `value` column holds it (× saveRate).
  const constantValue = typeof summary.economics.valuePerResponse === 'number' ? responseGain(summary.economics, summary.economics.valuePerResponse) : 0;
  // A run with a control group: its control.csv (a tenth or so of the selection) says who was held out.
  const control = summary.policy?.control ? await readRunIds(client, bucket, `${where.run}${OUTPUT_FILES.control}`) : undefined;
  const joined = await joinIndexedOutcomes(args.outcomes, rows, constantValue, control);
  if (joined.rows.length === 0) return null;
  return {
    run: where.run,
    modelVersion: summary.model.version,
    labelled: joined.rows.length,
    unlabelled: joined.unlabelled,
    performance: realizedPerformance(joined.rows, summary.economics),
    ...(control ? { incremental: incrementalFromOutcomes(joined.rows, summary.economics, typeof summary.economics.valuePerResponse === 'number' ? constantValue : null) } : {}),
  };
}
