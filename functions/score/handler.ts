import type { S3Event } from 'aws-lambda';
import { traced } from '../adapters/tracing/traced.js';
import { createScoreRuntime, decodeEventKey, type ExtractObject } from './scoreRuntime.js';
import type { ScoreS3ObjectResult } from './scoreS3Object.js';

// Cold start: config is validated once here; a bad variable fails the init with its name.
const runtime = createScoreRuntime();

/** One extract, one X-Ray subsegment: its size, then the model, run and outcome (no key, no row). */
const scoreObject = traced('scoreObject', (object: ExtractObject) => runtime.scoreObject(object), (object, result) => ({
  extractBytes: object.size,
  ...(result && result.status !== 'ignored' ? { model: result.model, runId: result.runId, status: result.status } : {}),
}));

/**
 * Lambda entry for S3 ObjectCreated notifications on `incoming/<model>/…/*.csv[.gz]`.
 * Records are scored one after another; a failure is rethrown so Lambda retries and the
 * on-failure destination sees it (records already complete are skipped on the retry).
 */
export async function handler(event: S3Event): Promise<ScoreS3ObjectResult[]> {
  const results: ScoreS3ObjectResult[] = [];
  for (const record of event.Records ?? []) {
    if (!record.eventName?.startsWith('ObjectCreated:')) continue;
    const { bucket, object } = record.s3;
    results.push(
      await scoreObject({
        bucket: bucket.name,
        key: decodeEventKey(object.key),
        etag: object.eTag,
        versionId: object.versionId,
        size: object.size,
      }),
    );
  }
  return results;
}
