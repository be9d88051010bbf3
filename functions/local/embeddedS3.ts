import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import S3rver from 's3rver';

/** The access key and secret s3rver checks signatures against. */
export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const EMBEDDED_S3_REGION = 'us-east-1';

export interface EmbeddedS3Options {
  /** Bucket created at start. Default `propensity`. */
  readonly bucket?: string;
  /** Default 127.0.0.1: the server is never reachable from other machines. */
  readonly address?: string;
  /** Default 0: the operating system picks a free port. */
  readonly port?: number;
  /** Where objects are stored; default a fresh temporary folder, removed by `stop()`. */
  readonly directory?: string;
}

export interface EmbeddedS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly bucket: string;
  readonly directory: string;
  /** A client configured for this server (path-style, fixed credentials). */
  readonly client: S3Client;
  /** Another client, e.g. one per simulated caller. */
  createClient(): S3Client;
  /**
   * Calls `listener` with every S3 notification, in the shape Lambda receives it (one record per
   * event, keys URL-encoded the way S3 encodes them). Returns a function that unsubscribes.
   */
  onEvent(listener: (event: S3Event) => void): () => void;
  /** Closes the server and removes the temporary folder it created. */
  stop(): Promise<void>;
}

/**
 * S3 writes object keys into notifications URL-encoded, with spaces as `+`; s3rver sends them raw.
 * Encoding them here means the handler decodes exactly what it would decode in AWS.
 */
export function encodeEventKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%20/g, '+'),
    )
    .join('/');
}

/**
 * s3rver stores an object at `<directory>/<bucket>/<key>`: a key with a `..` (or `.`) segment would
 * be written outside its folder. Such requests are refused before s3rver sees them, as S3 would
 * refuse a key it cannot store.
 */
async function refuseDotSegments(ctx: { readonly path: string; status: number; type: string; body: unknown }, next: () => Promise<void>): Promise<void> {
  const segments = ctx.path.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  });
  if (segments.some((segment) => segment === '..' || segment === '.')) {
    ctx.status = 400;
    ctx.type = 'application/xml';
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code><Message>keys with "." or ".." segments are refused</Message></Error>';
    return;
  }
  await next();
}

/** Builds an S3 client for an S3-compatible endpoint (path-style addressing, as s3rver needs). */
export function createEmbeddedS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: EMBEDDED_S3_REGION,
    forcePathStyle: true,
    credentials: { ...EMBEDDED_S3_CREDENTIALS },
  });
}

/**
 * Starts an S3-compatible server (s3rver) on 127.0.0.1 with an ephemeral port and a temporary
 * folder, and creates the bucket. Used by `npm start` and by the integration tests.
 *
 * @example
 * const s3 = await startEmbeddedS3({ bucket: 'propensity' });
 * s3.onEvent((event) => handler(event));
 * await s3.stop();
 */
export async function startEmbeddedS3(options: EmbeddedS3Options = {}): Promise<EmbeddedS3> {
  const bucket = options.bucket ?? 'propensity';
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'propensity-s3-')));
  const server = new S3rver({
    address: options.address ?? '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  // First in the chain: no other middleware, and no store, sees such a key.
  server.middleware.unshift(refuseDotSegments);
  let address;
  try {
    address = await server.run();
  } catch (error) {
    if (ownsDirectory) await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://${address.address}:${address.port}`;
  const clients: S3Client[] = [];
  const createClient = (): S3Client => {
    const client = createEmbeddedS3Client(endpoint);
    clients.push(client);
    return client;
  };
  const listeners = new Set<(event: { Records: unknown[] }) => void>();

  return {
    endpoint,
    port: address.port,
    bucket,
    directory,
    client: createClient(),
    createClient,
    onEvent(listener) {
      const forward = (raw: { Records: unknown[] }): void => {
        for (const record of raw.Records as S3EventRecord[]) {
          const encoded: S3EventRecord = {
            ...record,
            s3: { ...record.s3, object: { ...record.s3.object, key: encodeEventKey(record.s3.object.key) } },
          };
          listener({ Records: [encoded] });
        }
      };
      listeners.add(forward);
      server.on('event', forward);
      return () => {
        listeners.delete(forward);
        server.off('event', forward);
      };
    },
    async stop() {
      for (const forward of listeners) server.off('event', forward);
      listeners.clear();
      for (const client of clients) client.destroy();
      await server.close();
      if (ownsDirectory) await rm(directory, { recursive: true, force: true });
    },
  };
}
