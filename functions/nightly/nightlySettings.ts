import { z } from 'zod';
import { bucketNameSetting, logLevelSetting, prefixSetting, s3EndpointSetting, type LogLevel } from '../core/environment.js';
import { findBundledModelsDir } from '../score/config.js';

/** A setting holding JSON (drift options, retrain policy, training overrides): parsed here, validated by its reader. */
export const jsonSetting = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not JSON: ${(error as Error).message}` });
    return z.NEVER;
  }
});

/**
 * The environment variables both nightly functions (drift, retrain) read: spread into each one's
 * schema, so a variable means the same thing in both.
 */
export const nightlyEnvironmentShape = {
  /** The data bucket: outputs, labels, training data, models and drift reports all live in it. */
  BUCKET: bucketNameSetting,
  /** Models to look after, comma-separated (the same list the drift alarms watch). */
  MODELS: z
    .string()
    .transform((value) => value.split(',').map((m) => m.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'model names are lower-case letters, digits and dashes')).min(1)),
  OUTPUTS_PREFIX: prefixSetting('outputs/'),
  LABELS_PREFIX: prefixSetting('labels/'),
  MODELS_PREFIX: prefixSetting('models/'),
  DRIFT_PREFIX: prefixSetting('drift/'),
  /** The run indexes the score function writes at commit (customer id → score, selected), read instead of every run's files. */
  INDEX_PREFIX: prefixSetting('index/'),
  LOG_LEVEL: logLevelSetting,
  /** Only outside AWS (tests, the demo): an S3-compatible endpoint. */
  AWS_ENDPOINT_URL: s3EndpointSetting,
  BUNDLED_MODELS_DIR: z.string().min(1).optional(),
};

type NightlyEnvironment = z.infer<z.ZodObject<typeof nightlyEnvironmentShape>>;

/** Settings both nightly functions share. */
export interface NightlySettings {
  readonly bucket: string;
  readonly models: readonly string[];
  readonly logLevel: LogLevel;
  readonly s3Endpoint: string | undefined;
  /** The models shipped with the function (champions until the S3 registry has one), if any. */
  readonly bundledModelsDir: string | undefined;
}

/** The shared settings out of a parsed environment (see {@link nightlyEnvironmentShape}). */
export function nightlySettings(e: NightlyEnvironment): NightlySettings {
  return {
    bucket: e.BUCKET,
    models: e.MODELS,
    logLevel: e.LOG_LEVEL,
    s3Endpoint: e.AWS_ENDPOINT_URL,
    bundledModelsDir: e.BUNDLED_MODELS_DIR ?? findBundledModelsDir(),
  };
}
