import type { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { FsRegistry } from '../adapters/fs/fsRegistry.js';
import { tempFileSpool } from '../adapters/fs/tempFileSpool.js';
import { S3Registry } from '../adapters/s3/S3Registry.js';
import { createS3Client } from '../adapters/s3/s3Objects.js';
import { tracer } from '../adapters/tracing/traced.js';
import type { BundleFiles, ModelRegistry } from '../core/bundle/registry.js';
import type { SpoolFactory } from '../core/engine/spool.js';
import { BundleError, PropensityError } from '../core/errors.js';
import type { NightlySettings } from './nightlySettings.js';

export type LogFn = (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;

/** An object of an S3 listing. */
export interface ListedObject {
  readonly key: string;
  readonly lastModified: Date;
}

/** What both nightly functions work with, built once per cold start. */
export interface NightlyServices {
  readonly client: S3Client;
  readonly logger: Logger;
  /** The S3 registry (`models/`): champions, and where retrained versions go. */
  readonly registry: ModelRegistry;
  /** The models shipped with the function: the champion until the S3 registry has one. */
  readonly bundled: ModelRegistry | undefined;
  readonly log: LogFn;
  /** Temp storage (`/tmp` in Lambda) for joining a run that has no index from its own files. */
  readonly spool: SpoolFactory;
}

/**
 * The S3 client, the Powertools logger, the S3 registry under `modelsPrefix` and the bundled fallback.
 * @param serviceName the logger's service when `POWERTOOLS_SERVICE_NAME` is unset.
 */
export function createNightlyServices(settings: NightlySettings, modelsPrefix: string, serviceName: string, env: NodeJS.ProcessEnv): NightlyServices {
  // S3 calls as X-Ray subsegments of the nightly run (a no-op outside Lambda).
  const client = tracer.captureAWSv3Client(createS3Client(settings.s3Endpoint, env.AWS_REGION));
  const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? serviceName, logLevel: settings.logLevel });
  return {
    client,
    logger,
    registry: new S3Registry(client, settings.bucket, modelsPrefix),
    bundled: settings.bundledModelsDir ? new FsRegistry(settings.bundledModelsDir) : undefined,
    log: (level, message, fields = {}) => logger[level](message, fields),
    spool: tempFileSpool(),
  };
}

/** The model in charge: its files, and whether they come from the S3 registry or the function's bundle. */
export interface Champion {
  readonly files: BundleFiles;
  readonly origin: 'registry' | 'bundled';
}

/**
 * The registry's champion, else the model shipped with the function.
 * @throws BundleError BUNDLE_NOT_FOUND when neither has the model.
 */
export async function resolveChampion(services: Pick<NightlyServices, 'registry' | 'bundled'>, model: string): Promise<Champion> {
  if ((await services.registry.champion(model)) !== undefined) return { files: await services.registry.read(model), origin: 'registry' };
  if (!services.bundled) throw new BundleError('BUNDLE_NOT_FOUND', 'no champion in the registry and no bundled models', { bundle: model });
  return { files: await services.bundled.read(model), origin: 'bundled' };
}

/**
 * One nightly run's failures, by model: thrown after every model had its turn, so Lambda counts an
 * error (the Errors alarm, the retries, then the failed-invocation queue). Not an input error: the
 * run as a whole is retried.
 */
export class ScheduledRunError extends PropensityError {
  constructor(
    readonly job: string,
    readonly failures: ReadonlyArray<{ readonly model: string; readonly error: unknown }>,
  ) {
    super('SCHEDULED_RUN_FAILED', `${job} failed for ${failures.map((f) => `${f.model} (${messageOf(f.error)})`).join('; ')}`, { isInputError: false });
  }

  protected override context(): Record<string, unknown> {
    return {
      job: this.job,
      failures: this.failures.map(({ model, error }) => ({ model, ...(error instanceof PropensityError ? { code: error.code } : {}), message: messageOf(error) })),
    };
  }
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Runs `work` for every model in turn; one model's failure is logged and does not stop the others.
 * @throws ScheduledRunError naming every model that failed, once all had their turn.
 */
export async function forEachModel<T>(job: string, models: readonly string[], logger: Logger, work: (model: string) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  const failures: Array<{ model: string; error: unknown }> = [];
  for (const model of models) {
    try {
      results.push(await work(model));
    } catch (error) {
      logger.error(`${job} failed`, { model, error: error as Error });
      failures.push({ model, error });
    }
  }
  if (failures.length > 0) throw new ScheduledRunError(job, failures);
  return results;
}
