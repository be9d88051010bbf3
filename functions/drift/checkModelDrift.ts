import type { S3Client } from '@aws-sdk/client-s3';
import { emitDriftMetrics } from '../adapters/metrics/emitDriftMetrics.js';
import { readOutcomeFile } from '../adapters/s3/s3Csv.js';
import { listObjects, putJsonObject, putObject, readJsonObject } from '../adapters/s3/s3Objects.js';
import type { BundleFiles } from '../core/bundle/registry.js';
import { DAY_MS } from '../core/constants.js';
import type { DriftReport } from '../core/drift/checkDrift.js';
import { parseDriftBaseline } from '../core/drift/driftBaseline.js';
import { driftReportKeys, runDriftCheck, selectRecentProfiles } from '../core/drift/runDriftCheck.js';
import { collectDriftHistory, DRIFT_HISTORY_LIMIT, isDriftHistoryFile, renderDriftReport } from '../core/report/driftReport.js';
import { selectNewDataFiles } from '../core/retrain/labelledExtract.js';
import { idColumn, targetColumn } from '../core/spec/featureSpec.js';
import { driftAlarmFiring } from '../nightly/driftAlarmFiring.js';
import { resolveChampion, type ListedObject, type LogFn, type NightlyServices } from '../nightly/nightlyRuntime.js';
import type { DriftConfig } from './config.js';
import { realizedForRuns, type RunRealized } from './realizedRuns.js';

/** What the drift check of one model works with: services built once per cold start, `now` per invocation. */
export interface DriftContext extends Pick<NightlyServices, 'registry' | 'bundled' | 'spool'> {
  readonly client: S3Client;
  readonly config: DriftConfig;
  readonly log: LogFn;
  readonly now: Date;
}

export type DriftOutcome =
  | { readonly status: 'no-runs'; readonly reason: string }
  | {
      readonly status: DriftReport['status'];
      readonly reportKey: string;
      readonly rows: number;
      readonly runs: number;
      readonly driftedFeatures: readonly string[];
      /** Whether the metrics just published breach a drift alarm (a feature or the score at alert level, or dataset drift). */
      readonly alarmFiring: boolean;
      readonly metricLines: number;
    };

/** The drift function's result for one model. */
export interface ModelDriftCheck {
  readonly model: string;
  readonly modelVersion: string;
  readonly drift: DriftOutcome;
  /** Realized beside expected performance of past runs, when outcomes arrived lately; null otherwise. */
  readonly realized: { readonly key: string; readonly runs: readonly RunRealized[] } | null;
}

/** The model's folders under `outputs/` and `labels/`, listed once per check. */
interface Listings {
  readonly outputs: readonly ListedObject[];
  readonly labels: readonly ListedObject[];
}

/**
 * The nightly drift work for one model, read-only outside `drift/`: the drift check of its recent
 * runs (report, summary, EMF metrics), then realized beside expected performance of past runs
 * when outcomes arrived in the lookback window.
 */
export async function checkModelDrift(ctx: DriftContext, model: string): Promise<ModelDriftCheck> {
  const champion = await resolveChampion(ctx, model);
  const { bucket, prefixes } = ctx.config;
  const listings: Listings = {
    outputs: await listObjects(ctx.client, bucket, `${prefixes.outputs}${model}/`),
    labels: await listObjects(ctx.client, bucket, `${prefixes.labels}${model}/`),
  };
  const { outcome: drift, report } = await checkDriftOfRecentRuns(ctx, model, champion.files, listings.outputs);
  const realized = await realizedPerformanceOfRuns(ctx, model, champion.files, listings);
  // The page is written last: its history includes tonight's realized figures.
  if (report) await writeDriftPage(ctx, model, report);
  return { model, modelVersion: champion.files.manifest.version, drift, realized };
}

/** `drift/<model>/<date>.html`: tonight's report with the history of the model's drift folder. */
async function writeDriftPage(ctx: DriftContext, model: string, report: DriftReport): Promise<void> {
  const { client, config, now } = ctx;
  const folder = `${config.prefixes.drift}${model}/`;
  const keys = (await listObjects(client, config.bucket, folder))
    .map((o) => o.key)
    .filter((key) => isDriftHistoryFile(key.slice(folder.length)))
    .sort()
    .slice(-2 * DRIFT_HISTORY_LIMIT);
  const files = [];
  for (const key of keys) files.push({ name: key.slice(folder.length), json: await readJsonObject(client, config.bucket, key) });
  const key = driftReportKeys(model, now, config.prefixes.drift).html;
  await putObject(client, config.bucket, key, await renderDriftReport(report, collectDriftHistory(files)), 'text/html; charset=utf-8');
}

