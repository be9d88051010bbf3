import { z } from 'zod';
import { DEFAULT_CHAMPION_TTL_SECONDS } from '../core/predict/championCache.js';
import { bucketNameSetting, logLevelSetting, parseEnvironment, prefixSetting, s3EndpointSetting, type LogLevel } from '../core/environment.js';
import { findBundledModelsDir } from '../score/config.js';

const environmentSchema = z.object({
  /** The data bucket whose `models/` prefix is the registry (set by `DataBucketAccess`). */
  BUCKET: bucketNameSetting,
  MODELS_PREFIX: prefixSetting('models/'),
  /** Seconds a warm container serves a champion before asking the registry again; 0 asks on every request. */
  CHAMPION_TTL_SECONDS: z.coerce.number().int().min(0).max(24 * 3600).default(DEFAULT_CHAMPION_TTL_SECONDS),
  LOG_LEVEL: logLevelSetting,
  AWS_ENDPOINT_URL: s3EndpointSetting,
  /** Where the bundled fallback models are; default: found next to the handler, as for the score function. */
  BUNDLED_MODELS_DIR: z.string().min(1).optional(),
});

/** The predict function's settings, read once per cold start. */
export interface PredictConfig {
  readonly bucket: string;
  readonly modelsPrefix: string;
  /** `CHAMPION_TTL_SECONDS` (default 300), in milliseconds. */
  readonly championTtlMs: number;
  readonly logLevel: LogLevel;
  readonly s3Endpoint: string | undefined;
  /** Folder of the bundled registry, or undefined when none ships. */
  readonly bundledModelsDir: string | undefined;
}

/**
 * Reads and validates the environment.
 * @throws ConfigError CONFIG_INVALID naming the variable, e.g. `environment: CHAMPION_TTL_SECONDS: Too small: expected number to be >=0`.
 */
export function readPredictConfig(env: NodeJS.ProcessEnv = process.env): PredictConfig {
  const e = parseEnvironment(environmentSchema, env);
  return {
    bucket: e.BUCKET,
    modelsPrefix: e.MODELS_PREFIX,
    championTtlMs: e.CHAMPION_TTL_SECONDS * 1000,
    logLevel: e.LOG_LEVEL,
    s3Endpoint: e.AWS_ENDPOINT_URL,
    bundledModelsDir: e.BUNDLED_MODELS_DIR ?? findBundledModelsDir(),
  };
}
