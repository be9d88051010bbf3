import { createInterface } from 'node:readline';
import { Readable, Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Spool, SpoolChannel } from '../../core/engine/spool.js';
import { getObjectStream } from './s3Objects.js';

const SUFFIX = '.spool';

/** Key of one spool channel under a part's prefix: `<prefix><channel>.spool`. */
export function spoolChannelKey(prefix: string, channel: SpoolChannel): string {
  return `${prefix}${channel}${SUFFIX}`;
}

/**
 * Copies every channel of a closed spool to `<prefix><channel>.spool` (multipart `Upload`, bounded
 * memory), so a part scored in one Lambda can be merged in another. Overwrites: a retried part
 * replaces its own objects.
 */
export async function uploadSpool(client: S3Client, bucket: string, prefix: string, spool: Spool): Promise<void> {
  for (const channel of spool.channels()) {
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: spoolChannelKey(prefix, channel), Body: Readable.from(spool.bytes(channel)), ContentType: 'text/plain; charset=utf-8' },
      partSize: 8 * 1024 * 1024,
      queueSize: 4,
      leavePartsOnError: false,
    });
    await upload.done();
  }
}

/** The write side of a read-only spool: already finished. */
function endedWritable(): Writable {
  const stream = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  stream.end();
  return stream;
}

/**
 * A part's spool read back from S3 (written by {@link uploadSpool}): `lines()` and `bytes()` stream
 * GetObject, nothing is downloaded whole. Read-only. `dispose()` deletes nothing: the part's objects
 * go with the run's whole `_parts/` prefix, which the merge or abort step deletes.
 */
export class S3PartSpool implements Spool {
  readonly scores = endedWritable();
  readonly rejects = endedWritable();

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly names: readonly SpoolChannel[],
  ) {}

  open(channel: SpoolChannel): Writable {
    throw new Error(`spool channel "${channel}" cannot be opened: a spool read from S3 is read-only`);
  }

  channels(): readonly SpoolChannel[] {
    return [...this.names];
  }

  async close(): Promise<void> {}

  lines(channel: SpoolChannel): AsyncIterable<string> {
    const bytes = this.bytes(channel);
    return createInterface({ input: Readable.from(bytes), crlfDelay: Infinity });
  }

  bytes(channel: SpoolChannel): AsyncIterable<Uint8Array> {
    if (!this.names.includes(channel)) throw new Error(`the spool has no channel "${channel}"`);
    const { client, bucket } = this;
    const key = spoolChannelKey(this.prefix, channel);
    return {
      async *[Symbol.asyncIterator]() {
        const { body } = await getObjectStream(client, bucket, key, { idleTimeoutMs: 60_000 });
        yield* body as AsyncIterable<Uint8Array>;
      },
    };
  }

  async dispose(): Promise<void> {}
}
