import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

/**
 * Small helpers over the S3 API, shared by the output target, the registry and the score function.
 * They keep the SDK's shapes (Body unions, NoSuchKey vs NotFound) out of the callers.
 */

/**
 * The functions' S3 client. `endpoint` is for tests and `npm start` only (an S3-compatible server,
 * path-style); in AWS the SDK finds S3, the region and the role's credentials by itself.
 */
export function createS3Client(endpoint: string | undefined, region: string | undefined): S3Client {
  return new S3Client(endpoint ? { endpoint, forcePathStyle: true, region: region ?? 'us-east-1' } : {});
}

/** An object's body as a Node stream, with the identity of the version that was read. */
export interface S3ObjectStream {
  readonly body: Readable;
  /** ETag without the surrounding quotes. */
  readonly etag: string | undefined;
  readonly versionId: string | undefined;
  readonly contentLength: number | undefined;
}

/** True for the SDK's "object does not exist" errors (GetObject says NoSuchKey, HeadObject says NotFound). */
export function isNotFound(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.Code === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

/** Strips the quotes S3 puts around ETags, so `"abc"` and `abc` compare equal. */
export function unquoteEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^"+|"+$/g, '');
}

/**
 * Opens an object as a stream. With `ifMatch`, S3 refuses (412) when the object changed since the
 * event named it, so a run never scores a different version than its run id describes. With `range`,
 * only the bytes `[start, end)` (a ranged GET; `end` past the object's size is cut to it).
 */
export async function getObjectStream(
  client: S3Client,
  bucket: string,
  key: string,
  options: { ifMatch?: string | undefined; versionId?: string | undefined; idleTimeoutMs?: number | undefined; range?: { start: number; end: number } | undefined } = {},
): Promise<S3ObjectStream> {
  const response = await client.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ...(options.ifMatch ? { IfMatch: `"${unquoteEtag(options.ifMatch)}"` } : {}),
      ...(options.versionId ? { VersionId: options.versionId } : {}),
      ...(options.range ? { Range: `bytes=${options.range.start}-${options.range.end - 1}` } : {}),
    }),
  );
  const body = response.Body;
  if (!body) throw new Error(`s3://${bucket}/${key}: GetObject returned no body`);
  // In Node the SDK's Body is an IncomingMessage (a Readable); the cast keeps the browser unions out.
  const stream = body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>);
  if (options.idleTimeoutMs) failWhenIdle(stream, options.idleTimeoutMs, `s3://${bucket}/${key}`);
  return {
    body: stream,
    etag: unquoteEtag(response.ETag),
    versionId: response.VersionId,
    contentLength: response.ContentLength,
  };
}

/** The body of an object stopped arriving: the socket was idle too long. Transient, so retryable. */
export class S3ReadTimeoutError extends Error {
  constructor(location: string, idleTimeoutMs: number) {
    super(`${location}: no data for ${idleTimeoutMs} ms while reading the object; the download was abandoned`);
    this.name = 'S3ReadTimeoutError';
  }
}

/**
 * The SDK's request timeout stops at the response headers: a body that stalls afterwards would hang
 * until Lambda's own timeout (no error.json, a lock left behind). This fails it instead, after
 * `idleTimeoutMs` without a byte on the socket.
 */
function failWhenIdle(body: Readable, idleTimeoutMs: number, location: string): void {
  const socket = (body as Readable & { socket?: { setTimeout(ms: number): unknown; on(e: 'timeout', f: () => void): unknown; off(e: 'timeout', f: () => void): unknown } }).socket;
  if (!socket) return;
  const onTimeout = (): void => {
    body.destroy(new S3ReadTimeoutError(location, idleTimeoutMs));
  };
  socket.setTimeout(idleTimeoutMs);
  socket.on('timeout', onTimeout);
  body.once('close', () => {
    socket.off('timeout', onTimeout);
    socket.setTimeout(0);
  });
}

/** Reads a whole (small) object into memory; `undefined` when it does not exist. */
export async function readObjectBytes(client: S3Client, bucket: string, key: string): Promise<Uint8Array | undefined> {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!response.Body) return new Uint8Array();
    return await response.Body.transformToByteArray();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Reads and parses a small JSON object; `undefined` when it does not exist. JSON syntax errors propagate. */
export async function readJsonObject(client: S3Client, bucket: string, key: string): Promise<unknown> {
  const bytes = await readObjectBytes(client, bucket, key);
  return bytes === undefined ? undefined : (JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown);
}

/** HeadObject that answers `undefined` instead of throwing when the object is missing. */
export async function headObject(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ etag: string | undefined; contentLength: number | undefined; lastModified: Date | undefined } | undefined> {
  try {
    const response = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { etag: unquoteEtag(response.ETag), contentLength: response.ContentLength, lastModified: response.LastModified };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Writes a small object in one PutObject. */
export async function putObject(
  client: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array | string,
  contentType = 'application/octet-stream',
): Promise<void> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  // An explicit length: the SDK otherwise warns about (and buffers) bodies it cannot measure, such as ''.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length, ContentType: contentType }));
}

/** Writes `value` as pretty-printed JSON (these files are read by people too). */
export async function putJsonObject(client: S3Client, bucket: string, key: string, value: unknown): Promise<void> {
  await putObject(client, bucket, key, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
}

/** Every object under a prefix with its last-modified time (paginated). */
export async function listObjects(client: S3Client, bucket: string, prefix: string): Promise<Array<{ key: string; lastModified: Date }>> {
  const objects: Array<{ key: string; lastModified: Date }> = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) objects.push({ key: object.Key, lastModified: object.LastModified ?? new Date(0) });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

/** Every key under a prefix (paginated). */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  return (await listObjects(client, bucket, prefix)).map((o) => o.key);
}

/** The "folders" directly under a prefix (ListObjectsV2 with a `/` delimiter), without the prefix or trailing slash. */
export async function listChildPrefixes(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
    );
    for (const common of page.CommonPrefixes ?? []) {
      if (common.Prefix) names.push(common.Prefix.slice(prefix.length).replace(/\/$/, ''));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return names;
}

/** Deletes keys in batches of 1,000 (the DeleteObjects limit). */
export async function deleteKeys(client: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let start = 0; start < keys.length; start += 1000) {
    const batch = keys.slice(start, start + 1000);
    await client.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
    );
  }
}
