import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/core/errors.js';
import { readRetrainConfig } from '../../../functions/retrain/config.js';

const minimal = { BUCKET: 'propensity-data', MODELS: 'bank-marketing, audiobooks', BUNDLED_MODELS_DIR: '/opt/models' };

describe('readRetrainConfig', () => {
  it('fills defaults and reads the models list', () => {
    const config = readRetrainConfig(minimal);
    expect(config.models).toEqual(['bank-marketing', 'audiobooks']);
    expect(config.prefixes).toEqual({ outputs: 'outputs/', labels: 'labels/', training: 'training/', models: 'models/', drift: 'drift/', index: 'index/' });
    expect(config.maxTrainingRows).toBe(200_000);
    expect(config.retrain).toBe(true);
    expect(config.retrainPolicy).toMatchObject({ minNewLabels: 1000, metric: 'auc', minAucGain: 0.005, onlyOnAlarm: false });
    expect(config.holdoutFraction).toBe(0.2);
    expect(config.trainingOverrides).toBeUndefined();
    expect(config.driftReportMaxAgeHours).toBe(24);
  });

  it('reads the JSON settings', () => {
    const config = readRetrainConfig({
      ...minimal,
      RETRAIN_POLICY: '{"minNewLabels": 50, "onlyOnAlarm": true}',
      TRAINING_OVERRIDES: '{"search": false}',
      RETRAIN: 'false',
      DRIFT_PREFIX: 'reports/drift',
      DRIFT_REPORT_MAX_AGE_HOURS: '36',
    });
    expect(config.retrainPolicy).toMatchObject({ minNewLabels: 50, onlyOnAlarm: true });
    expect(config.trainingOverrides).toEqual({ search: false });
    expect(config.retrain).toBe(false);
    expect(config.prefixes.drift).toBe('reports/drift/');
    expect(config.driftReportMaxAgeHours).toBe(36);
  });

  it('knows nothing of the drift check: the drift settings are not its own', () => {
    const config = readRetrainConfig({ ...minimal, DRIFT_OPTIONS: '{not json', LOOKBACK_DAYS: '0' });
    expect(config).not.toHaveProperty('driftOptions');
    expect(config).not.toHaveProperty('lookbackDays');
  });

  it.each([
    [{ MODELS: 'bank-marketing' }, 'BUCKET'],
    [{ ...minimal, MODELS: 'Bank Marketing' }, 'MODELS.0'],
    [{ ...minimal, RETRAIN_POLICY: '{minNewLabels: 5}' }, 'RETRAIN_POLICY'],
    [{ ...minimal, RETRAIN_POLICY: '{"minNewLabels": -5}' }, 'minNewLabels'],
    [{ ...minimal, TRAINING_OVERRIDES: '[1]' }, 'TRAINING_OVERRIDES'],
    [{ ...minimal, HOLDOUT_FRACTION: '1' }, 'HOLDOUT_FRACTION'],
    [{ ...minimal, DRIFT_REPORT_MAX_AGE_HOURS: '0' }, 'DRIFT_REPORT_MAX_AGE_HOURS'],
  ])('names the bad setting: %j → %s', (env, key) => {
    expect(() => readRetrainConfig(env)).toThrow(ConfigError);
    try {
      readRetrainConfig(env);
    } catch (error) {
      expect((error as ConfigError).key).toBe(key);
    }
  });
});
