import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ByteRangeReader } from '../../core/extract/planParts.js';
import { getObjectStream, unquoteEtag } from './s3Objects.js';

/** Which object version a run reads: every ranged GET names it, so all parts read the same bytes. */
export interface S3ObjectVersion {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  /** Checked with If-Match when there is no version id (S3 answers 412 once the object changed). */
  readonly etag?: string | undefined;
}

/**
 * The bytes `[range.start, range.end)` of exactly that object version, as a stream (one ranged GetObject).
 * The ETag that comes back is checked too, for S3-compatible servers that ignore If-Match.
 * @throws Error (retryable) when the object changed since the run opened it
 */
export async function getObjectRange(
  client: S3Client,
  object: S3ObjectVersion,
  range: { readonly start: number; readonly end: number },
  options: { idleTimeoutMs?: number | undefined } = {},
): Promise<Readable> {
  const { body, etag } = await getObjectStream(client, object.bucket, object.key, {
    ...(object.versionId ? { versionId: object.versionId } : { ifMatch: object.etag }),
    idleTimeoutMs: options.idleTimeoutMs,
    range,
  });
  if (!object.versionId && object.etag && etag !== undefined && etag !== unquoteEtag(object.etag)) {
    body.destroy();
    throw new Error(`s3://${object.bucket}/${object.key} changed while the run was reading it (another ETag); the run is retried`);
  }
  return body;
}

/**
 * An S3 object as the core's {@link ByteRangeReader} (for `planParts`): each read is one ranged
 * GetObject of exactly that object version. `size` is the object's ContentLength, known from the
 * GetObject or HeadObject that opened the run.
 * @example const parts = await planParts(s3ByteRanges(client, { bucket, key, etag }, contentLength), 4);
 */
export function s3ByteRanges(client: S3Client, object: S3ObjectVersion, size: number, options: { idleTimeoutMs?: number } = {}): ByteRangeReader {
  return {
    size,
    async read(start, end) {
      if (end <= start) return new Uint8Array();
      const body = await getObjectRange(client, object, { start, end: Math.min(end, size) }, options);
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}
