import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, ExtractError, PropensityError } from '../core/errors.js';
import { resolveEconomics } from '../core/economics/campaignEconomics.js';
import { jsonSyntaxError } from '../core/validation.js';
import type { OutputFileRecord } from '../core/engine/outputTarget.js';
import { isRetryableError } from '../core/engine/runFailure.js';
import type { RunSummary } from '../core/engine/runSummary.js';
import type { SpoolFactory } from '../core/engine/spool.js';
import { S3OutputTarget, SUCCESS_FILE } from '../adapters/s3/S3OutputTarget.js';
import { acquireRunLock, LOCK_FILE } from '../adapters/s3/runLock.js';
import { writeRunIndex } from '../adapters/s3/runIndexStore.js';
import { describeError } from '../core/engine/runFailure.js';
import { runIndexKey } from '../core/runIndex/runIndex.js';
import { getObjectStream, headObject, isNotFound, readJsonObject, readObjectBytes, unquoteEtag, type S3ObjectStream } from '../adapters/s3/s3Objects.js';
import type { BundleOrigin, ChampionBundles } from './championBundles.js';
import { scoreExtractObject } from './scoreExtractObject.js';
import type { ScoreConfig } from './config.js';
import { fanOutIfLarge, type FanOutStarter } from './fanOutDecision.js';
import { OUTPUT_FILES } from '../core/engine/runOutputs.js';
import { loadS3ContactPolicy, recordS3Contacts } from '../adapters/s3/s3ContactPolicy.js';

/** Lambda's longest timeout (15 min) plus a minute: a lock this old belongs to an invocation that is dead. */
export const DEFAULT_RUN_LOCK_TTL_MS = 16 * 60 * 1000;

/** A minute without a byte of the extract: far beyond any pause S3 or a scoring batch causes. */
export const DEFAULT_EXTRACT_IDLE_TIMEOUT_MS = 60_000;

/**
 * Another delivery of the same event holds the run's lock and is scoring it now. Retryable: the
 * retry finds `_SUCCESS` and skips, or finds the lock gone (that run failed) and scores.
 */
export class RunInProgressError extends PropensityError {
  readonly output: string;
  readonly lockExpiresAt: string | undefined;
  constructor(output: string, lockExpiresAt: string | undefined) {
    super('RUN_IN_PROGRESS', `${output}: another delivery of this event is scoring it now${lockExpiresAt ? ` (its lock expires at ${lockExpiresAt})` : ''}; retry later`, { isInputError: false });
    this.output = output;
    this.lockExpiresAt = lockExpiresAt;
  }

  protected override context(): Record<string, unknown> {
    return { output: this.output, ...(this.lockExpiresAt ? { lockExpiresAt: this.lockExpiresAt } : {}) };
  }
}

/** Suffix of the optional per-run economics object that sits beside an extract. */
export const ECONOMICS_SIDECAR_SUFFIX = '.economics.json';

const EXTRACT_SUFFIX = /\.csv(\.gz)?$/i;

/** What the key of an extract says: `incoming/<model>/…/<file>.csv[.gz]`. */
export interface ExtractKey {
  readonly model: string;
  /** File name without `.csv` / `.csv.gz`, made safe for a key. */
  readonly stem: string;
}

/**
 * Reads the model name and file stem from an extract's key, or `undefined` when the key is not an
 * extract (another prefix, another suffix, no model folder, a sidecar).
 * @example parseExtractKey('incoming/bank-marketing/2026/11/calls.csv.gz') // { model: 'bank-marketing', stem: 'calls' }
 */
export function parseExtractKey(key: string, incomingPrefix = 'incoming/'): ExtractKey | undefined {
  const extract = splitExtractKey(key, incomingPrefix);
  return extract && MODEL_NAME.test(extract.model) ? extract : undefined;
}

