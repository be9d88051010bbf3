import type { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { describeError } from '../core/engine/runFailure.js';
import { S3Registry } from '../adapters/s3/S3Registry.js';
import { createS3Client } from '../adapters/s3/s3Objects.js';
import { FsRegistry } from '../adapters/fs/fsRegistry.js';
import { tempFileSpool } from '../adapters/fs/tempFileSpool.js';
import { stepFunctionsStarter } from '../adapters/sfn/startExecution.js';
import { tracer } from '../adapters/tracing/traced.js';
import { METRICS_NAMESPACE } from '../core/constants.js';
import { ChampionBundles } from './championBundles.js';
import { readScoreConfig, type ScoreConfig } from './config.js';
import { isRetryable, scoreS3Object, type ScoreS3ObjectResult } from './scoreS3Object.js';


/** One extract named by an S3 notification. */
export interface ExtractObject {
  readonly bucket: string;
  /** URL-decoded key. */
  readonly key: string;
  readonly etag?: string | undefined;
  readonly versionId?: string | undefined;
  /** Bytes of the object version, from the event (decides the fan-out). */
  readonly size?: number | undefined;
}

export interface ScoreRuntime {
  readonly config: ScoreConfig;
  readonly client: S3Client;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Scores one extract, logs the outcome and publishes its metrics; rethrows failures. */
  scoreObject(object: ExtractObject): Promise<ScoreS3ObjectResult>;
}

/**
 * Decodes a key from an S3 notification: S3 URL-encodes keys there and writes spaces as `+`.
 * @example decodeEventKey('incoming/m/my+file%281%29.csv') // 'incoming/m/my file(1).csv'
 */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/**
 * Publishes one run's metrics as CloudWatch EMF (dimension `model`): RowsRead, RowsScored,
 * RowsRejected, DurationMs, Selected and, for binary models, ExpectedRoi (profit ÷ cost of the selection).
 */
export function publishRunMetrics(metrics: Metrics, result: Extract<ScoreS3ObjectResult, { status: 'scored' }>): void {
  const { summary } = result;
  metrics.addDimension('model', result.model);
  metrics.addMetric('RowsRead', MetricUnit.Count, summary.rows.read);
  metrics.addMetric('RowsScored', MetricUnit.Count, summary.rows.scored);
  metrics.addMetric('RowsRejected', MetricUnit.Count, summary.rows.rejected);
  metrics.addMetric('DurationMs', MetricUnit.Milliseconds, summary.durationMs);
  metrics.addMetric('Selected', MetricUnit.Count, summary.selected);
  const roi = summary.campaign?.selection.roi;
  if (typeof roi === 'number' && Number.isFinite(roi)) metrics.addMetric('ExpectedRoi', MetricUnit.NoUnit, roi);
  metrics.publishStoredMetrics();
}

/**
 * Everything the score handler needs, built once per cold start: config (validated), S3 client,
 * registries (S3 champion, bundled fallback), Powertools logger and metrics.
 * @throws ConfigError naming the environment variable that is wrong.
 */
export function createScoreRuntime(env: NodeJS.ProcessEnv = process.env): ScoreRuntime {
  const config = readScoreConfig(env);
  // X-Ray capture (a no-op outside Lambda): S3 calls become subsegments, and StartExecution carries
  // the trace header, so the fan-out's execution and its functions join this extract's trace.
  const client = tracer.captureAWSv3Client(createS3Client(config.s3Endpoint, env.AWS_REGION));
  const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'propensity-score', logLevel: config.logLevel });
  const metrics = new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'propensity-score' });
  const bundled = config.bundledModelsDir ? new FsRegistry(config.bundledModelsDir) : undefined;
  const spool = tempFileSpool();
  const fanOut = config.fanOut
    ? { thresholdBytes: config.fanOut.thresholdBytes, start: stepFunctionsStarter({ stateMachineArn: config.fanOut.stateMachineArn, region: env.AWS_REGION, endpoint: config.fanOut.endpoint, instrument: (sfn) => tracer.captureAWSv3Client(sfn) }) }
    : undefined;
  const bundlesByBucket = new Map<string, ChampionBundles>();
  const bundlesFor = (bucket: string): ChampionBundles => {
    let bundles = bundlesByBucket.get(bucket);
    if (!bundles) bundlesByBucket.set(bucket, (bundles = new ChampionBundles(new S3Registry(client, bucket, config.modelsPrefix), bundled)));
    return bundles;
  };

  return {
    config,
    client,
    logger,
    metrics,
    async scoreObject(object) {
      // Log keys and counts only: never rows, ids or raw lines.
      const log = (level: 'info' | 'warn', message: string, attributes: Record<string, unknown>) => logger[level](message, attributes);
      try {
        const result = await scoreS3Object({ ...object, client, bundles: bundlesFor(config.bucket ?? object.bucket), config, spool, log, lockTtlMs: config.runLockTtlMs, fanOut });
        if (result.status === 'ignored') logger.info('not an extract, ignored', { key: object.key });
        if (result.status === 'scored') {
          const { summary, files: _files, ...run } = result;
          const selection = summary.campaign?.selection;
          logger.info('extract scored', {
            ...run,
            rows: { read: summary.rows.read, scored: summary.rows.scored, rejected: summary.rows.rejected, rejectReasons: summary.rows.rejectReasons },
            selected: summary.selected,
            ...(selection ? { expectedResponders: selection.expectedResponders, cost: selection.cost, profit: selection.profit, roi: selection.roi } : {}),
            durationMs: summary.durationMs,
          });
          publishRunMetrics(metrics, result);
        }
        return result;
      } catch (error) {
        // describeError keeps code, message and file/line context, but not the cause chain (which may quote a row).
        logger.error('scoring failed', { key: object.key, error: describeError(error), retryable: isRetryable(error) });
        throw error;
      }
    },
  };
}
