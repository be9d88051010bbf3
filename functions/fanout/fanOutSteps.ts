import type { S3Client } from '@aws-sdk/client-s3';
import { OUTPUT_FILES } from '../core/engine/runOutputs.js';
import { loadS3ContactPolicy, recordS3Contacts } from '../adapters/s3/s3ContactPolicy.js';
import { ExtractError } from '../core/errors.js';
import { resolveEconomics, type CampaignEconomics } from '../core/economics/campaignEconomics.js';
import type { LoadedBundle } from '../core/engine/loadBundle.js';
import { describeRunFailure, isRetryableError, type RunFailure } from '../core/engine/runFailure.js';
import { readExtractLayout, scorePart } from '../core/engine/scorePart.js';
import { scoredPartFromJson, scoredPartToJson } from '../core/engine/scoredPartJson.js';
import type { SpoolFactory } from '../core/engine/spool.js';
import { writeRunOutputs } from '../core/engine/writeRunOutputs.js';
import { planScoringParts } from '../core/engine/planScoringParts.js';
import { encoderHeader } from '../core/extract/longLayout.js';
import { compileEncoder } from '../core/spec/rowEncoder.js';
import { ERROR_FILE, S3OutputTarget, SUCCESS_FILE, type ErrorReport, type RunIdentity } from '../adapters/s3/S3OutputTarget.js';
import { getObjectRange, s3ByteRanges, type S3ObjectVersion } from '../adapters/s3/s3ByteRanges.js';
import { S3PartSpool, uploadSpool } from '../adapters/s3/s3PartSpool.js';
import { acquireRunLock, LOCK_FILE, releaseRunLock } from '../adapters/s3/runLock.js';
import { deleteKeys, headObject, listKeys, putJsonObject, readJsonObject } from '../adapters/s3/s3Objects.js';
import type { ChampionBundles } from '../score/championBundles.js';
import { readSidecarEconomics, RunInProgressError } from '../score/scoreS3Object.js';
import type { FanOutConfig } from './fanOutConfig.js';
import {
  executionNameFor,
  FanOutError,
  MAX_INLINE_PARTS,
  partPrefixOf,
  partsPrefixOf,
  planErrorKeyOf,
  RetryableStepError,
  type AbortTask,
  type FanOutRun,
  type PartResult,
  type PartTask,
  type PlannedRun,
  type RunPlan,
} from './fanOutRun.js';

/** What every step needs, built once per cold start (see `createFanOutRuntime`). */
export interface FanOutContext {
  readonly client: S3Client;
  readonly config: Pick<FanOutConfig, 'batchSize' | 'csvInjectionProtection' | 'limits' | 'layoutCheck' | 'partBytes' | 'fanOutLockTtlMs'> & Partial<Pick<FanOutConfig, 'contactPolicyPrefixes'>>;
  /** The champion of a model (the plan step fixes it for the run). */
  readonly champions: (bucket: string) => ChampionBundles;
  /** Exactly the version the plan fixed, from the registry it came from. */
  readonly pinnedBundle: (bucket: string, model: string, origin: PlannedRun['bundleOrigin'], version: string) => Promise<LoadedBundle>;
  /** Where a part's lines wait before they are uploaded (`tempFileSpool()`: Lambda's /tmp). */
  readonly spool: SpoolFactory;
  /** Structured log lines: keys, ids and counts only. */
  readonly log?: (message: string, attributes: Record<string, unknown>) => void;
}

const PART_FILE = 'part.json';
const sourceOf = (run: FanOutRun) => `s3://${run.bucket}/${run.key}`;
/** The extract's version every read of the run names (S3 refuses a changed object). */
const objectOf = (run: FanOutRun): S3ObjectVersion => ({ bucket: run.bucket, key: run.key, etag: run.etag, versionId: run.versionId });
/** The lock's owner is the execution: any retry of any step of it recognises the lock as its own. */
const lockOwnerOf = (run: FanOutRun) => `fan-out:${executionNameFor(run.runId)}`;
const runIdentityOf = (run: FanOutRun & Partial<PlannedRun>): RunIdentity => ({
  runId: run.runId,
  source: { bucket: run.bucket, key: run.key, etag: run.etag, versionId: run.versionId },
  ...(run.modelVersion ? { model: { name: run.model, version: run.modelVersion } } : {}),
});

/** A failure as the state machine should see it: retryable ones under the one name its Retry matches. */
function forStateMachine(error: unknown): unknown {
  return isRetryableError(error) ? new RetryableStepError(error instanceof Error ? error.message : String(error), { cause: error }) : error;
}

