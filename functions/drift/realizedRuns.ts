import type { S3Client } from '@aws-sdk/client-s3';
import { readJsonObject } from '../adapters/s3/s3Objects.js';
import { DAY_MS } from '../core/constants.js';
import { joinOutcomes, realizedPerformance, type RealizedPerformance } from '../core/drift/realizedPerformance.js';
import type { RunSummary } from '../core/engine/runSummary.js';
import { readS3Csv } from '../adapters/s3/s3Csv.js';
import { LABEL_JOIN_WINDOW_DAYS } from '../nightly/nightlySettings.js';
import type { ListedObject } from '../nightly/nightlyRuntime.js';

/** Realized figures of one past run, beside what it expected. */
export interface RunRealized {
  /** The run's output folder, e.g. `outputs/bank-marketing/<run-id>/`. */
  readonly run: string;
  readonly modelVersion: string;
  /** Customers of the run with an outcome, and without one yet. */
  readonly labelled: number;
  readonly unlabelled: number;
  readonly performance: RealizedPerformance;
}

/**
 * Once outcomes arrive: for every binary run of the last {@link LABEL_JOIN_WINDOW_DAYS} days with
 * labelled customers, the realized response rate, AUC, precision and recall of its selection,
 * and realized ROI beside the expected ROI, from the run's own `scores.csv` and `targets.csv`.
 */
export async function realizedForRuns(args: {
  readonly client: S3Client;
  readonly bucket: string;
  readonly outputs: readonly ListedObject[];
  readonly outcomes: ReadonlyMap<string, boolean>;
  readonly now: Date;
}): Promise<RunRealized[]> {
  const { client, bucket } = args;
  const oldest = args.now.getTime() - LABEL_JOIN_WINDOW_DAYS * DAY_MS;
  const results: RunRealized[] = [];
  const summaries = args.outputs.filter((o) => o.key.endsWith('/summary.json') && o.lastModified.getTime() >= oldest);
  for (const { key } of summaries) {
    const summary = (await readJsonObject(client, bucket, key)) as RunSummary | undefined;
    if (!summary || summary.model.task !== 'binary') continue;
    const run = key.slice(0, -'summary.json'.length);
    const targets = await readS3Csv(client, bucket, `${run}targets.csv`, ',');
    const targetValue = new Map(targets.records.map((r) => [r[0]!, Number(r[targets.header.indexOf('value')])]));
    const scores = await readS3Csv(client, bucket, `${run}scores.csv`, ',');
    const probability = scores.header.indexOf('probability');
    const constantValue = typeof summary.economics.valuePerResponse === 'number' ? summary.economics.valuePerResponse : 0;
    const joined = joinOutcomes(
      args.outcomes,
      scores.records.map((r) => ({
        id: r[0]!,
        probability: Number(r[probability]),
        selected: targetValue.has(r[0]!),
        value: targetValue.get(r[0]!) ?? constantValue,
      })),
    );
    if (joined.rows.length === 0) continue;
    results.push({
      run,
      modelVersion: summary.model.version,
      labelled: joined.rows.length,
      unlabelled: joined.unlabelled,
      performance: realizedPerformance(joined.rows, summary.economics),
    });
  }
  return results;
}
