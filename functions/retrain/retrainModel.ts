import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadModel } from '../adapters/model/modelLoader.js';
import { tfjsTrainingRuntime } from '../adapters/model/tfjsTrainingRuntime.js';
import { listObjects, putJsonObject, readJsonObject } from '../adapters/s3/s3Objects.js';
import type { DriftReport } from '../core/drift/checkDrift.js';
import { driftReportKeys } from '../core/drift/runDriftCheck.js';
import { DriftError, PropensityError } from '../core/errors.js';
import { evaluateOnHoldout } from '../core/retrain/evaluateOnHoldout.js';
import { selectNewDataFiles } from '../core/retrain/labelledExtract.js';
import { retrainAndPromote, type RetrainOutcome } from '../core/retrain/retrainAndPromote.js';
import { shouldRetrain } from '../core/retrain/retrainPolicy.js';
import { resolveTrainingSpec } from '../core/training/resolveTrainingSpec.js';
import { timeOrderOf } from '../core/training/timeOrder.js';
import { train } from '../core/training/train.js';
import { driftAlarmFiring } from '../nightly/driftAlarmFiring.js';
import { resolveChampion, type LogFn, type NightlyServices } from '../nightly/nightlyRuntime.js';
import type { RetrainConfig } from './config.js';
import { gatherLabelledData, splitHoldout } from './labelledData.js';

const HOUR_MS = 3600 * 1000;

/** What the retraining of one model works with: services built once per cold start, `now` per invocation. */
export interface RetrainContext extends Pick<NightlyServices, 'registry' | 'bundled' | 'spool'> {
  readonly client: S3Client;
  readonly config: RetrainConfig;
  readonly log: LogFn;
  readonly now: Date;
}

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

/** The drift function's latest report, as evidence for the `onlyOnAlarm` policy. */
export interface DriftEvidence {
  readonly reportKey: string;
  readonly alarmFiring: boolean;
}

/** The retrain function's result for one model. */
export interface ModelRetrain {
  readonly model: string;
  readonly modelVersion: string;
  /** The drift report the decision read (only with `onlyOnAlarm`); null when not needed or none is recent enough. */
  readonly driftEvidence: DriftEvidence | null;
  readonly retrain: RetrainStep;
}

/**
 * The nightly retraining of one model: when enough labelled outcomes arrived since the last
 * version and the policy allows (with `onlyOnAlarm`, the drift function's latest report must show
 * an alarm), a challenger is trained, judged against the champion on the same holdout, and
 * promoted only if better. Each attempt is recorded in `drift/<model>/<day>.retrain.json`.
 */
export async function retrainModel(ctx: RetrainContext, model: string): Promise<ModelRetrain> {
  const champion = await resolveChampion(ctx, model);
  const modelVersion = champion.files.manifest.version;
  if (!ctx.config.retrain) return { model, modelVersion, driftEvidence: null, retrain: { status: 'disabled', reason: 'RETRAIN=false' } };
  const driftEvidence = ctx.config.retrainPolicy.onlyOnAlarm ? await latestDriftEvidence(ctx, model) : null;
  const retrain = await retrainIfDue(ctx, model, champion, driftEvidence);
  return { model, modelVersion, driftEvidence, retrain };
}

/**
 * The newest drift report of the model (`drift/<model>/<day>.json`) written within the configured
 * age; the retrain function reads what the drift function wrote rather than checking again.
 * @throws DriftError when the newest report is not a drift report.
 */
async function latestDriftEvidence(ctx: RetrainContext, model: string): Promise<DriftEvidence | null> {
  const { client, config, now } = ctx;
  const folder = `${config.prefixes.drift}${model}/`;
  const oldest = now.getTime() - config.driftReportMaxAgeHours * HOUR_MS;
  const [newest] = (await listObjects(client, config.bucket, folder))
    .filter((o) => /^\d{4}-\d{2}-\d{2}\.json$/.test(o.key.slice(folder.length)) && o.lastModified.getTime() >= oldest)
    .sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime() || (a.key < b.key ? 1 : -1));
  if (!newest) {
    ctx.log('info', 'no recent drift report', { model, folder, maxAgeHours: config.driftReportMaxAgeHours });
    return null;
  }
  const report = (await readJsonObject(client, config.bucket, newest.key)) as Partial<DriftReport> | undefined;
  if (typeof report?.status !== 'string' || !Array.isArray(report.driftedFeatures)) {
    throw new DriftError(`s3://${config.bucket}/${newest.key} is not a drift report (no status or driftedFeatures)`);
  }
  return { reportKey: newest.key, alarmFiring: driftAlarmFiring(report as DriftReport) };
}