/** Writes a step's failure where the abort step finds it (never the cause chain: it may quote a row). */
async function recordFailure(context: FanOutContext, bucket: string, key: string, error: unknown): Promise<void> {
  await putJsonObject(context.client, bucket, key, describeRunFailure(error)).catch(() => undefined);
}

/**
 * The plan step: takes the run's `_LOCK` for the execution, fixes the champion version and the
 * economics, reads the extract's layout from its first bytes and splits it into line-aligned parts
 * of about `partBytes` with ranged GETs. A gzip extract is one part.
 *
 * @throws RunInProgressError when another delivery holds the lock (retryable); ExtractError for an
 * extract whose start is not an extract, or EXTRACT_TOO_LARGE past `maxBytes`
 */
export async function planRun(context: FanOutContext, run: FanOutRun): Promise<RunPlan> {
  const { client } = context;
  const lockKey = `${run.outputPrefix}${LOCK_FILE}`;
  const owner = lockOwnerOf(run);
  const locking = await acquireRunLock(client, run.outputBucket, lockKey, { runId: run.runId, ttlMs: context.config.fanOutLockTtlMs, owner });
  if (!locking.acquired && locking.heldBy?.owner !== owner) throw forStateMachine(new RunInProgressError(`s3://${run.outputBucket}/${run.outputPrefix}`, locking.heldBy?.expiresAt));
  try {
    const { bundle, origin } = await context.champions(run.outputBucket).resolve(run.model);
    const sidecar = await readSidecarEconomics(client, run.bucket, run.key);
    const economics = resolveEconomics(bundle.manifest.economics, sidecar?.value, sidecar?.source ?? `${bundle.location}manifest.json`);
    const object = await headObject(client, run.bucket, run.key);
    if (object?.contentLength === undefined) throw new FanOutError('plan', `${sourceOf(run)} is gone or has no size`, { isInputError: false });
    const bytes = s3ByteRanges(client, objectOf(run), object.contentLength);
    const maxBytes = context.config.limits?.maxBytes;
    const head = await bytes.read(0, 2);
    const gzip = head[0] === 0x1f && head[1] === 0x8b;
    if (!gzip && maxBytes !== undefined && bytes.size > maxBytes) {
      // A part counts only its own bytes: the whole file's bound is checked here, once.
      throw new ExtractError('EXTRACT_TOO_LARGE', `the extract is too large: more than ${maxBytes} bytes (MAX_EXTRACT_BYTES)`, { file: sourceOf(run), line: 1 });
    }
    const ranges = await planScoringParts(bytes, Math.max(1, Math.ceil(bytes.size / context.config.partBytes)), bundle, sourceOf(run));
    if (ranges.length > MAX_INLINE_PARTS) {
      throw new FanOutError('plan', `${ranges.length} parts exceed the ${MAX_INLINE_PARTS} a plan may hold inline: raise PART_BYTES`, { isInputError: true });
    }
    const first = await getObjectRange(client, objectOf(run), { start: 0, end: ranges[0]!.end });
    const layout = await readExtractLayout(first, bundle, sourceOf(run)).finally(() => first.destroy());
    // A header without the spec's columns fails here, once, rather than in every part.
    compileEncoder(bundle.featureSpec, bundle.featureSpec.spec.file.header ? encoderHeader(bundle.featureSpec.spec, layout.headerFields, sourceOf(run)) : null, sourceOf(run));
    const planned: PlannedRun = {
      ...run,
      modelVersion: bundle.manifest.version,
      bundleOrigin: origin,
      economics,
      layout,
      startedAt: new Date().toISOString(),
      partCount: ranges.length,
      lockOwner: owner,
    };
    context.log?.('fan-out planned', { runId: run.runId, key: run.key, bytes: bytes.size, parts: ranges.length, gzip, modelVersion: planned.modelVersion });
    return { run: planned, parts: ranges.map((range, index) => ({ index, ...range })) };
  } catch (error) {
    await recordFailure(context, run.outputBucket, planErrorKeyOf(run), error);
    throw forStateMachine(error);
  }
}

/**
 * The part step (one Distributed Map item): scores one byte range with the plan's layout, uploads
 * its spool channels and then `part.json` under `_parts/<index>/`, and disposes of its local spool.
 * A retried part overwrites its own objects. If the run was aborted meanwhile (its `error.json`
 * exists), the part deletes what it uploaded: the abort step may already have cleaned up.
 */
