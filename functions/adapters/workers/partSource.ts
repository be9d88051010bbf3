import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ExtractPart } from '../../core/extract/planParts.js';
import type { S3ObjectVersion } from '../s3/s3ByteRanges.js';

/**
 * Where a worker thread reads its byte range from: plain data (it crosses the thread boundary),
 * never a stream or a client. For S3 it carries the client's settings (endpoint, region), never
 * credentials: a worker finds those where the main thread did, in its (copied) environment.
 */
export type PartSource =
  | { readonly kind: 'file'; readonly file: string }
  | ({ readonly kind: 's3'; readonly endpoint?: string | undefined; readonly region?: string | undefined; readonly idleTimeoutMs?: number | undefined } & S3ObjectVersion);

/** Chunk size of a local read, and the grid chunks are aligned to (Node's default for file streams). */
const FILE_CHUNK = 64 * 1024;

/**
 * The bytes `[range.start, range.end)` of a part's source, as a stream.
 *
 * A local range is read in chunks aligned to the whole file's 64 KiB grid, as `createReadStream(file)`
 * reads the whole file: the `maxBytes` limit is checked per chunk, so a part that crosses it stops at
 * the same chunk, and names the same line, as a single pass would.
 */
export async function openPartRange(source: PartSource, range: Pick<ExtractPart, 'start' | 'end'>): Promise<AsyncIterable<Uint8Array>> {
  if (source.kind === 'file') return alignedFileRange(source.file, range.start, range.end);
  // Loaded on first use: the AWS SDK adds ~0.2 s to every worker's start, and a local run never needs it.
  const [{ createS3Client }, { getObjectRange }] = await Promise.all([import('../s3/s3Objects.js'), import('../s3/s3ByteRanges.js')]);
  const client = createS3Client(source.endpoint, source.region);
  try {
    const body: Readable = await getObjectRange(client, source, range, { idleTimeoutMs: source.idleTimeoutMs });
    // The client's sockets go with the stream: a worker scores several parts, each with its own GET.
    body.once('close', () => client.destroy());
    return body;
  } catch (error) {
    client.destroy();
    throw error;
  }
}

async function* alignedFileRange(file: string, start: number, end: number): AsyncGenerator<Uint8Array> {
  const gridEnd = Math.min(end, Math.ceil(start / FILE_CHUNK) * FILE_CHUNK);
  if (gridEnd > start) yield* createReadStream(file, { start, end: gridEnd - 1 }) as AsyncIterable<Buffer>;
  if (end > gridEnd) yield* createReadStream(file, { start: gridEnd, end: end - 1, highWaterMark: FILE_CHUNK }) as AsyncIterable<Buffer>;
}
