import { z } from 'zod';
import { parseDriftOptions, type DriftOptions } from '../core/drift/checkDrift.js';
import { parseEnvironment } from '../core/environment.js';
import { jsonSetting, nightlyEnvironmentShape, nightlySettings, type NightlySettings } from '../nightly/nightlySettings.js';

const environmentSchema = z.object({
  ...nightlyEnvironmentShape,
  /** Run profiles of the last this many days are merged into one drift check; labels of these days count as late outcomes. */
  LOOKBACK_DAYS: z.coerce.number().int().min(1).max(366).default(7),
  /** Drift thresholds and per-feature overrides (JSON, see DriftOptions). */
  DRIFT_OPTIONS: jsonSetting.optional(),
});

/** The drift function's settings, read once per cold start. */
export interface DriftConfig extends NightlySettings {
  readonly prefixes: { readonly outputs: string; readonly labels: string; readonly models: string; readonly drift: string; readonly index: string };
  readonly lookbackDays: number;
  readonly driftOptions: DriftOptions;
}

/**
 * Reads and validates the drift function's environment, including the JSON of the drift options.
 * @throws ConfigError CONFIG_INVALID naming the variable (and the key inside its JSON).
 */
export function readDriftConfig(env: NodeJS.ProcessEnv = process.env): DriftConfig {
  const e = parseEnvironment(environmentSchema, env);
  return {
    ...nightlySettings(e),
    prefixes: { outputs: e.OUTPUTS_PREFIX, labels: e.LABELS_PREFIX, models: e.MODELS_PREFIX, drift: e.DRIFT_PREFIX, index: e.INDEX_PREFIX },
    lookbackDays: e.LOOKBACK_DAYS,
    driftOptions: parseDriftOptions(e.DRIFT_OPTIONS ?? {}, 'environment DRIFT_OPTIONS'),
  };
}