/** The training spec: `models/<model>/spec.json` in the bucket, else the one shipped beside the bundled model. */
async function readTrainingSpec(ctx: RetrainContext, model: string): Promise<{ spec: unknown; source: string } | undefined> {
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

async function retrainIfDue(
  ctx: RetrainContext,
  model: string,
  champion: Awaited<ReturnType<typeof resolveChampion>>,
  driftEvidence: DriftEvidence | null,
): Promise<RetrainStep> {
  const { client, config, registry, now } = ctx;
  const { manifest } = champion.files;
  // Labels count as new once: every retraining writes a version, whose date moves this mark.
  const versions = await registry.listVersions(model);
  const since = new Date(Math.max(Date.parse(manifest.created), ...versions.map((v) => Date.parse(v.created))));
  const trainingPrefix = `${config.prefixes.training}${model}/`;
  const labelsPrefix = `${config.prefixes.labels}${model}/`;
  const trainingKeys = selectNewDataFiles(await listObjects(client, config.bucket, trainingPrefix), { folder: trainingPrefix, since });
  const labelKeys = selectNewDataFiles(await listObjects(client, config.bucket, labelsPrefix), { folder: labelsPrefix, since });
  if (trainingKeys.length === 0 && labelKeys.length === 0) return { status: 'skipped', reason: `no labelled data since ${since.toISOString()}` };

  const trainingSpec = await readTrainingSpec(ctx, model);
  if (!trainingSpec) return { status: 'skipped', reason: `no training spec (${config.prefixes.models}${model}/spec.json)` };
  const spec = manifest.featureSpec.spec;
  const positiveClass = manifest.positiveClass ?? manifest.classes[1]!;
  const negativeClass = manifest.classes.find((c) => c !== positiveClass) ?? manifest.classes[0]!;
  // The runs' summaries name the extracts that late labels are joined to.
  const outputs = labelKeys.length > 0 ? await listObjects(client, config.bucket, `${config.prefixes.outputs}${model}/`) : [];
  const data = await gatherLabelledData({
    client,
    bucket: config.bucket,
    model,
    spec,
    positiveClass,
    negativeClass,
    trainingKeys,
    labelKeys,
    outputs,
    prefixes: config.prefixes,
    now,
    spool: ctx.spool,
    maxRows: config.maxTrainingRows,
  });
  for (const warning of data.warnings) ctx.log('warn', warning, { model });

  // Every labelled row counts as new, though at most maxTrainingRows of them are sampled to train on.
  const trigger = { newLabels: data.labelledRows, alarmFiring: driftEvidence?.alarmFiring ?? false };
  const decision = shouldRetrain(trigger, config.retrainPolicy);
  if (!decision.retrain) {
    ctx.log('info', 'no retraining', { model, reason: decision.reason });
    return { status: 'skipped', reason: decision.reason };
  }

  // The spec's time rule (training.order / timeColumn) also picks the holdout the promotion is judged on.
  const { training } = resolveTrainingSpec(trainingSpec.spec, { source: trainingSpec.source }).spec;
  const time = timeOrderOf(data.table, spec, training, Int32Array.from(data.table.records.keys()));
  const { train: trainRows, holdout } = splitHoldout(data.table, config.holdoutFraction, time);
  if (champion.origin === 'bundled') {
    // Bring the shipped champion into the registry first, so the challenger is judged against it
    // and the history starts where scoring actually started.
    await registry.write(champion.files);
    await registry.promote(model, manifest.version, 'seeded from the model bundled with the function');
  }
  ctx.log('info', 'retraining', { model, reason: decision.reason, trainRows: trainRows.records.length, holdoutRows: holdout.records.length, sources: data.sources });
  const recordKey = driftReportKeys(model, now, config.prefixes.drift).retrain;
  const sample = { labelledRows: data.labelledRows, sampledRows: data.table.records.length, maxRows: config.maxTrainingRows, byClass: data.byClass };
  const record = { model, at: now.toISOString(), trigger: decision.reason, ...(driftEvidence ? { driftReport: driftEvidence.reportKey } : {}), sources: data.sources, sample };
  let outcome: RetrainOutcome;
  try {
    outcome = await retrainAndPromote({
      registry,
      name: model,
      policy: config.retrainPolicy,
      data: trainRows,
      holdout,
      holdoutDescription: `${holdout.records.length} held-out ${time ? `latest rows (by ${time.by})` : 'rows'} of ${data.sources.length} labelled file(s) that arrived since ${since.toISOString()}`,
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
    await putJsonObject(client, config.bucket, recordKey, { ...record, failed: { code: error.code, message: error.message } });
    return { status: 'failed', reason: error.message, recordKey };
  }
  await putJsonObject(client, config.bucket, recordKey, {
    ...record,
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
