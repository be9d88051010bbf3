import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ContactPolicyPrefixes } from '../adapters/s3/s3ContactPolicy.js';
import { BUNDLED_MODELS_DIRNAME, DEFAULT_CONTACT_POLICY_PREFIXES } from '../core/constants.js';
import { DEFAULT_EXTRACT_LIMITS, type ExtractLimits } from '../core/extract/extractLimits.js';
import { MAX_WORKERS, defaultWorkers } from '../adapters/workers/workerLimits.js';
import { bucketNameSetting, logLevelSetting, parseEnvironment, prefixSetting, s3EndpointSetting, type LogLevel } from '../core/environment.js';

/** Above this stored size an extract fans out (FAN_OUT_BYTES): about 4 parts of 256 MiB, minutes of work for one function. */
export const DEFAULT_FAN_OUT_BYTES = 1024 ** 3;

const environmentSchema = z.object({
  /** Bucket holding models and outputs; defaults to the bucket named in each S3 event. */
  BUCKET: bucketNameSetting.optional(),
  INCOMING_PREFIX: prefixSetting('incoming/'),
  MODELS_PREFIX: prefixSetting('models/'),
  OUTPUTS_PREFIX: prefixSetting('outputs/'),
  /** Where each committed run's index goes (customer id → score, selected), read by the nightly functions. */
  INDEX_PREFIX: prefixSetting('index/'),
  /** The contact policy: suppression lists the bank keeps, and the history of whom each run contacted. */
  SUPPRESSION_PREFIX: prefixSetting(DEFAULT_CONTACT_POLICY_PREFIXES.suppression),
  HISTORY_PREFIX: prefixSetting(DEFAULT_CONTACT_POLICY_PREFIXES.history),
  BATCH_SIZE: z.coerce.number().int().min(1).max(1 << 20).default(8192),
  LOG_LEVEL: logLevelSetting,
  AWS_ENDPOINT_URL: s3EndpointSetting,
  /** Where the bundled fallback models are; default: found next to the handler (see {@link findBundledModelsDir}). */
  BUNDLED_MODELS_DIR: z.string().min(1).optional(),
  /** `false` writes CSV cells as they are, for machine consumers; default `true` (formula cells get a leading `'`). */
  /** Seconds a run's `_LOCK` holds off other deliveries before it counts as stale; longer than the function timeout. */
  RUN_LOCK_TTL_SECONDS: z.coerce.number().int().min(1).max(24 * 3600).default(960),
  CSV_INJECTION_PROTECTION: z.enum(['true', 'false'], { error: 'must be true or false' }).default('true').transform((v) => v === 'true'),
  /** Input bounds (see `ExtractLimits`): decompressed bytes, lines (blank ones included), bytes of one record. */
  MAX_EXTRACT_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_EXTRACT_LIMITS.maxBytes),
  MAX_EXTRACT_ROWS: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_EXTRACT_LIMITS.maxRows),
  MAX_RECORD_BYTES: z.coerce.number().int().min(1).max(1 << 30).default(DEFAULT_EXTRACT_LIMITS.maxRecordBytes),
  /** `true` scores even when the first rows look nothing like the training data (EXTRACT_LAYOUT_SUSPECT); default `false`. */
  SKIP_LAYOUT_CHECK: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false').transform((v) => v === 'true'),
  /** Extracts larger than this (bytes, as stored) go to the fan-out state machine when one is configured; default 1 GiB. */
  FAN_OUT_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_FAN_OUT_BYTES),
  /** The fan-out state machine (set by the stack); without it every extract is scored here. */
  STATE_MACHINE_ARN: z.string().regex(/^arn:[a-z-]+:states:/, 'must be a Step Functions state machine ARN').optional(),
  /** Step Functions endpoint for `npm start` and tests (a local stand-in); in AWS the regional endpoint. */
  AWS_ENDPOINT_URL_SFN: s3EndpointSetting,
  /** Lanes (this thread and worker threads) scoring byte ranges of a plain extract at once; default: the function's vCPUs. */
  SCORE_WORKERS: z.coerce.number().int().min(1).max(MAX_WORKERS).optional(),
});


