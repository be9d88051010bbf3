import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ByteRangeReader } from '../../core/extract/planParts.js';
import { unquoteEtag } from './s3Objects.js';

/** Which version of an object to read: by version id, else by ETag (S3 refuses a changed object with 412). */
export interface ObjectIdentity {
  readonly etag?: string | undefined;
  readonly versionId?: string | undefined;
}

function versionParams(identity: ObjectIdentity): { VersionId?: string; IfMatch?: string } {
  if (identity.versionId) return { VersionId: identity.versionId };
  return identity.etag ? { IfMatch: `"${unquoteEtag(identity.etag)}"` } : {};
}

/**
 * An S3 object as the core's {@link ByteRangeReader} (for `planParts`): its size from HeadObject,
 * each read one ranged GetObject of exactly that version, so every part of a plan reads the bytes
 * the run id names.
 * @example const parts = await planParts(await s3ByteRanges(client, bucket, key, { etag }), 8);
 */
export async function s3ByteRanges(client: S3Client, bucket: string, key: string, identity: ObjectIdentity): Promise<ByteRangeReader> {
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...versionParams(identity) }));
  const size = head.ContentLength ?? 0;
  return {
    size,
    async read(start, end) {
      const last = Math.min(end, size) - 1;
      if (last < start) return new Uint8Array();
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${last}`, ...versionParams(identity) }));
      return response.Body ? await response.Body.transformToByteArray() : new Uint8Array();
    },
  };
}

/**
 * The bytes `[start, end)` of one object version as a stream (one ranged GetObject), for scoring a
 * part without loading it: a part of 256 MiB streams through the parser like a whole extract.
 */
export async function openObjectRange(client: S3Client, bucket: string, key: string, identity: ObjectIdentity, start: number, end: number): Promise<Readable> {
  if (end <= start) return Readable.from([]);
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}`, ...versionParams(identity) }));
  const body = response.Body;
  if (!body) throw new Error(`s3://${bucket}/${key}: GetObject returned no body`);
  return body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>);
}
