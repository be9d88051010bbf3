import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { listObjects, putJsonObject, putObject, readJsonObject } from '../adapters/s3/s3Objects.js';
import { DAY_MS } from '../core/constants.js';
import type { DriftReport } from '../core/drift/checkDrift.js';
import { parseDriftBaseline } from '../core/drift/driftBaseline.js';
import { emitDriftMetrics } from '../adapters/metrics/emitDriftMetrics.js';
import { driftReportKeys, runDriftCheck, selectRecentProfiles } from '../core/drift/runDriftCheck.js';
import { BundleError, PropensityError } from '../core/errors.js';
import { evaluateOnHoldout } from '../core/retrain/evaluateOnHoldout.js';
import { selectNewDataFiles } from '../core/retrain/labelledExtract.js';
import { retrainAndPromote, type RetrainOutcome } from '../core/retrain/retrainAndPromote.js';
import { shouldRetrain } from '../core/retrain/retrainPolicy.js';
import { idColumn, targetColumn } from '../core/spec/featureSpec.js';
import { train } from '../core/training/train.js';
import type { BundleFiles, ModelRegistry } from '../core/bundle/registry.js';
import type { ScheduledConfig } from './config.js';
import { gatherLabelledData, readOutcomes, splitHoldout, type ListedObject } from './labelledData.js';
import { realizedForRuns, type RunRealized } from './realizedRuns.js';
import { loadModel } from '../adapters/model/modelLoader.js';
import { tfjsTrainingRuntime } from '../adapters/model/tfjsTrainingRuntime.js';


