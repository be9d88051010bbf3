import { z } from 'zod';
import { parseEnvironment, prefixSetting } from '../core/environment.js';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_MAX_TRAINING_ROWS } from '../core/retrain/stratifiedSample.js';
import { parseRetrainPolicy, type RetrainPolicy } from '../core/retrain/retrainPolicy.js';
import { jsonSetting, nightlyEnvironmentShape, nightlySettings, type NightlySettings } from '../nightly/nightlySettings.js';

const environmentSchema = z.object({
  ...nightlyEnvironmentShape,
  TRAINING_PREFIX: prefixSetting('training/'),
  /** When to retrain and when to promote (JSON, see RetrainPolicy). */
  RETRAIN_POLICY: jsonSetting.optional(),
  /** `false` turns retraining off: the function then only says so, model by model. */
  RETRAIN: z.enum(['true', 'false']).default('true'),
  /** Laid over each model's training spec, e.g. `{"search":false}` to cap a retrain's cost (JSON). */
  TRAINING_OVERRIDES: jsonSetting.optional(),
  /** Most labelled rows a retraining trains and judges on: a stratified sample when more arrived. */
  MAX_TRAINING_ROWS: z.coerce.number().int().min(100).max(5_000_000).default(DEFAULT_MAX_TRAINING_ROWS),
  /** Share of the new labelled rows held out to judge champion and challenger on. */
  HOLDOUT_FRACTION: z.coerce.number().gt(0).lt(1).default(0.2),
  /**
   * `onlyOnAlarm`: a drift report counts as evidence for this many hours after the drift function
   * wrote it. Older or none: no alarm is firing, so no retraining.
   */
  DRIFT_REPORT_MAX_AGE_HOURS: z.coerce.number().int().min(1).max(24 * 31).default(24),
});

export interface TrainingOverrides {
  readonly search?: false | Record<string, unknown>;
  readonly training?: Record<string, unknown>;
}

/** The retrain function's settings, read once per cold start. */
export interface RetrainConfig extends NightlySettings {
  readonly prefixes: {
    readonly outputs: string;
    readonly labels: string;
    readonly training: string;
    readonly models: string;
    readonly drift: string;
    readonly index: string;
  };
  readonly retrain: boolean;
  readonly retrainPolicy: RetrainPolicy;
  readonly trainingOverrides: TrainingOverrides | undefined;
  readonly holdoutFraction: number;
  /** `MAX_TRAINING_ROWS` (default 200,000): the size bound of the stratified training sample. */
  readonly maxTrainingRows: number;
  readonly driftReportMaxAgeHours: number;
}

/**
 * Reads and validates the retrain function's environment, including the JSON of the retrain policy
 * and the training overrides.
 * @throws ConfigError CONFIG_INVALID naming the variable (and the key inside its JSON).
 */
export function readRetrainConfig(env: NodeJS.ProcessEnv = process.env): RetrainConfig {
  const e = parseEnvironment(environmentSchema, env);
  const overrides = e.TRAINING_OVERRIDES;
  if (overrides !== undefined && (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides))) {
    throw new ConfigError('CONFIG_INVALID', 'must be a JSON object like {"search": false}', { key: 'TRAINING_OVERRIDES', source: 'environment' });
  }
  return {
    ...nightlySettings(e),
    prefixes: {
      outputs: e.OUTPUTS_PREFIX,
      labels: e.LABELS_PREFIX,
      training: e.TRAINING_PREFIX,
      models: e.MODELS_PREFIX,
      drift: e.DRIFT_PREFIX,
      index: e.INDEX_PREFIX,
    },
    retrain: e.RETRAIN === 'true',
    retrainPolicy: parseRetrainPolicy(e.RETRAIN_POLICY ?? {}, 'environment RETRAIN_POLICY'),
    trainingOverrides: overrides,
    holdoutFraction: e.HOLDOUT_FRACTION,
    maxTrainingRows: e.MAX_TRAINING_ROWS,
    driftReportMaxAgeHours: e.DRIFT_REPORT_MAX_AGE_HOURS,
  };
}
