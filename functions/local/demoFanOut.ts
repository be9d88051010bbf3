import { readJsonObject } from '../adapters/s3/s3Objects.js';
import type { EmbeddedS3 } from './embeddedS3.js';

/** A small JSON output of a run (summary.json, _SUCCESS) that must exist. */
export async function readObjectJson<T>(s3: EmbeddedS3, key: string): Promise<T> {
  const value = await readJsonObject(s3.client, s3.bucket, key);
  if (value === undefined) throw new Error(`s3://${s3.bucket}/${key} is missing`);
  return value as T;
}