export type LogFn = (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;

/** What the scheduled function works with: built once per cold start, `now` per invocation. */
export interface ScheduledContext {
  readonly client: S3Client;
  readonly config: ScheduledConfig;
  /** The S3 registry (`models/`), where retrained versions go. */
  readonly registry: ModelRegistry;
  /** The models shipped with the function: the champion until the S3 registry has one. */
  readonly bundled: ModelRegistry | undefined;
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

export type RetrainStep =
  | { readonly status: 'disabled' | 'skipped'; readonly reason: string }
  /** The new labelled data cannot train a model (e.g. a feature with no values): recorded, retried with the next data. */
  | { readonly status: 'failed'; readonly reason: string; readonly recordKey: string }
  | {
      readonly status: 'promoted' | 'refused';
      readonly reason: string;
      readonly challenger: string;
      readonly champion: string;
      readonly previousChampion: string | null;
      readonly trainRows: number;
      readonly holdoutRows: number;
      readonly recordKey: string;
    };

export interface ModelCheck {
  readonly model: string;
  readonly modelVersion: string;
  readonly drift: DriftOutcome;
  /** Realized beside expected performance of past runs, when outcomes arrived lately; null otherwise. */
  readonly realized: { readonly key: string; readonly runs: readonly RunRealized[] } | null;
  readonly retrain: RetrainStep;
}

/** The model's folders under `outputs/` and `labels/`, listed once per check. */
interface Listings {
  readonly outputs: readonly ListedObject[];
  readonly labels: readonly ListedObject[];
}

interface Champion {
  readonly files: BundleFiles;
  readonly origin: 'registry' | 'bundled';
}

async function resolveChampion(ctx: ScheduledContext, model: string): Promise<Champion> {
  if ((await ctx.registry.champion(model)) !== undefined) return { files: await ctx.registry.read(model), origin: 'registry' };
  if (!ctx.bundled) throw new BundleError('BUNDLE_NOT_FOUND', 'no champion in the registry and no bundled models', { bundle: model });
  return { files: await ctx.bundled.read(model), origin: 'bundled' };
}

/**
 * The nightly work for one model: the drift check of its recent runs (report, summary, EMF
 * metrics), then — when enough labelled outcomes arrived and the policy allows — a challenger
 * trained, judged against the champion on the same holdout, and promoted only if better.
 */
export async function checkModel(ctx: ScheduledContext, model: string): Promise<ModelCheck> {
  const champion = await resolveChampion(ctx, model);
  const { bucket, prefixes } = ctx.config;
  const listings: Listings = {
    outputs: await listObjects(ctx.client, bucket, `${prefixes.outputs}${model}/`),
    labels: await listObjects(ctx.client, bucket, `${prefixes.labels}${model}/`),
  };
  const drift = await checkDriftOfRecentRuns(ctx, model, champion.files, listings.outputs);
  const realized = await realizedPerformanceOfRuns(ctx, model, champion.files, listings);
  const retrain = ctx.config.retrain
    ? await retrainIfDue(ctx, model, champion, listings, drift)
    : ({ status: 'disabled', reason: 'RETRAIN=false' } as const);
  return { model, modelVersion: champion.files.manifest.version, drift, realized, retrain };
}

/** Outcomes that arrived in the lookback window, joined to the runs that scored those customers. */
async function realizedPerformanceOfRuns(ctx: ScheduledContext, model: string, champion: BundleFiles, listings: Listings): Promise<ModelCheck['realized']> {
  const { client, config, now } = ctx;
  const spec = champion.manifest.featureSpec.spec;
  const id = idColumn(spec);
  const target = targetColumn(spec);
  if (!id || !target || champion.manifest.task !== 'binary') return null;
  const folder = `${config.prefixes.labels}${model}/`;
  const since = new Date(now.getTime() - config.lookbackDays * DAY_MS);
  const labelKeys = selectNewDataFiles(listings.labels, { folder, since });
  if (labelKeys.length === 0) return null;
  const positiveClass = champion.manifest.positiveClass ?? champion.manifest.classes[1]!;
  const outcomes = await readOutcomes(client, config.bucket, labelKeys, { idColumn: id.name, targetColumn: target.name, positiveClass });
  const runs = await realizedForRuns({ client, bucket: config.bucket, outputs: listings.outputs, outcomes, now });
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

async function checkDriftOfRecentRuns(ctx: ScheduledContext, model: string, champion: BundleFiles, outputs: readonly ListedObject[]): Promise<DriftOutcome> {
  const { client, config, now } = ctx;
  const { manifest } = champion;
  if (manifest.baseline === undefined) return { status: 'no-runs', reason: `${model}@${manifest.version} has no drift baseline` };
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
    return { status: 'no-runs', reason };
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
  const alarmFiring = report.status === 'alert' || report.driftedFeatures.length > 0 || report.score?.level === 'alert';
  return { status: report.status, reportKey: keysOut.report, rows: report.rows, runs: profiles.length, driftedFeatures: report.driftedFeatures, alarmFiring, metricLines };
}

/** The training spec: `models/<model>/spec.json` in the bucket, else the one shipped beside the bundled model. */
async function readTrainingSpec(ctx: ScheduledContext, model: string): Promise<{ spec: unknown; source: string } | undefined> {
  const key = `${ctx.config.prefixes.models}${model}/spec.json`;
  const fromBucket = await readJsonObject(ctx.client, ctx.config.bucket, key);
  if (fromBucket !== undefined) return { spec: fromBucket, source: `s3://${ctx.config.bucket}/${key}` };
  if (!ctx.config.bundledModelsDir) return undefined;
  const file = path.join(ctx.config.bundledModelsDir, model, 'spec.json');
  try {
    return { spec: JSON.parse(await readFile(file, 'utf8')) as unknown, source: file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function retrainIfDue(ctx: ScheduledContext, model: string, champion: Champion, listings: Listings, drift: DriftOutcome): Promise<RetrainStep> {
  const { client, config, registry, now } = ctx;
  const { manifest } = champion.files;
  // Labels count as new once: every retraining writes a version, whose date moves this mark.
  const versions = await registry.listVersions(model);
  const since = new Date(Math.max(Date.parse(manifest.created), ...versions.map((v) => Date.parse(v.created))));
  const trainingPrefix = `${config.prefixes.training}${model}/`;
  const labelsPrefix = `${config.prefixes.labels}${model}/`;
  const trainingKeys = selectNewDataFiles(await listObjects(client, config.bucket, trainingPrefix), { folder: trainingPrefix, since });
  const labelKeys = selectNewDataFiles(listings.labels, { folder: labelsPrefix, since });
  if (trainingKeys.length === 0 && labelKeys.length === 0) return { status: 'skipped', reason: `no labelled data since ${since.toISOString()}` };

  const trainingSpec = await readTrainingSpec(ctx, model);
  if (!trainingSpec) return { status: 'skipped', reason: `no training spec (${config.prefixes.models}${model}/spec.json)` };
  const spec = manifest.featureSpec.spec;
  const positiveClass = manifest.positiveClass ?? manifest.classes[1]!;
  const negativeClass = manifest.classes.find((c) => c !== positiveClass) ?? manifest.classes[0]!;
  const data = await gatherLabelledData({ client, bucket: config.bucket, spec, positiveClass, negativeClass, trainingKeys, labelKeys, outputs: listings.outputs, now });
  for (const warning of data.warnings) ctx.log('warn', warning, { model });

  const trigger = { newLabels: data.table.records.length, alarmFiring: drift.status !== 'no-runs' && drift.alarmFiring };
  const decision = shouldRetrain(trigger, config.retrainPolicy);
  if (!decision.retrain) {
    ctx.log('info', 'no retraining', { model, reason: decision.reason });
    return { status: 'skipped', reason: decision.reason };
  }

  const { train: trainRows, holdout } = splitHoldout(data.table, config.holdoutFraction);
  if (champion.origin === 'bundled') {
    // Bring the shipped champion into the registry first, so the challenger is judged against it
    // and the history starts where scoring actually started.
    await registry.write(champion.files);
    await registry.promote(model, manifest.version, 'seeded from the model bundled with the function');
  }
  ctx.log('info', 'retraining', { model, reason: decision.reason, trainRows: trainRows.records.length, holdoutRows: holdout.records.length, sources: data.sources });
  const recordKey = driftReportKeys(model, now, config.prefixes.drift).retrain;
  let outcome: RetrainOutcome;
  try {
    outcome = await retrainAndPromote({
      registry,
      name: model,
      policy: config.retrainPolicy,
      data: trainRows,
      holdout,
      holdoutDescription: `${holdout.records.length} held-out rows of ${data.sources.length} labelled file(s) that arrived since ${since.toISOString()}`,
      trainChallenger: async (rows) =>
        (await train({ runtime: tfjsTrainingRuntime, data: rows, spec: trainingSpec.spec, specSource: trainingSpec.source, now, ...(config.trainingOverrides ? { overrides: config.trainingOverrides } : {}) })).bundle,
      // The champion's economics for both, so the profits compare like with like.
      evaluate: (bundle, rows) => evaluateOnHoldout(bundle, rows, { loadModel, economics: manifest.economics }),
      now,
      log: (line) => ctx.log('info', line, { model }),
    });
  } catch (error) {
    // Bad data is the data's fault, not the function's: say why in the record and go on with the other models.
    if (!(error instanceof PropensityError && error.isInputError)) throw error;
    ctx.log('warn', 'retraining failed on the new data', { model, code: error.code, reason: error.message });
    await putJsonObject(client, config.bucket, recordKey, { model, at: now.toISOString(), trigger: decision.reason, sources: data.sources, failed: { code: error.code, message: error.message } });
    return { status: 'failed', reason: error.message, recordKey };
  }
  await putJsonObject(client, config.bucket, recordKey, {
    model,
    at: now.toISOString(),
    trigger: decision.reason,
    sources: data.sources,
    warnings: data.warnings,
    trainRows: trainRows.records.length,
    holdoutRows: holdout.records.length,
    challenger: outcome.challenger.version,
    previousChampion: outcome.previousChampion,
    champion: outcome.champion,
    promoted: outcome.promoted,
    decision: outcome.decision,
    evaluations: outcome.evaluations,
  });
  ctx.log(outcome.promoted ? 'info' : 'warn', outcome.promoted ? 'challenger promoted' : 'challenger refused', {
    model,
    challenger: outcome.challenger.version,
    champion: outcome.champion,
    reason: outcome.decision.reason,
  });
  return {
    status: outcome.promoted ? 'promoted' : 'refused',
    reason: outcome.decision.reason,
    challenger: outcome.challenger.version,
    champion: outcome.champion,
    previousChampion: outcome.previousChampion,
    trainRows: trainRows.records.length,
    holdoutRows: holdout.records.length,
    recordKey,
  };
}
