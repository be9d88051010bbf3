import { z } from 'zod';
import { parseDriftOptions, type DriftOptions } from '../core/drift/checkDrift.js';
import { bucketNameSetting, logLevelSetting, parseEnvironment, prefixSetting, s3EndpointSetting, type LogLevel } from '../core/environment.js';
import { ConfigError } from '../core/errors.js';
import { parseRetrainPolicy, type RetrainPolicy } from '../core/retrain/retrainPolicy.js';
import { findBundledModelsDir } from '../score/config.js';

const json = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not JSON: ${(error as Error).message}` });
    return z.NEVER;
  }
});

const environmentSchema = z.object({
  /** The data bucket: outputs, labels, training data, models and drift reports all live in it. */
  BUCKET: bucketNameSetting,
  /** Models to check, comma-separated (the same list the drift alarms watch). */
  MODELS: z
    .string()
    .transform((value) => value.split(',').map((m) => m.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'model names are lower-case letters, digits and dashes')).min(1)),
  OUTPUTS_PREFIX: prefixSetting('outputs/'),
  LABELS_PREFIX: prefixSetting('labels/'),
  TRAINING_PREFIX: prefixSetting('training/'),
  MODELS_PREFIX: prefixSetting('models/'),
  DRIFT_PREFIX: prefixSetting('drift/'),
  /** Run profiles of the last this many days are merged into one drift check. */
  LOOKBACK_DAYS: z.coerce.number().int().min(1).max(366).default(7),
  /** Drift thresholds and per-feature overrides (JSON, see DriftOptions). */
  DRIFT_OPTIONS: json.optional(),
  /** When to retrain and when to promote (JSON, see RetrainPolicy). */
  RETRAIN_POLICY: json.optional(),
  /** `false` turns retraining off: drift checks only. */
  RETRAIN: z.enum(['true', 'false']).default('true'),
  /** Laid over each model's training spec, e.g. `{"search":false}` to cap a retrain's cost (JSON). */
  TRAINING_OVERRIDES: json.optional(),
  /** Share of the new labelled rows held out to judge champion and challenger on. */
  HOLDOUT_FRACTION: z.coerce.number().gt(0).lt(1).default(0.2),
  LOG_LEVEL: logLevelSetting,
  /** Only outside AWS (tests, the demo): an S3-compatible endpoint. */
  AWS_ENDPOINT_URL: s3EndpointSetting,
  BUNDLED_MODELS_DIR: z.string().min(1).optional(),
});

export interface TrainingOverrides {
  readonly search?: false | Record<string, unknown>;
  readonly training?: Record<string, unknown>;
}

/** The scheduled function's settings, read once per cold start. */
export interface ScheduledConfig {
  readonly bucket: string;
  readonly models: readonly string[];
  readonly prefixes: { readonly outputs: string; readonly labels: string; readonly training: string; readonly models: string; readonly drift: string };
  readonly lookbackDays: number;
  readonly driftOptions: DriftOptions;
  readonly retrain: boolean;
  readonly retrainPolicy: RetrainPolicy;
  readonly trainingOverrides: TrainingOverrides | undefined;
  readonly holdoutFraction: number;
  readonly logLevel: LogLevel;
  readonly s3Endpoint: string | undefined;
  readonly bundledModelsDir: string | undefined;
}

/**
 * Reads and validates the environment, including the JSON of the drift options and the retrain policy.
 * @throws ConfigError CONFIG_INVALID naming the variable (and the key inside its JSON).
 */
export function readScheduledConfig(env: NodeJS.ProcessEnv = process.env): ScheduledConfig {
  const e = parseEnvironment(environmentSchema, env);
  const overrides = e.TRAINING_OVERRIDES;
  if (overrides !== undefined && (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides))) {
    throw new ConfigError('CONFIG_INVALID', 'must be a JSON object like {"search": false}', { key: 'TRAINING_OVERRIDES', source: 'environment' });
  }
  return {
    bucket: e.BUCKET,
    models: e.MODELS,
    prefixes: { outputs: e.OUTPUTS_PREFIX, labels: e.LABELS_PREFIX, training: e.TRAINING_PREFIX, models: e.MODELS_PREFIX, drift: e.DRIFT_PREFIX },
    lookbackDays: e.LOOKBACK_DAYS,
    driftOptions: parseDriftOptions(e.DRIFT_OPTIONS ?? {}, 'environment DRIFT_OPTIONS'),
    retrain: e.RETRAIN === 'true',
    retrainPolicy: parseRetrainPolicy(e.RETRAIN_POLICY ?? {}, 'environment RETRAIN_POLICY'),
    trainingOverrides: overrides,
    holdoutFraction: e.HOLDOUT_FRACTION,
    logLevel: e.LOG_LEVEL,
    s3Endpoint: e.AWS_ENDPOINT_URL,
    bundledModelsDir: e.BUNDLED_MODELS_DIR ?? findBundledModelsDir(),
  };
}
