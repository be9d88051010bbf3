import { Logger } from '@aws-lambda-powertools/logger';
import { loadBundle, type LoadedBundle } from '../core/engine/loadBundle.js';
import { loadModel } from '../adapters/model/modelLoader.js';
import { FsRegistry } from '../adapters/fs/fsRegistry.js';
import { tempFileSpool } from '../adapters/fs/tempFileSpool.js';
import { S3Registry } from '../adapters/s3/S3Registry.js';
import { createS3Client } from '../adapters/s3/s3Objects.js';
import { tracer } from '../adapters/tracing/traced.js';
import { ChampionBundles } from '../score/championBundles.js';
import { readFanOutConfig, type FanOutConfig } from './fanOutConfig.js';
import type { FanOutContext } from './fanOutSteps.js';

export interface FanOutRuntime extends FanOutContext {
  readonly config: FanOutConfig;
  readonly logger: Logger;
}

/**
 * Everything the fan-out steps need, built once per cold start: config (validated), S3 client,
 * the champion lookup (plan) and a cache of pinned bundle versions (part, merge: versions are
 * immutable, so a warm container reuses the loaded model).
 * @throws ConfigError naming the environment variable that is wrong.
 */
export function createFanOutRuntime(env: NodeJS.ProcessEnv = process.env): FanOutRuntime {
  const config = readFanOutConfig(env);
  // S3 calls as X-Ray subsegments of the step (a no-op outside Lambda).
  const client = tracer.captureAWSv3Client(createS3Client(config.s3Endpoint, env.AWS_REGION));
  const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'propensity-fan-out', logLevel: config.logLevel });
  const bundled = config.bundledModelsDir ? new FsRegistry(config.bundledModelsDir) : undefined;
  const champions = new Map<string, ChampionBundles>();
  const pinned = new Map<string, Promise<LoadedBundle>>();
  return {
    config,
    client,
    logger,
    spool: tempFileSpool(),
    log: (message, attributes) => logger.info(message, attributes),
    champions(bucket) {
      let bundles = champions.get(bucket);
      if (!bundles) champions.set(bucket, (bundles = new ChampionBundles(new S3Registry(client, bucket, config.modelsPrefix), bundled)));
      return bundles;
    },
    pinnedBundle(bucket, model, origin, version) {
      const key = `${bucket}:${origin}:${model}@${version}`;
      let entry = pinned.get(key);
      if (!entry) {
        const registry = origin === 'bundled' && bundled ? bundled : new S3Registry(client, bucket, config.modelsPrefix);
        entry = registry.read(model, version).then((files) => loadBundle(files, loadModel));
        // A failed load must not stay cached: the step's retry should try again.
        entry.catch(() => pinned.delete(key));
        pinned.set(key, entry);
      }
      return entry;
    },
  };
}
