import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/core/errors.js';
import { readScheduledConfig } from '../../../functions/scheduled/config.js';
import { splitHoldout } from '../../../functions/scheduled/labelledData.js';

const minimal = { BUCKET: 'propensity-data', MODELS: 'bank-marketing, audiobooks', BUNDLED_MODELS_DIR: '/opt/models' };

describe('readScheduledConfig', () => {
  it('fills defaults and reads the models list', () => {
    const config = readScheduledConfig(minimal);
    expect(config.models).toEqual(['bank-marketing', 'audiobooks']);
    expect(config.prefixes).toEqual({ outputs: 'outputs/', labels: 'labels/', training: 'training/', models: 'models/', drift: 'drift/' });
    expect(config.lookbackDays).toBe(7);
    expect(config.retrain).toBe(true);
    expect(config.retrainPolicy).toMatchObject({ minNewLabels: 1000, metric: 'auc', minAucGain: 0.005 });
    expect(config.driftOptions.psiAlert).toBe(0.25);
    expect(config.holdoutFraction).toBe(0.2);
    expect(config.trainingOverrides).toBeUndefined();
  });

  it('reads the JSON settings', () => {
    const config = readScheduledConfig({
      ...minimal,
      RETRAIN_POLICY: '{"minNewLabels": 50, "onlyOnAlarm": true}',
      DRIFT_OPTIONS: '{"psiAlert": 0.3}',
      TRAINING_OVERRIDES: '{"search": false}',
      RETRAIN: 'false',
      DRIFT_PREFIX: 'reports/drift',
    });
    expect(config.retrainPolicy).toMatchObject({ minNewLabels: 50, onlyOnAlarm: true });
    expect(config.driftOptions.psiAlert).toBe(0.3);
    expect(config.trainingOverrides).toEqual({ search: false });
    expect(config.retrain).toBe(false);
    expect(config.prefixes.drift).toBe('reports/drift/');
  });

  it.each([
    [{ MODELS: 'bank-marketing' }, 'BUCKET'],
    [{ ...minimal, MODELS: 'Bank Marketing' }, 'MODELS.0'],
    [{ ...minimal, LOOKBACK_DAYS: '0' }, 'LOOKBACK_DAYS'],
    [{ ...minimal, RETRAIN_POLICY: '{minNewLabels: 5}' }, 'RETRAIN_POLICY'],
    [{ ...minimal, RETRAIN_POLICY: '{"minNewLabels": -5}' }, 'minNewLabels'],
    [{ ...minimal, TRAINING_OVERRIDES: '[1]' }, 'TRAINING_OVERRIDES'],
  ])('names the bad setting: %j → %s', (env, key) => {
    expect(() => readScheduledConfig(env)).toThrow(ConfigError);
    try {
      readScheduledConfig(env);
    } catch (error) {
      expect((error as ConfigError).key).toBe(key);
    }
  });
});

describe('splitHoldout', () => {
  it('holds out about the given share, deterministically, and loses no row', () => {
    const table = { source: 't', header: ['id'], records: Array.from({ length: 10_000 }, (_, i) => [String(i)]) };
    const a = splitHoldout(table, 0.2);
    const b = splitHoldout(table, 0.2);
    expect(a.holdout.records).toEqual(b.holdout.records);
    expect(a.train.records.length + a.holdout.records.length).toBe(10_000);
    expect(a.holdout.records.length).toBeGreaterThan(1900);
    expect(a.holdout.records.length).toBeLessThan(2100);
    const ids = new Set([...a.train.records, ...a.holdout.records].map((r) => r[0]));
    expect(ids.size).toBe(10_000);
  });
});