export async function scoreRunPart(context: FanOutContext, task: PartTask): Promise<PartResult> {
  const { client, config } = context;
  const { run, part } = task;
  const prefix = partPrefixOf(run, part.index);
  try {
    const bundle = await context.pinnedBundle(run.outputBucket, run.model, run.bundleOrigin, run.modelVersion);
    // Every part reads the same lists and history as of the run's start: the parts agree.
    const policy = await loadS3ContactPolicy(client, run.bucket, run.model, economicsOf(run), new Date(run.startedAt), run.runId, config.contactPolicyPrefixes);
    const input = await getObjectRange(client, objectOf(run), { start: part.start, end: part.end });
    const scored = await scorePart({
      input,
      source: sourceOf(run),
      bundle,
      economics: economicsOf(run),
      ...policy,
      spool: context.spool,
      batchSize: config.batchSize,
      runId: run.runId,
      csvInjectionProtection: config.csvInjectionProtection ?? true,
      ...(config.limits ? { limits: config.limits } : {}),
      // The whole-file run checks the file's first records only: so does the first part, alone.
      layoutCheck: part.index === 0 ? (config.layoutCheck ?? true) : false,
      // firstByte: the input limits count the whole file, as a single run would.
      ...(part.index === 0 ? {} : { part: { ...run.layout, firstLine: part.firstLine, firstByte: part.start } }),
    });
    try {
      await uploadSpool(client, run.outputBucket, prefix, scored.spool);
      // part.json last: its presence means the part is complete.
      await putJsonObject(client, run.outputBucket, `${prefix}${PART_FILE}`, scoredPartToJson(scored));
      await deleteKeys(client, run.outputBucket, [`${prefix}${ERROR_FILE}`]);
    } finally {
      await scored.spool.dispose();
    }
    if (await headObject(client, run.outputBucket, `${run.outputPrefix}${ERROR_FILE}`)) {
      await deleteKeys(client, run.outputBucket, await listKeys(client, run.outputBucket, prefix));
      throw new FanOutError('part', `part ${part.index} finished after the run was aborted; its objects were deleted`);
    }
    context.log?.('part scored', { runId: run.runId, part: part.index, rowsRead: scored.rowsRead, rowsScored: scored.rowsScored, rowsRejected: scored.rowsRejected });
    return { index: part.index, rowsRead: scored.rowsRead, rowsScored: scored.rowsScored, rowsRejected: scored.rowsRejected };
  } catch (error) {
    await recordFailure(context, run.outputBucket, `${prefix}${ERROR_FILE}`, error);
    throw forStateMachine(error);
  }
}

/** The merge step's answer: the run's counts, or `skipped` when `_SUCCESS` was already there (a retry). */
export type MergeResult = { readonly status: 'merged'; readonly rowsRead: number; readonly rowsScored: number; readonly rowsRejected: number; readonly selected: number } | { readonly status: 'skipped' };

/**
 * The merge step: reads every part back from S3 (part.json + streamed spool channels), writes the
 * run's outputs with `writeRunOutputs` (`_SUCCESS` last, exactly as a single run), then deletes
 * `_parts/` and releases the lock. On failure the target leaves `error.json`; the abort step cleans up.
 */
export async function mergeRun(context: FanOutContext, run: PlannedRun): Promise<MergeResult> {
  const { client } = context;
  const bucket = run.outputBucket;
  if (await headObject(client, bucket, `${run.outputPrefix}${SUCCESS_FILE}`)) {
    // A retry after the commit: only the history entry (rewritten, the same) and the clean-up are left.
    await recordContacts(context, run, undefined);
    await cleanUp(context, run);
    return { status: 'skipped' };
  }
  const target = new S3OutputTarget({ client, bucket, prefix: run.outputPrefix, run: runIdentityOf(run) });
  let summary;
  try {
    const bundle = await context.pinnedBundle(bucket, run.model, run.bundleOrigin, run.modelVersion);
    const parts = [];
    for (let index = 0; index < run.partCount; index++) {
      const prefix = partPrefixOf(run, index);
      const json = await readJsonObject(client, bucket, `${prefix}${PART_FILE}`);
      if (json === undefined) throw new FanOutError('merge', `part ${index} of ${run.partCount} has no ${PART_FILE}`);
      const channels = (json as { channels?: unknown }).channels;
      const spool = new S3PartSpool(client, bucket, prefix, Array.isArray(channels) ? channels.filter((c): c is string => typeof c === 'string') : []);
      parts.push(scoredPartFromJson(json, spool, `s3://${bucket}/${prefix}${PART_FILE}`));
    }
    ({ summary } = await writeRunOutputs(parts, { bundle, economics: economicsOf(run), output: target, source: sourceOf(run), startedAt: new Date(run.startedAt) }));
  } catch (error) {
    await target.abort(error);
    throw forStateMachine(error);
  }
  await recordContacts(context, run, summary.csvInjectionProtection);
  await cleanUp(context, run);
  context.log?.('fan-out merged', { runId: run.runId, parts: run.partCount, rows: summary.rows, selected: summary.selected });
  return { status: 'merged', rowsRead: summary.rows.read, rowsScored: summary.rows.scored, rowsRejected: summary.rows.rejected, selected: summary.selected };
}

