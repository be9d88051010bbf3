import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putObject, readObjectBytes } from '../../functions/adapters/s3/s3Objects.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';

describe('the embedded S3 server (npm start, the integration tests)', () => {
  let s3: EmbeddedS3;
  beforeAll(async () => {
    s3 = await startEmbeddedS3({ bucket: 'propensity-guard' });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('listens on 127.0.0.1 only', () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it.each(['incoming/../../escape.csv', '../escape.csv', 'incoming/./x.csv'])(
    'refuses the key %s, and writes nothing outside its folder',
    async (key) => {
      const error = await putObject(s3.client, s3.bucket, key, 'id\n1\n').catch((e: unknown) => e);
      expect(error).toMatchObject({ $metadata: { httpStatusCode: 400 } });
      expect(existsSync(path.join(s3.directory, 'escape.csv'))).toBe(false);
      expect(existsSync(path.join(path.dirname(s3.directory), 'escape.csv'))).toBe(false);
    },
  );

  it('still stores and serves ordinary keys, dots inside names included', async () => {
    await putObject(s3.client, s3.bucket, 'incoming/bank-marketing/v1..2/bank.full.csv', 'id\n1\n');
    expect(Buffer.from((await readObjectBytes(s3.client, s3.bucket, 'incoming/bank-marketing/v1..2/bank.full.csv'))!).toString()).toBe('id\n1\n');
    expect(await readdir(path.join(s3.directory, 'propensity-guard'))).toContain('incoming');
    // A key that merely spells %2E%2E is an ordinary key, stored inside the bucket's folder.
    await putObject(s3.client, s3.bucket, 'incoming/%2E%2E/%2E%2E/escape.csv', 'id\n1\n');
    expect(existsSync(path.join(s3.directory, 'escape.csv'))).toBe(false);
    expect(existsSync(path.join(path.dirname(s3.directory), 'escape.csv'))).toBe(false);
  });
});