/** The score function's settings, read once per cold start. */
export interface ScoreConfig {
  readonly bucket: string | undefined;
  readonly incomingPrefix: string;
  readonly modelsPrefix: string;
  readonly outputsPrefix: string;
  /** Prefix of the run indexes (`INDEX_PREFIX`, default `index/`). */
  readonly indexPrefix: string;
  /** Where the suppression lists and the contact history are (`SUPPRESSION_PREFIX`, `HISTORY_PREFIX`). */
  readonly contactPolicyPrefixes: ContactPolicyPrefixes;
  readonly batchSize: number;
  readonly logLevel: LogLevel;
  readonly s3Endpoint: string | undefined;
  /** Folder of the bundled registry (`<dir>/<model>/<version>/manifest.json`), or undefined when none ships. */
  readonly bundledModelsDir: string | undefined;
  /** Neutralise CSV cells a spreadsheet would run as a formula (`CSV_INJECTION_PROTECTION`, default true). */
  readonly csvInjectionProtection: boolean;
  /** `MAX_EXTRACT_BYTES`, `MAX_EXTRACT_ROWS`, `MAX_RECORD_BYTES` (defaults 20 GiB, 200 million, 1 MiB). */
  readonly limits: ExtractLimits;
  /** Run the layout plausibility gate (`SKIP_LAYOUT_CHECK=true` turns it off). */
  readonly layoutCheck: boolean;
  /** `RUN_LOCK_TTL_SECONDS` (default 960: Lambda's 15-minute maximum plus a minute), in milliseconds. */
  readonly runLockTtlMs: number;
  /** `FAN_OUT_BYTES` and `STATE_MACHINE_ARN`: present only when a state machine is configured. */
  readonly fanOut: { readonly thresholdBytes: number; readonly stateMachineArn: string; readonly endpoint: string | undefined } | undefined;
  /** `SCORE_WORKERS` (default: `os.availableParallelism()`, the vCPUs Lambda gives the function's memory). */
  readonly workers: number;
}

/** Folder of this module: `__dirname` in a CommonJS bundle, `import.meta.url` in ESM (source or bundle). */
function moduleDir(): string {
  return typeof __dirname === 'string' ? __dirname : path.dirname(fileURLToPath(import.meta.url));
}

/**
 * Finds the bundled models: `<handler dir>/model-store` in the built asset (one file, so the module
 * folder is the asset root), else the repository's `model-store/` when running from source.
 */
export function findBundledModelsDir(from = moduleDir()): string | undefined {
  const candidates = [path.join(from, BUNDLED_MODELS_DIRNAME), path.resolve(from, '..', '..', BUNDLED_MODELS_DIRNAME)];
  return candidates.find((dir) => existsSync(dir));
}

/**
 * Reads and validates the environment.
 * @throws ConfigError CONFIG_INVALID naming the variable, e.g. `environment: BATCH_SIZE: Too small: expected number to be >=1`.
 */
export function readScoreConfig(env: NodeJS.ProcessEnv = process.env): ScoreConfig {
  const e = parseEnvironment(environmentSchema, env);
  return {
    bucket: e.BUCKET,
    incomingPrefix: e.INCOMING_PREFIX,
    modelsPrefix: e.MODELS_PREFIX,
    outputsPrefix: e.OUTPUTS_PREFIX,
    indexPrefix: e.INDEX_PREFIX,
    contactPolicyPrefixes: { suppression: e.SUPPRESSION_PREFIX, history: e.HISTORY_PREFIX },
    batchSize: e.BATCH_SIZE,
    logLevel: e.LOG_LEVEL,
    s3Endpoint: e.AWS_ENDPOINT_URL,
    bundledModelsDir: e.BUNDLED_MODELS_DIR ?? findBundledModelsDir(),
    csvInjectionProtection: e.CSV_INJECTION_PROTECTION,
    limits: { maxBytes: e.MAX_EXTRACT_BYTES, maxRows: e.MAX_EXTRACT_ROWS, maxRecordBytes: e.MAX_RECORD_BYTES },
    layoutCheck: !e.SKIP_LAYOUT_CHECK,
    runLockTtlMs: e.RUN_LOCK_TTL_SECONDS * 1000,
    fanOut: e.STATE_MACHINE_ARN ? { thresholdBytes: e.FAN_OUT_BYTES, stateMachineArn: e.STATE_MACHINE_ARN, endpoint: e.AWS_ENDPOINT_URL_SFN } : undefined,
    workers: e.SCORE_WORKERS ?? defaultWorkers(),
  };
}
