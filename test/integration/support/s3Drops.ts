import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Event } from 'aws-lambda';
import { listKeys, putObject, readObjectBytes } from '../../../functions/adapters/s3/s3Objects.js';
import { dataset } from '../../helpers/datasets.js';
import type { EmbeddedS3 } from '../../helpers/embeddedS3.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BANK_FULL = dataset('bank-marketing/bank-full.csv');
/** The gzipped copy of bank-full.csv shipped for `npm start` (byte-identical once gunzipped). */
export const BANK_FULL_SHIPPED = path.join(REPO_ROOT, 'functions', 'local', 'sample', 'bank-full.csv.gz');

/** Resolves with the first ObjectCreated notification for `key` (keys in events are URL-encoded, as in AWS). */
export function nextEventFor(s3: EmbeddedS3, key: string): Promise<S3Event> {
  return new Promise((resolve) => {
    const stop = s3.onEvent((event) => {
      const record = event.Records[0]!;
      if (record.eventName.startsWith('ObjectCreated:') && decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')) === key) {
        stop();
        resolve(event);
      }
    });
  });
}

/** Puts an object the way a warehouse would, and returns the notification S3 sends for it. */
export async function dropObject(s3: EmbeddedS3, key: string, body: Uint8Array | string): Promise<S3Event> {
  const event = nextEventFor(s3, key);
  await putObject(s3.client, s3.bucket, key, body);
  return event;
}

export async function objectText(s3: EmbeddedS3, key: string, bucket = s3.bucket): Promise<string | undefined> {
  const bytes = await readObjectBytes(s3.client, bucket, key);
  return bytes && Buffer.from(bytes).toString('utf8');
}

export async function objectJson<T = Record<string, unknown>>(s3: EmbeddedS3, key: string, bucket = s3.bucket): Promise<T | undefined> {
  const text = await objectText(s3, key, bucket);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

/** Names under a run prefix, without the prefix. */
export async function runFiles(s3: EmbeddedS3, prefix: string): Promise<string[]> {
  return (await listKeys(s3.client, s3.bucket, prefix)).map((key) => key.slice(prefix.length)).sort();
}

export { sha256Hex as sha256 } from '../../../functions/core/bundle/bundle.js';