/**
 * With a frequency cap, records the committed run's contacts: one run id, one history entry, so a
 * retried merge writes the same key again. `csvInjectionProtection` undefined: the function's setting.
 */
async function recordContacts(context: FanOutContext, run: PlannedRun, csvInjectionProtection: boolean | undefined): Promise<void> {
  if (!economicsOf(run).frequencyCap) return;
  const targets = { bucket: run.outputBucket, key: `${run.outputPrefix}${OUTPUT_FILES.targets}` };
  await recordS3Contacts(context.client, { bucket: run.bucket, model: run.model, runId: run.runId, targets }, new Date(run.startedAt), csvInjectionProtection ?? context.config.csvInjectionProtection ?? true, context.config.contactPolicyPrefixes);
}

/**
 * The abort step (the state machine's Catch): leaves `error.json` in the run's prefix (the merge's
 * own if it wrote one, else the plan's or the first failed part's recorded failure, else the error
 * Step Functions caught), never over a `_SUCCESS`; deletes `_parts/` (reject rows are customer data)
 * and releases the lock.
 */
export async function abortRun(context: FanOutContext, task: AbortTask): Promise<{ readonly status: 'aborted'; readonly error: RunFailure['error'] | undefined }> {
  const { client } = context;
  const { run } = task;
  const bucket = run.outputBucket;
  let failure: RunFailure | undefined;
  const done = await headObject(client, bucket, `${run.outputPrefix}${SUCCESS_FILE}`);
  const reported = await readJsonObject(client, bucket, `${run.outputPrefix}${ERROR_FILE}`).catch(() => undefined);
  if (!done && reported === undefined) {
    failure = (await recordedFailure(context, run)) ?? describeRunFailure(caughtError(task));
    const report: ErrorReport = { ...runIdentityOf(run), ...failure };
    await putJsonObject(client, bucket, `${run.outputPrefix}${ERROR_FILE}`, report);
  }
  await cleanUp(context, run);
  context.log?.('fan-out aborted', { runId: run.runId, error: failure?.error.code ?? (reported as RunFailure | undefined)?.error?.code });
  return { status: 'aborted', error: failure?.error ?? (reported as RunFailure | undefined)?.error };
}

/** The plan's recorded failure, else the failed part with the lowest index (the first in file order). */
async function recordedFailure(context: FanOutContext, run: FanOutRun): Promise<RunFailure | undefined> {
  const keys = await listKeys(context.client, run.outputBucket, partsPrefixOf(run));
  const partIndex = (key: string) => Number(key.slice(partsPrefixOf(run).length).split('/')[0]);
  const candidates = [
    ...keys.filter((k) => k === planErrorKeyOf(run)),
    ...keys.filter((k) => k.endsWith(`/${ERROR_FILE}`) && Number.isInteger(partIndex(k))).sort((a, b) => partIndex(a) - partIndex(b)),
  ];
  for (const key of candidates) {
    const failure = (await readJsonObject(context.client, run.outputBucket, key).catch(() => undefined)) as RunFailure | undefined;
    if (failure?.status === 'failed' && failure.error) return failure;
  }
  return undefined;
}

/** What Step Functions caught, by its error name only (its Cause may carry a library's message). */
function caughtError(task: AbortTask): FanOutError {
  const name = task.error?.Error ?? 'unknown';
  return new FanOutError('state machine', `the fan-out failed with ${name} before any step recorded why`);
}

/** Deletes every `_parts/` object of the run and releases its lock. */
async function cleanUp(context: FanOutContext, run: FanOutRun): Promise<void> {
  const { client } = context;
  await deleteKeys(client, run.outputBucket, await listKeys(client, run.outputBucket, partsPrefixOf(run)));
  await releaseRunLock(client, run.outputBucket, `${run.outputPrefix}${LOCK_FILE}`, lockOwnerOf(run));
}

function economicsOf(run: PlannedRun): CampaignEconomics {
  return resolveEconomics(run.economics, undefined, `fan-out plan of ${run.runId}`);
}
