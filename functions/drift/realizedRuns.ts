import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { listRunIndexes, readRunIds, readRunIndex, runIndexRowsFromOutputs } from '../adapters/s3/runIndexStore.js';
import { isNotFound, putObject, readJsonObject, readObjectBytes } from '../adapters/s3/s3Objects.js';
import { DAY_MS, LABEL_JOIN_WINDOW_DAYS } from '../core/constants.js';
import { realizedPerformance, type LabelledScore, type OutcomeLabels, type RealizedPerformance } from '../core/drift/realizedPerformance.js';
import { responseGain, type CampaignEconomics } from '../core/economics/campaignEconomics.js';
import { OUTPUT_FILES } from '../core/engine/runOutputs.js';
import type { RunSummary } from '../core/engine/runSummary.js';
import type { SpoolFactory } from '../core/engine/spool.js';
import { DriftError } from '../core/errors.js';
import { incrementalFromOutcomes, type IncrementalResponse } from '../core/policy/incrementalResponse.js';
import { claimIndexedOutcomes, labelledScoreAt, type ClaimedRows } from '../core/runIndex/indexedOutcomes.js';
import { OutcomeClaims } from '../core/runIndex/outcomeClaims.js';
import { inChunks, indexDay, runIndexKey, type RunIndexRow } from '../core/runIndex/runIndex.js';
import type { ListedObject, LogFn } from '../nightly/nightlyRuntime.js';

