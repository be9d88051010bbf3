import type { S3Client } from '@aws-sdk/client-s3';
import type { BundleFiles } from '../core/bundle/registry.js';
import type { RunOutcome } from '../core/engine/runOutputs.js';
import { scoreExtract, type ScoreExtractOptions } from '../core/engine/scoreExtract.js';
import { s3ByteRanges, type S3ObjectVersion } from '../adapters/s3/s3ByteRanges.js';
import type { S3ObjectStream } from '../adapters/s3/s3Objects.js';
import { scoreInParts } from '../adapters/workers/scoreInParts.js';
import { MIN_PART_BYTES } from '../adapters/workers/workerLimits.js';

export interface ExtractObjectRun extends Omit<ScoreExtractOptions, 'input'> {
  readonly client: S3Client;
  /** The object version the run's lock and id describe, already opened. */
  readonly object: S3ObjectStream;
  readonly version: S3ObjectVersion;
  /** The client's endpoint (tests and `npm start`), for the workers' own clients. */
  readonly endpoint: string | undefined;
  readonly idleTimeoutMs: number;
  /** The bundle's files, which each worker loads its own model from. */
  readonly bundleFiles: BundleFiles;
  readonly workers: number;
  /** Structured log lines (counts only). */
  readonly log?: ((level: 'info', message: string, attributes: Record<string, unknown>) => void) | undefined;
}

/**
 * Scores an opened S3 extract: with one worker, a small object, or a size S3 did not give, by `scoreExtract` from the
 * opened body, as ever; otherwise on `workers` worker threads, one byte range each, every worker
 * streaming its range with a ranged GetObject of the same version (`scoreInParts` closes the opened
 * body and falls back to it by itself for a gzip or small object, which cannot be split).
 */
export async function scoreExtractObject(run: ExtractObjectRun): Promise<RunOutcome> {
  const { client, object, version, endpoint, idleTimeoutMs, bundleFiles, workers, log, ...options } = run;
  const size = object.contentLength;
  // Too small to split: no ranged GETs at all, the opened body is read as ever.
  if (workers <= 1 || size === undefined || size < 2 * MIN_PART_BYTES) return scoreExtract({ ...options, input: object.body });
  // Pinned to the bytes this run opened: a ranged GET of a changed object fails (412) instead of mixing versions.
  const pinned: S3ObjectVersion = { ...version, etag: object.etag ?? version.etag };
  return scoreInParts({
    ...options,
    input: object.body,
    extract: { kind: 's3', ...pinned, endpoint, region: await client.config.region(), idleTimeoutMs },
    bytes: () => Promise.resolve(s3ByteRanges(client, pinned, size, { idleTimeoutMs })),
    bundleFiles,
    workers,
    parts: workers,
    onPlan: (plan) => log?.('info', 'extract planned', { parts: plan.parts, workers: plan.workers }),
  });
}