/** What a model folder under `incoming/` may be called: a model name, as bundle manifests require. */
const MODEL_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** An extract's key split into its model folder (whatever it is) and file stem. */
function splitExtractKey(key: string, incomingPrefix: string): ExtractKey | undefined {
  if (!key.startsWith(incomingPrefix) || !EXTRACT_SUFFIX.test(key)) return undefined;
  const parts = key.slice(incomingPrefix.length).split('/');
  if (parts.length < 2) return undefined;
  const stem = parts.at(-1)!.replace(EXTRACT_SUFFIX, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'extract';
  return { model: parts[0]!, stem };
}

/** Where a refused drop's `error.json` goes: no model name starts with `_`, so it never meets a model's runs. */
export const REFUSED_OUTPUTS_FOLDER = '_refused';

/**
 * The run id: the file stem plus the first 12 hex digits of sha256(key, version or ETag). The same
 * object version always gets the same id (a redelivered event finds its run), a new upload a new one.
 * @example runIdFor('incoming/m/calls.csv', { etag: 'abc' }) // 'calls-3f…' (12 hex digits)
 */
export function runIdFor(key: string, identity: { etag?: string | undefined; versionId?: string | undefined }, incomingPrefix = 'incoming/'): string {
  const stem = splitExtractKey(key, incomingPrefix)?.stem ?? 'extract';
  const digest = createHash('sha256').update(`${key}\n${identity.versionId ?? identity.etag ?? ''}`).digest('hex');
  return `${stem}-${digest.slice(0, 12)}`;
}

export interface ScoreS3ObjectInput {
  readonly client: S3Client;
  /** Bucket of the extract (from the event). */
  readonly bucket: string;
  /** Object key, already URL-decoded. */
  readonly key: string;
  readonly etag?: string | undefined;
  readonly versionId?: string | undefined;
  readonly bundles: ChampionBundles;
  readonly config: Pick<ScoreConfig, 'bucket' | 'incomingPrefix' | 'outputsPrefix' | 'batchSize'> &
    Partial<Pick<ScoreConfig, 'csvInjectionProtection' | 'limits' | 'layoutCheck' | 'indexPrefix' | 'workers' | 's3Endpoint' | 'contactPolicyPrefixes'>>;
  /** Where scored and rejected lines wait for the merge (the runtime passes `tempFileSpool()`: Lambda's `/tmp`). */
  readonly spool: SpoolFactory;
  /**
   * How long a run's `_LOCK` holds off other deliveries of the same object version before it counts
   * as stale (its run crashed or timed out). Longer than the function timeout. Default {@link DEFAULT_RUN_LOCK_TTL_MS}.
   */
  readonly lockTtlMs?: number;
  /** A download of the extract with no byte for this long fails (retryable). Default {@link DEFAULT_EXTRACT_IDLE_TIMEOUT_MS}. */
  readonly extractIdleTimeoutMs?: number;
  /** Size of the object version (from the event); HeadObject asks when it is missing and a fan-out is configured. */
  readonly size?: number | undefined;
  /** Hands extracts above its threshold to the fan-out state machine instead of scoring them here. */
  readonly fanOut?: FanOutStarter | undefined;
  /** Structured log lines; never given customer data. */
  readonly log?: (level: 'info' | 'warn', message: string, attributes: Record<string, unknown>) => void;
}

interface RunBase {
  readonly key: string;
  readonly runId: string;
  readonly model: string;
  /** `s3://bucket/outputs/<model>/<run-id>/` */
  readonly outputs: string;
}

export type ScoreS3ObjectResult =
  | (RunBase & {
      readonly status: 'scored';
      readonly modelVersion: string;
      readonly bundleOrigin: BundleOrigin;
      readonly economicsSource: 'sidecar' | 'bundle';
      readonly summary: RunSummary;
      readonly files: OutputFileRecord[];
    })
  /** Too large for one function: the fan-out state machine scores it (`started` false: it already was). */
  | (RunBase & { readonly status: 'fanned-out'; readonly execution: string; readonly started: boolean; readonly bytes: number })
  /** `_SUCCESS` already exists for this object version: a redelivered or retried event. */
  | (RunBase & { readonly status: 'skipped' })
  /** The object was overwritten or deleted after the notification was sent: its successor has its own event. */
  | (RunBase & { readonly status: 'superseded'; readonly reason: 'changed' | 'deleted' })
  /** An extract in a folder that is not a model name (e.g. upper case): `error.json` says why, nothing is scored. */
  | (RunBase & { readonly status: 'refused'; readonly reason: string })
  /** Not an extract (wrong prefix or suffix, a sidecar): nothing to do. */
  | { readonly status: 'ignored'; readonly key: string };

/**
 * Scores one S3 object end to end: resolves the model's champion bundle, reads optional sidecar
 * economics, streams the extract through the scoring core and the outputs to
 * `outputs/<model>/<run-id>/`, `_SUCCESS` last. Idempotent per object version.
 *
 * On failure `error.json` is left under the run prefix (no `_SUCCESS`) and the error is rethrown.
 */
export async function scoreS3Object(input: ScoreS3ObjectInput): Promise<ScoreS3ObjectResult> {
  const { client, key, config } = input;
  const log = input.log ?? (() => undefined);
  const parsed = parseExtractKey(key, config.incomingPrefix);
  if (!parsed) {
    const extract = splitExtractKey(key, config.incomingPrefix);
    return extract ? refuseModelFolder(input, extract.model) : { status: 'ignored', key };
  }

  const outputBucket = config.bucket ?? input.bucket;
  const { versionId } = input;
  let { etag } = input;
  if (!etag && !versionId) {
    // Some notifications (e.g. s3rver's copy events) carry no ETag: ask the object itself.
    etag = (await headObject(client, input.bucket, key))?.etag;
  }
  const runId = runIdFor(key, { etag, versionId }, config.incomingPrefix);
  const prefix = `${config.outputsPrefix}${parsed.model}/${runId}/`;
  const base: RunBase = { key, runId, model: parsed.model, outputs: `s3://${outputBucket}/${prefix}` };

  if (await headObject(client, outputBucket, `${prefix}${SUCCESS_FILE}`)) {
    log('info', 'run already complete, skipping', { ...base });
    await indexRun(input, base, outputBucket, 'if-missing');
    return { ...base, status: 'skipped' };
  }
  if (input.fanOut) {
    const fanned = await fanOutIfLarge(client, { bucket: input.bucket, key, etag, versionId, model: parsed.model, runId, outputBucket, outputPrefix: prefix, size: input.size }, input.fanOut);
    if (fanned) {
      log('info', fanned.started ? 'extract fanned out to the state machine' : 'fan-out already started for this run', { ...base, ...fanned });
      return { ...base, status: 'fanned-out', ...fanned };
    }
  }

  // One delivery at a time per run: two deliveries of the same event must never mix their outputs.
  const locking = await acquireRunLock(client, outputBucket, `${prefix}${LOCK_FILE}`, { runId, ttlMs: input.lockTtlMs ?? DEFAULT_RUN_LOCK_TTL_MS });
  if (!locking.acquired) {
    log('warn', 'run in progress in another delivery, retry later', { ...base, lockExpiresAt: locking.heldBy?.expiresAt });
    throw new RunInProgressError(base.outputs, locking.heldBy?.expiresAt);
  }
  let result: ScoreS3ObjectResult;
  try {
    // The run may have completed between the check above and taking the lock.
    if (await headObject(client, outputBucket, `${prefix}${SUCCESS_FILE}`)) {
      log('info', 'run already complete, skipping', { ...base });
      result = { ...base, status: 'skipped' };
    } else {
      result = await scoreLockedRun(input, parsed, base, { outputBucket, prefix, etag, versionId });
    }
  } finally {
    await locking.lock.release();
  }
  if (result.status === 'scored') await indexRun(input, base, outputBucket, 'always');
  if (result.status === 'skipped') await indexRun(input, base, outputBucket, 'if-missing');
  return result;
}

/** Where run indexes go unless the config says otherwise. */
export const DEFAULT_INDEX_PREFIX = 'index/';

/**
 * Writes the committed run's index (`index/<model>/<day>/<run-id>.csv.gz`) for the nightly
 * functions. Never throws: the run is committed and stays so; without an index the nightly
 * functions read the run's own scores.csv and targets.csv, and a redelivery of the event (which
 * finds the run complete) writes the missing index.
 */
async function indexRun(input: ScoreS3ObjectInput, base: RunBase, bucket: string, when: 'always' | 'if-missing'): Promise<void> {
  const { client, config } = input;
  const log = input.log ?? (() => undefined);
  const run = { bucket, outputsPrefix: config.outputsPrefix, indexPrefix: config.indexPrefix ?? DEFAULT_INDEX_PREFIX, model: base.model, runId: base.runId };
  try {
    if (when === 'if-missing') {
      const manifest = (await readJsonObject(client, bucket, `${config.outputsPrefix}${base.model}/${base.runId}/${SUCCESS_FILE}`)) as { completedAt?: unknown } | undefined;
      if (typeof manifest?.completedAt !== 'string') return;
      if (await headObject(client, bucket, runIndexKey(run.indexPrefix, run.model, new Date(manifest.completedAt), run.runId))) return;
    }
    const index = await writeRunIndex(client, run, input.spool);
    log('info', 'run indexed', { ...base, index: `s3://${bucket}/${index.key}`, rows: index.rows, bytes: index.bytes });
  } catch (error) {
    log('warn', 'run index not written: the nightly functions will read the run\'s scores.csv and targets.csv instead', { ...base, error: describeError(error) });
  }
}

/** Scores a run whose lock this delivery holds. */
async function scoreLockedRun(
  input: ScoreS3ObjectInput,
  parsed: ExtractKey,
  base: RunBase,
  where: { outputBucket: string; prefix: string; etag: string | undefined; versionId: string | undefined },
): Promise<ScoreS3ObjectResult> {
  const { client, key, config } = input;
  const log = input.log ?? (() => undefined);
  const { outputBucket, prefix, etag, versionId } = where;
  const { runId } = base;
  const source = { bucket: input.bucket, key, etag, versionId };
  const target = new S3OutputTarget({ client, bucket: outputBucket, prefix, run: { runId, source } });
  let scoring = false;
  try {
    const { bundle, files: bundleFiles, origin } = await input.bundles.resolve(parsed.model);
    target.setModel({ name: bundle.manifest.name, version: bundle.manifest.version });
    const sidecar = await readSidecarEconomics(client, input.bucket, key);
    const economics = resolveEconomics(bundle.manifest.economics, sidecar?.value, sidecar?.source ?? `${bundle.location}manifest.json`);
    log('info', 'scoring extract', { ...base, modelVersion: bundle.manifest.version, bundleOrigin: origin, economicsSource: sidecar ? 'sidecar' : 'bundle' });
    const startedAt = new Date();
    // Suppression lists and the contact history sit in the extract's bucket, beside incoming/.
    const policy = await loadS3ContactPolicy(client, input.bucket, parsed.model, economics, startedAt, runId, input.config.contactPolicyPrefixes);

    const idleTimeoutMs = input.extractIdleTimeoutMs ?? DEFAULT_EXTRACT_IDLE_TIMEOUT_MS;
    const object = await openExtractVersion(client, input.bucket, key, { etag, versionId }, idleTimeoutMs);
    if (object === 'deleted' || object === 'changed') {
      // A later upload (or delete) has its own event and its own run: retrying this one cannot succeed.
      log('warn', 'extract changed since the notification, skipping', { ...base, reason: object });
      return { ...base, status: 'superseded', reason: object };
    }
    scoring = true; // from here on scoreExtract aborts the target itself
    const { summary, files } = await scoreExtractObject({
      client,
      object,
      version: { bucket: input.bucket, key, etag, versionId },
      endpoint: config.s3Endpoint,
      idleTimeoutMs,
      bundleFiles,
      workers: config.workers ?? 1,
      log,
      source: `s3://${input.bucket}/${key}`,
      bundle,
      economics,
      ...policy,
      output: target,
      spool: input.spool,
      batchSize: config.batchSize,
      runId,
      csvInjectionProtection: config.csvInjectionProtection ?? true,
      ...(config.limits ? { limits: config.limits } : {}),
      layoutCheck: config.layoutCheck ?? true,
    });
    if (economics.frequencyCap) {
      const history = await recordS3Contacts(client, { bucket: input.bucket, model: parsed.model, runId, targets: { bucket: outputBucket, key: `${prefix}${OUTPUT_FILES.targets}` } }, startedAt, summary.csvInjectionProtection, input.config.contactPolicyPrefixes);
      log('info', 'contacts recorded', { ...base, history: `s3://${input.bucket}/${history}` });
    }
    return {
      ...base,
      status: 'scored',
      modelVersion: bundle.manifest.version,
      bundleOrigin: origin,
      economicsSource: sidecar ? 'sidecar' : 'bundle',
      summary,
      files,
    };
  } catch (error) {
    if (!scoring) await target.abort(error);
    throw error;
  }
}

/**
 * An extract dropped in a folder that cannot name a model (`incoming/Bank-Marketing/…`) is not
 * silently ignored: `error.json` under `outputs/_refused/<run-id>/` names the rule, and the result
 * says so. Not retried: the same key can never be scored.
 */
async function refuseModelFolder(input: ScoreS3ObjectInput, folder: string): Promise<ScoreS3ObjectResult> {
  const { client, key, config } = input;
  const { etag, versionId } = input;
  const runId = runIdFor(key, { etag, versionId }, config.incomingPrefix);
  const outputBucket = config.bucket ?? input.bucket;
  const prefix = `${config.outputsPrefix}${REFUSED_OUTPUTS_FOLDER}/${runId}/`;
  const error = new ExtractError(
    'EXTRACT_KEY_INVALID',
    `model folder "${folder}" is not a model name (lower-case letters, digits and dashes, e.g. ${config.incomingPrefix}bank-marketing/…): nothing was scored`,
    { file: `s3://${input.bucket}/${key}` },
  );
  await new S3OutputTarget({ client, bucket: outputBucket, prefix, run: { runId, source: { bucket: input.bucket, key, etag, versionId } } }).abort(error);
  input.log?.('warn', 'extract refused: its folder is not a model name', { key, runId });
  return { key, runId, model: folder, outputs: `s3://${outputBucket}/${prefix}`, status: 'refused', reason: error.message };
}

/**
 * Opens exactly the object version the notification named: by version id, else by ETag (S3 checks
 * If-Match; the returned ETag is checked too, for S3-compatible servers that ignore the header).
 */
async function openExtractVersion(
  client: S3Client,
  bucket: string,
  key: string,
  identity: { etag?: string | undefined; versionId?: string | undefined },
  idleTimeoutMs: number,
): Promise<S3ObjectStream | 'changed' | 'deleted'> {
  let object: S3ObjectStream;
  try {
    object = await getObjectStream(client, bucket, key, { ...(identity.versionId ? { versionId: identity.versionId } : { ifMatch: identity.etag }), idleTimeoutMs });
  } catch (error) {
    if (isNotFound(error)) return 'deleted';
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) return 'changed';
    throw error;
  }
  if (!identity.versionId && identity.etag && object.etag !== undefined && object.etag !== unquoteEtag(identity.etag)) {
    object.body.destroy();
    return 'changed';
  }
  return object;
}

/** Reads `<key>.economics.json` when it exists. @throws ConfigError ECONOMICS_INVALID when it is not JSON. */
export async function readSidecarEconomics(client: S3Client, bucket: string, key: string): Promise<{ value: unknown; source: string } | undefined> {
  const sidecarKey = `${key}${ECONOMICS_SIDECAR_SUFFIX}`;
  const source = `s3://${bucket}/${sidecarKey}`;
  const bytes = await readObjectBytes(client, bucket, sidecarKey);
  if (bytes === undefined) return undefined;
  try {
    return { value: JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown, source };
  } catch (error) {
    throw new ConfigError('ECONOMICS_INVALID', jsonSyntaxError(error), { key: '(root)', source, cause: error });
  }
}

/** Whether retrying the same event could succeed (Lambda retries either way; this is for logs and alarms). */
export function isRetryable(error: unknown): boolean {
  return isRetryableError(error);
}