/** Outcomes that arrived in the lookback window, joined to the runs that scored those customers. */
async function realizedPerformanceOfRuns(ctx: DriftContext, model: string, champion: BundleFiles, listings: Listings): Promise<ModelDriftCheck['realized']> {
  const { client, config, now } = ctx;
  const spec = champion.manifest.featureSpec.spec;
  const id = idColumn(spec);
  const target = targetColumn(spec);
  if (!id || !target || champion.manifest.task !== 'binary') return null;
  const folder = `${config.prefixes.labels}${model}/`;
  const since = new Date(now.getTime() - config.lookbackDays * DAY_MS);
  const labelKeys = selectNewDataFiles(listings.labels, { folder, since });
  if (labelKeys.length === 0) return null;
  const columns = { idColumn: id.name, targetColumn: target.name, positiveClass: champion.manifest.positiveClass ?? champion.manifest.classes[1]! };
  const labelled = new Map(listings.labels.map((o) => [o.key, o.lastModified.toISOString()]));
  const runs = await realizedForRuns({
    client,
    bucket: config.bucket,
    model,
    prefixes: config.prefixes,
    outputs: listings.outputs,
    labelFiles: labelKeys.map((key) => ({ key, lastModified: labelled.get(key)! })),
    readLabels: (file) => readOutcomeFile(client, config.bucket, file.key, columns),
    now,
    spool: ctx.spool,
    log: ctx.log,
  });
  if (runs.length === 0) return null;
  const key = driftReportKeys(model, now, config.prefixes.drift).realized;
  await putJsonObject(client, config.bucket, key, { model, at: now.toISOString(), labelFiles: labelKeys, runs });
  for (const run of runs) {
    const { selection } = run.performance;
    ctx.log('info', 'realized performance', {
      model,
      run: run.run,
      labelled: run.labelled,
      precision: selection.precision,
      expectedPrecision: selection.expectedPrecision,
      roi: selection.roi,
      expectedRoi: selection.expectedRoi,
    });
  }
  return { key, runs };
}

async function checkDriftOfRecentRuns(ctx: DriftContext, model: string, champion: BundleFiles, outputs: readonly ListedObject[]): Promise<{ outcome: DriftOutcome; report: DriftReport | null }> {
  const { client, config, now } = ctx;
  const { manifest } = champion;
  if (manifest.baseline === undefined) return { outcome: { status: 'no-runs', reason: `${model}@${manifest.version} has no drift baseline` }, report: null };
  const since = new Date(now.getTime() - config.lookbackDays * DAY_MS);
  const keys = selectRecentProfiles(outputs, { model, since, outputsPrefix: config.prefixes.outputs });
  const baselineId = parseDriftBaseline(manifest.baseline).id;
  const profiles = [];
  for (const key of keys) {
    const profile = await readJsonObject(client, config.bucket, key);
    // Runs of an earlier champion were counted on its own bins: they say nothing about this one.
    if ((profile as { baselineId?: unknown } | undefined)?.baselineId === baselineId) profiles.push({ source: `s3://${config.bucket}/${key}`, profile });
  }
  if (profiles.length === 0) {
    const reason = `no run of ${model}@${manifest.version} in the last ${config.lookbackDays} days (${keys.length} profile(s) of other versions)`;
    ctx.log('info', 'no drift check', { model, reason });
    return { outcome: { status: 'no-runs', reason }, report: null };
  }
  const { report, summary } = runDriftCheck({ baseline: manifest.baseline, profiles, options: config.driftOptions, model, modelVersion: manifest.version, now });
  const keysOut = driftReportKeys(model, now, config.prefixes.drift);
  await putJsonObject(client, config.bucket, keysOut.report, report);
  await putObject(client, config.bucket, keysOut.summary, summary, 'text/plain; charset=utf-8');
  const metricLines = emitDriftMetrics(report);
  ctx.log(report.status === 'alert' ? 'warn' : 'info', 'drift checked', {
    model,
    modelVersion: manifest.version,
    status: report.status,
    rows: report.rows,
    runs: profiles.length,
    driftedFeatures: report.driftedFeatures,
    report: `s3://${config.bucket}/${keysOut.report}`,
  });
  const outcome: DriftOutcome = {
    status: report.status,
    reportKey: keysOut.report,
    rows: report.rows,
    runs: profiles.length,
    driftedFeatures: report.driftedFeatures,
    alarmFiring: driftAlarmFiring(report),
    metricLines,
  };
  return { outcome, report };
}
