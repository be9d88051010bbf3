import type { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Registry } from '../adapters/s3/S3Registry.js';
import { createS3Client } from '../adapters/s3/s3Objects.js';
import { FsRegistry } from '../adapters/fs/fsRegistry.js';
import { checkModel, type ModelCheck } from './checkModel.js';
import { readScheduledConfig, type ScheduledConfig } from './config.js';

export interface ScheduledRuntime {
  readonly config: ScheduledConfig;
  readonly client: S3Client;
  readonly logger: Logger;
  /** Checks every configured model; one model's failure does not stop the others, but fails the run. */
  runChecks(now?: Date): Promise<ModelCheck[]>;
}

/** One run's failures, by model: thrown after every model had its turn, so Lambda counts an error. */
export class ScheduledRunError extends Error {
  constructor(readonly failures: ReadonlyArray<{ model: string; error: unknown }>) {
    super(`scheduled check failed for ${failures.map((f) => `${f.model} (${(f.error as Error).message})`).join('; ')}`);
    this.name = 'ScheduledRunError';
  }
}

/**
 * Everything the scheduled handler needs, built once per cold start: config (validated), S3
 * client, the S3 registry and the bundled fallback, the Powertools logger.
 * @throws ConfigError naming the environment variable that is wrong.
 */
export function createScheduledRuntime(env: NodeJS.ProcessEnv = process.env): ScheduledRuntime {
  const config = readScheduledConfig(env);
  const client = createS3Client(config.s3Endpoint, env.AWS_REGION);
  const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'propensity-drift', logLevel: config.logLevel });
  const registry = new S3Registry(client, config.bucket, config.prefixes.models);
  const bundled = config.bundledModelsDir ? new FsRegistry(config.bundledModelsDir) : undefined;

  return {
    config,
    client,
    logger,
    async runChecks(now = new Date()) {
      const context = { client, config, registry, bundled, now, log: (level: 'info' | 'warn', message: string, fields: Record<string, unknown> = {}) => logger[level](message, fields) };
      const checks: ModelCheck[] = [];
      const failures: Array<{ model: string; error: unknown }> = [];
      for (const model of config.models) {
        try {
          checks.push(await checkModel(context, model));
        } catch (error) {
          logger.error('scheduled check failed', { model, error: error as Error });
          failures.push({ model, error });
        }
      }
      if (failures.length > 0) throw new ScheduledRunError(failures);
      return checks;
    },
  };
}
