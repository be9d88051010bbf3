import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createNightlyServices, forEachModel } from '../nightly/nightlyRuntime.js';
import { readRetrainConfig, type RetrainConfig } from './config.js';
import { retrainModel, type ModelRetrain } from './retrainModel.js';

export interface RetrainRuntime {
  readonly config: RetrainConfig;
  readonly client: S3Client;
  readonly logger: Logger;
  /**
   * Retrains every configured model that is due; one model's failure does not stop the others, but fails the run.
   * @throws ScheduledRunError naming the models whose retraining failed.
   */
  runRetraining(now?: Date): Promise<ModelRetrain[]>;
}

/**
 * Everything the retrain handler needs, built once per cold start: config (validated), S3 client,
 * the S3 registry (where challengers are written and promoted) and the bundled fallback, the Powertools logger.
 * @throws ConfigError naming the environment variable that is wrong.
 */
export function createRetrainRuntime(env: NodeJS.ProcessEnv = process.env): RetrainRuntime {
  const config = readRetrainConfig(env);
  const services = createNightlyServices(config, config.prefixes.models, 'propensity-retrain', env);
  return {
    config,
    client: services.client,
    logger: services.logger,
    runRetraining: (now = new Date()) =>
      forEachModel('retraining', config.models, services.logger, (model) => retrainModel({ ...services, config, now }, model)),
  };
}
