import { describe, expect, it } from 'vitest';
import { readDriftConfig } from '../../../functions/drift/config.js';
import { ConfigError } from '../../../functions/core/errors.js';

const minimal = { BUCKET: 'propensity-data', MODELS: 'bank-marketing, audiobooks', BUNDLED_MODELS_DIR: '/opt/models' };

describe('readDriftConfig', () => {
  it('fills defaults and reads the models list', () => {
    const config = readDriftConfig(minimal);
    expect(config.bucket).toBe('propensity-data');
    expect(config.models).toEqual(['bank-marketing', 'audiobooks']);
    expect(config.prefixes).toEqual({ outputs: 'outputs/', labels: 'labels/', models: 'models/', drift: 'drift/', index: 'index/' });
    expect(config.lookbackDays).toBe(7);
    expect(config.driftOptions.psiAlert).toBe(0.25);
    expect(config.bundledModelsDir).toBe('/opt/models');
  });

  it('reads the JSON drift options and the prefixes', () => {
    const config = readDriftConfig({ ...minimal, DRIFT_OPTIONS: '{"psiAlert": 0.3}', DRIFT_PREFIX: 'reports/drift', LOOKBACK_DAYS: '14' });
    expect(config.driftOptions.psiAlert).toBe(0.3);
    expect(config.prefixes.drift).toBe('reports/drift/');
    expect(config.lookbackDays).toBe(14);
  });

  it('knows nothing of retraining: the retrain settings are not its own', () => {
    const config = readDriftConfig({ ...minimal, RETRAIN_POLICY: '{not json', TRAINING_OVERRIDES: '[1]' });
    expect(config).not.toHaveProperty('retrainPolicy');
    expect(config).not.toHaveProperty('trainingOverrides');
    expect(config.prefixes).not.toHaveProperty('training');
  });

  it.each([
    [{ MODELS: 'bank-marketing' }, 'BUCKET'],
    [{ ...minimal, MODELS: 'Bank Marketing' }, 'MODELS.0'],
    [{ ...minimal, LOOKBACK_DAYS: '0' }, 'LOOKBACK_DAYS'],
    [{ ...minimal, DRIFT_OPTIONS: '{psiAlert: 0.3}' }, 'DRIFT_OPTIONS'],
  ])('names the bad setting: %j → %s', (env, key) => {
    expect(() => readDriftConfig(env)).toThrow(ConfigError);
    try {
      readDriftConfig(env);
    } catch (error) {
      expect((error as ConfigError).key).toBe(key);
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    }
  });
});
