import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/core/errors.js';
import { BUNDLED_MODELS_DIRNAME } from '../../../functions/core/constants.js';
import { findBundledModelsDir, readScoreConfig } from '../../../functions/score/config.js';

describe('readScoreConfig', () => {
  it('fills the defaults from an empty environment', () => {
    const config = readScoreConfig({ BUNDLED_MODELS_DIR: '/opt/models' });
    expect(config).toEqual({
      bucket: undefined,
      incomingPrefix: 'incoming/',
      modelsPrefix: 'models/',
      outputsPrefix: 'outputs/',
      indexPrefix: 'index/',
      contactPolicyPrefixes: { suppression: 'suppression/', history: 'history/' },
      batchSize: 8192,
      logLevel: 'INFO',
      s3Endpoint: undefined,
      bundledModelsDir: '/opt/models',
      csvInjectionProtection: true,
      limits: { maxBytes: 20 * 1024 ** 3, maxRows: 200_000_000, maxRecordBytes: 1024 ** 2 },
      layoutCheck: true,
      runLockTtlMs: 960_000,
      // One scoring worker thread per vCPU the function has.
      workers: Math.min(64, availableParallelism()),
    });
  });

  it('reads every variable, adds the missing slash to prefixes and treats empty strings as unset', () => {
    const config = readScoreConfig({
      BUCKET: 'my-data-bucket',
      INCOMING_PREFIX: 'in',
      MODELS_PREFIX: 'registry/models/',
      OUTPUTS_PREFIX: 'out',
      SUPPRESSION_PREFIX: 'policy/do-not-contact',
      HISTORY_PREFIX: 'policy/contacted/',
      BATCH_SIZE: '1024',
      LOG_LEVEL: 'debug',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4568',
      BUNDLED_MODELS_DIR: '',
      CSV_INJECTION_PROTECTION: 'false',
      RUN_LOCK_TTL_SECONDS: '120',
      SCORE_WORKERS: '3',
    });
    expect(config).toMatchObject({
      runLockTtlMs: 120_000,
      workers: 3,
      bucket: 'my-data-bucket',
      incomingPrefix: 'in/',
      modelsPrefix: 'registry/models/',
      outputsPrefix: 'out/',
      contactPolicyPrefixes: { suppression: 'policy/do-not-contact/', history: 'policy/contacted/' },
      batchSize: 1024,
      logLevel: 'DEBUG',
      s3Endpoint: 'http://127.0.0.1:4568',
      csvInjectionProtection: false,
    });
  });

  it.each([
    [{ BATCH_SIZE: '0' }, 'BATCH_SIZE'],
    [{ BATCH_SIZE: 'lots' }, 'BATCH_SIZE'],
    [{ LOG_LEVEL: 'LOUD' }, 'LOG_LEVEL'],
    [{ BUCKET: 'Not_A_Bucket' }, 'BUCKET'],
    [{ AWS_ENDPOINT_URL: 'ftp://example.com' }, 'AWS_ENDPOINT_URL'],
    [{ CSV_INJECTION_PROTECTION: 'no' }, 'CSV_INJECTION_PROTECTION'],
    [{ SCORE_WORKERS: '0' }, 'SCORE_WORKERS'],
    [{ SCORE_WORKERS: '65' }, 'SCORE_WORKERS'],
  ])('names the variable that is wrong: %o', (env, key) => {
    const error = (() => {
      try {
        readScoreConfig(env);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', key, source: 'environment' });
    expect((error as Error).message.startsWith(`environment: ${key}: `)).toBe(true);
  });
});

describe('findBundledModelsDir', () => {
  it('prefers model-store next to the handler (the built asset), then the repository layout', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'propensity-config-'));
    try {
      const handlerDir = path.join(root, 'functions', 'score');
      await mkdir(handlerDir, { recursive: true });
      expect(findBundledModelsDir(handlerDir)).toBeUndefined();
      await mkdir(path.join(root, BUNDLED_MODELS_DIRNAME));
      expect(findBundledModelsDir(handlerDir)).toBe(path.join(root, BUNDLED_MODELS_DIRNAME));
      await mkdir(path.join(handlerDir, BUNDLED_MODELS_DIRNAME));
      expect(findBundledModelsDir(handlerDir)).toBe(path.join(handlerDir, BUNDLED_MODELS_DIRNAME));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