/** Realized figures of one past run, beside what it expected. */
export interface RunRealized {
  /** The run's output folder, e.g. `outputs/bank-marketing/<run-id>/`. */
  readonly run: string;
  readonly modelVersion: string;
  /** Customers of the run with an outcome that answers it, and the rest of its scored customers. */
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
 * One label file joined to the runs its outcomes answer (see {@link OutcomeClaims}), kept in
 * `drift/<model>/realized-labels/<hash of key and upload time>.json.gz`. The runs it was joined
 * against are committed and never change, so the file is joined once, whatever the nights after.
 */
interface JoinedLabelFile {
  readonly labelFile: LabelFile;
  /** Labels that no run of the window scored (on their contact day, or before the file arrived). */
  readonly unmatched: number;
  readonly runs: readonly JoinedRun[];
}

/** A run's customers claimed by one label file, with what the realized figures need of the run. */
interface JoinedRun extends ClaimedRows {
  readonly runId: string;
  readonly run: string;
  readonly modelVersion: string;
  /** Lines of the run's scores.csv (its index): labelled + unlabelled. */
  readonly scoredRows: number;
  readonly economics: CampaignEconomics;
  readonly hasControl: boolean;
}

export interface RealizedForRunsArgs {
  readonly client: S3Client;
  readonly bucket: string;
  readonly model: string;
  readonly prefixes: { readonly outputs: string; readonly index: string; readonly drift: string };
  /** The model's `outputs/` listing (the runs' summaries; their LastModified is the commit time). */
  readonly outputs: readonly ListedObject[];
  /** The label files of the lookback window, oldest first: a later file's outcome for a customer of the same run wins. */
  readonly labelFiles: readonly LabelFile[];
  /** Reads one label file's outcomes (and contact days, when it has them). */
  readonly readLabels: (file: LabelFile) => Promise<Pick<OutcomeLabels, 'outcomes' | 'contactDay'>>;
  readonly now: Date;
  /** Temp storage for a run without an index, whose rows are joined from its own files. */
  readonly spool: SpoolFactory;
  readonly log: LogFn;
}

/** A binary run of the label-join window, as the realized step may read it. */
interface WindowRun {
  readonly runId: string;
  readonly run: string;
  readonly summaryKey: string;
  readonly committedAt: number;
  /** The UTC day of its index partition (its commit day). */
  readonly day: string;
}

/**
 * Realized beside expected figures of the runs that outcomes answer: response rate, AUC, the
 * selection's precision and recall, realized ROI beside expected ROI, and incremental response
 * for runs with a control group.
 *
 * Each outcome answers one run ({@link OutcomeClaims}): the newest run of its `contact_date`, or
 * the newest that scored the customer before the file arrived. A label file is joined once, runs
 * read newest first from their index (a run without one from its own files) until every label is
 * claimed, and the joined rows are kept under `drift/`; later nights read those rows back. So a
 * night's cost is its new label files' joins plus the labels of the lookback window, however many
 * runs the 120-day window holds. Memory: the labels of the window and one label file's join.
 */
export async function realizedForRuns(args: RealizedForRunsArgs): Promise<RunRealized[]> {
  let window: Promise<WindowRun[]> | undefined;
  const joins: JoinedLabelFile[] = [];
  for (const file of args.labelFiles) {
    const key = joinedLabelFileKey(args, file);
    const bytes = await readObjectBytes(args.client, args.bucket, key);
    if (bytes) {
      joins.push(JSON.parse(gunzipSync(bytes).toString('utf8')) as JoinedLabelFile);
      continue;
    }
    window ??= windowRuns(args);
    const joined = await joinLabelFile(args, file, await window);
    await putObject(args.client, args.bucket, key, gzipSync(JSON.stringify(joined)), 'application/gzip');
    if (joined.unmatched > 0) {
      args.log('info', 'outcomes answer no run of the window', { model: args.model, labelFile: file.key, unmatched: joined.unmatched });
    }
    joins.push(joined);
  }
  return realizedFromJoins(joins);
}

function joinedLabelFileKey(args: RealizedForRunsArgs, file: LabelFile): string {
  const hash = createHash('sha256').update(`${file.key}\n${file.lastModified}`).digest('hex').slice(0, 24);
  return `${args.prefixes.drift}${args.model}/realized-labels/${hash}.json.gz`;
}

/** The runs of the last {@link LABEL_JOIN_WINDOW_DAYS} days, newest first, with their index day. */
async function windowRuns(args: RealizedForRunsArgs): Promise<WindowRun[]> {
  const { client, bucket, model, prefixes } = args;
  const oldest = args.now.getTime() - LABEL_JOIN_WINDOW_DAYS * DAY_MS;
  const indexDays = new Map((await listRunIndexes(client, bucket, prefixes.index, model, indexDay(new Date(oldest)))).map((i) => [i.runId, i.day]));
  return args.outputs
    .filter((o) => o.key.endsWith('/summary.json') && o.lastModified.getTime() >= oldest)
    .map((o) => {
      const run = o.key.slice(0, -'summary.json'.length);
      const runId = run.slice(`${prefixes.outputs}${model}/`.length, -1);
      return { runId, run, summaryKey: o.key, committedAt: o.lastModified.getTime(), day: indexDays.get(runId) ?? indexDay(o.lastModified) };
    })
    .sort((a, b) => b.committedAt - a.committedAt || (a.runId < b.runId ? 1 : -1));
}

async function joinLabelFile(args: RealizedForRunsArgs, file: LabelFile, window: readonly WindowRun[]): Promise<JoinedLabelFile> {
  const claims = new OutcomeClaims(await args.readLabels(file));
  const arrived = Date.parse(file.lastModified);
  const runs: JoinedRun[] = [];
  for (const candidate of window) {
    if (claims.remaining === 0) break;
    const mayClaimUndated = candidate.committedAt <= arrived;
    if (!claims.wants(candidate.day, mayClaimUndated)) continue;
    const joined = await joinRun(args, candidate, claims, mayClaimUndated);
    if (joined) runs.push(joined);
  }
  return { labelFile: file, unmatched: claims.remaining, runs };
}

/**
 * Claims the labels one run answers. A run committed after the file arrived answers only outcomes
 * dated on its own day (`mayClaimUndated: false`): an undated outcome cannot follow a later run's contact.
 */
async function joinRun(args: RealizedForRunsArgs, candidate: WindowRun, claims: OutcomeClaims, mayClaimUndated: boolean): Promise<JoinedRun | null> {
  const { client, bucket } = args;
  const summary = (await readJsonObject(client, bucket, candidate.summaryKey)) as RunSummary | undefined;
  if (!summary || summary.model.task !== 'binary') return null;
  const rows = await indexRows(args, candidate);
  if (!rows) return null;
  // The gain per response, as the run's targets.csv `value` column holds it (× saveRate).
  const constantValue = typeof summary.economics.valuePerResponse === 'number' ? responseGain(summary.economics, summary.economics.valuePerResponse) : 0;
  // A run with a control group: its control.csv (a tenth or so of the selection) says who was held out.
  const control = summary.policy?.control ? await readRunIds(client, bucket, `${candidate.run}${OUTPUT_FILES.control}`) : undefined;
  const claimed = await claimIndexedOutcomes(claims, rows, { day: candidate.day, mayClaimUndated }, constantValue, control);
  if (claimed.ids.length === 0) return null;
  return {
    runId: candidate.runId,
    run: candidate.run,
    modelVersion: summary.model.version,
    scoredRows: summary.longLayout?.customersScored ?? summary.rows.scored,
    economics: summary.economics,
    hasControl: control !== undefined,
    ...claimed,
  };
}

/** A run's index rows, from its index or (without one) its own files; null for a run that never committed. */
async function indexRows(args: RealizedForRunsArgs, candidate: WindowRun): Promise<AsyncIterable<RunIndexRow[]> | null> {
  const { client, bucket } = args;
  const indexKey = runIndexKey(args.prefixes.index, args.model, new Date(candidate.day), candidate.runId);
  try {
    return await peekable(readRunIndex(client, bucket, indexKey));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  args.log('info', 'run has no index: joining its scores.csv and targets.csv', { model: args.model, run: candidate.run });
  const location = { bucket, outputsPrefix: args.prefixes.outputs, indexPrefix: args.prefixes.index, model: args.model, runId: candidate.runId };
  try {
    return inChunks((await runIndexRowsFromOutputs(client, location, args.spool)).rows);
  } catch (error) {
    // A summary without _SUCCESS: the run failed while committing; nothing of it counts.
    if (!(error instanceof DriftError)) throw error;
    args.log('warn', 'run left out of realized performance', { model: args.model, run: candidate.run, reason: error.message });
    return null;
  }
}

/** Starts the generator, so that a missing object fails here rather than in the join loop. */
async function peekable<T>(rows: AsyncGenerator<T>): Promise<AsyncIterable<T>> {
  const first = await rows.next();
  return {
    async *[Symbol.asyncIterator]() {
      if (first.done) return;
      yield first.value;
      yield* rows;
    },
  };
}

/** Per run, the labels of every joined file (a later file wins for the same customer), as realized figures. */
function realizedFromJoins(joins: readonly JoinedLabelFile[]): RunRealized[] {
  const byRun = new Map<string, { meta: JoinedRun; rows: Map<string, LabelledScore> }>();
  for (const join of joins) {
    for (const run of join.runs) {
      const entry = byRun.get(run.runId) ?? { meta: run, rows: new Map<string, LabelledScore>() };
      byRun.set(run.runId, entry);
      run.ids.forEach((id, i) => entry.rows.set(id, labelledScoreAt(run, i, run.hasControl)));
    }
  }
  return [...byRun.values()]
    .sort((a, b) => (a.meta.run < b.meta.run ? -1 : 1))
    .map(({ meta, rows }) => {
      const labelled = [...rows.values()];
      const { economics } = meta;
      const constantValue = typeof economics.valuePerResponse === 'number' ? responseGain(economics, economics.valuePerResponse) : null;
      return {
        run: meta.run,
        modelVersion: meta.modelVersion,
        labelled: labelled.length,
        unlabelled: meta.scoredRows - labelled.length,
        performance: realizedPerformance(labelled, economics),
        ...(meta.hasControl ? { incremental: incrementalFromOutcomes(labelled, economics, constantValue) } : {}),
      };
    });
}
