import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3ByteRanges } from '../../functions/adapters/s3/s3ByteRanges.js';
import { openPartRange } from '../../functions/adapters/workers/partSource.js';
import { planParts } from '../../functions/core/extract/planParts.js';
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';

let s3: EmbeddedS3;
const key = 'incoming/m/ranges.csv';
// 3,000 lines, one with a quoted line break that no part may cut.
const lines = ['id,note', ...Array.from({ length: 2999 }, (_, i) => (i === 1500 ? `${i},"two\nlines"` : `${i},plain`))];
const body = Buffer.from(`${lines.join('\n')}\n`);

beforeAll(async () => {
  s3 = await startEmbeddedS3({ bucket: 'byte-ranges-it' });
  // A worker's client finds its credentials in the environment, as in Lambda (never in a message).
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey });
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
});

afterAll(async () => {
  await s3?.stop();
});

describe('s3ByteRanges: an S3 object as ranged GETs', () => {
  it('reads exact byte ranges, and plans the same line-aligned parts as over the bytes in memory', async () => {
    // Prepare
    const reader = s3ByteRanges(s3.client, { bucket: s3.bucket, key }, body.length);
    const memory = { size: body.length, read: (start: number, end: number) => Promise.resolve(body.subarray(start, end)) };
    // Act
    const slice = await reader.read(10, 30);
    const plan = await planParts(reader, 4);
    // Assess
    expect(Buffer.from(slice).toString()).toBe(body.subarray(10, 30).toString());
    expect(plan).toEqual(await planParts(memory, 4));
    expect(plan).toHaveLength(4);
    expect(plan[plan.length - 1]!.end).toBe(body.length);
  });

  it('streams a part to a worker with a ranged GET of the same object (endpoint and region as plain settings)', async () => {
    const chunks: Buffer[] = [];
    const stream = await openPartRange({ kind: 's3', bucket: s3.bucket, key, endpoint: s3.endpoint, region: 'us-east-1' }, { start: 100, end: 2000 });
    for await (const chunk of stream) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).equals(body.subarray(100, 2000))).toBe(true);
  });

  it('refuses a range of an object that changed since the run opened it (another ETag)', async () => {
    const reader = s3ByteRanges(s3.client, { bucket: s3.bucket, key, etag: '"0123456789abcdef0123456789abcdef"' }, body.length);
    // S3 answers 412 to If-Match; s3rver ignores it, and the returned ETag check catches it instead.
    await expect(reader.read(0, 10)).rejects.toThrow(/changed while the run was reading it|PreconditionFailed/);
  });
});
