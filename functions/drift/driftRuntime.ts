import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createNightlyServices, forEachModel } from '../nightly/nightlyRuntime.js';
import { checkModelDrift, type ModelDriftCheck } from './checkModelDrift.js';
import { readDriftConfig, type DriftConfig } from './config.js';

export interface DriftRuntime {
  readonly config: DriftConfig;
  readonly client: S3Client;
  readonly logger: Logger;
  /**
   * Checks every configured model; one model's failure does not stop the others, but fails the run.
   * @throws ScheduledRunError naming the models whose check failed.
   */
  runChecks(now?: Date): Promise<ModelDriftCheck[]>;
}

/**
 * Everything the drift handler needs, built once per cold start: config (validated), S3 client,
 * the S3 registry and the bundled fallback (champions are read, never written), the Powertools logger.
 * @throws ConfigError naming the environment variable that is wrong.
 */
export function createDriftRuntime(env: NodeJS.ProcessEnv = process.env): DriftRuntime {
  const config = readDriftConfig(env);
  const services = createNightlyServices(config, config.prefixes.models, 'propensity-drift', env);
  return {
    config,
    client: services.client,
    logger: services.logger,
    runChecks: (now = new Date()) =>
      forEachModel('drift check', config.models, services.logger, (model) => checkModelDrift({ ...services, config, now }, model)),
  };
}
