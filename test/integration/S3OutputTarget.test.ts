import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExtractError, OutputError } from '../../functions/core/errors.js';
import { ERROR_FILE, S3OutputTarget, SUCCESS_FILE, type ErrorReport } from '../../functions/adapters/s3/S3OutputTarget.js';
import { LocalOutputTarget } from '../../functions/adapters/fs/localOutputTarget.js';
import { headObject, listKeys, putObject, readJsonObject, readObjectBytes } from '../../functions/adapters/s3/s3Objects.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { sha256Hex } from './support/tinyBundle.js';

let s3: EmbeddedS3;
beforeAll(async () => {
  s3 = await startEmbeddedS3({ bucket: 'outputs-test' });
});
afterAll(async () => {
  await s3.stop();
});

const source = { bucket: 'outputs-test', key: 'incoming/tiny/a.csv', etag: 'abc123' };
const fixedClock = () => new Date('2026-11-23T10:00:00.000Z');

function target(prefix: string, extra: Partial<ConstructorParameters<typeof S3OutputTarget>[0]> = {}): S3OutputTarget {
  return new S3OutputTarget({ client: s3.client, bucket: s3.bucket, prefix, run: { runId: prefix, source }, now: fixedClock, ...extra });
}

async function text(key: string): Promise<string | undefined> {
  const bytes = await readObjectBytes(s3.client, s3.bucket, key);
  return bytes && Buffer.from(bytes).toString('utf8');
}

describe('S3OutputTarget', () => {
  it('streams each output, then writes _SUCCESS last with sizes and sha256 of the stored objects', async () => {
    // Prepare: a stale error.json from an earlier failed attempt of the same run.
    await putObject(s3.client, s3.bucket, 'outputs/ok/error.json', '{}');
    const out = target('outputs/ok');
    // Act
    const scores = out.open('scores.csv');
    scores.write('id,score\n');
    scores.write(Buffer.from('1,0.5\n'));
    scores.end('2,0.25\n');
    out.open('summary.json').end('{"rows":2}');
    const records = await out.commit();
    // Assess
    const scoresText = await text('outputs/ok/scores.csv');
    expect(scoresText).toBe('id,score\n1,0.5\n2,0.25\n');
    expect(records).toEqual([
      { name: 'scores.csv', bytes: Buffer.byteLength(scoresText!), sha256: sha256Hex(scoresText!) },
      { name: 'summary.json', bytes: 10, sha256: sha256Hex('{"rows":2}') },
    ]);
    expect(await readJsonObject(s3.client, s3.bucket, `outputs/ok/${SUCCESS_FILE}`)).toEqual({
      runId: 'outputs/ok',
      source,
      files: records,
      completedAt: '2026-11-23T10:00:00.000Z',
    });
    expect(await headObject(s3.client, s3.bucket, `outputs/ok/${ERROR_FILE}`)).toBeUndefined();
    expect(out.location).toBe('s3://outputs-test/outputs/ok/');
  });

  it('uploads a file larger than one part as a multipart upload, hashing every byte', async () => {
    const out = target('outputs/big/', { partSize: 5 * 1024 * 1024, queueSize: 2 });
    const stream = out.open('scores.csv');
    const line = Buffer.from(`${'x'.repeat(99)}\n`);
    const lines = 120_000; // 12 MB: three parts
    for (let i = 0; i < lines; i++) {
      if (!stream.write(line)) await once(stream, 'drain');
    }
    stream.end();
    const [record] = await out.commit();
    const stored = await readObjectBytes(s3.client, s3.bucket, 'outputs/big/scores.csv');
    expect(stored?.length).toBe(line.length * lines);
    expect(record).toEqual({ name: 'scores.csv', bytes: line.length * lines, sha256: sha256Hex(stored!) });
  });

  it('abort deletes the outputs it wrote, writes error.json with the error context, and no _SUCCESS', async () => {
    const out = target('outputs/failed/');
    out.open('scores.csv').end('id,score\n1,0.5\n');
    const unfinished = out.open('targets.csv');
    unfinished.write('id,rank\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const error = new ExtractError('EXTRACT_MISSING_COLUMN', 'column "age" is missing', {
      file: 's3://outputs-test/incoming/tiny/a.csv',
      line: 1,
      column: 'age',
    });
    await out.abort(error);
    expect(await listKeys(s3.client, s3.bucket, 'outputs/failed/')).toEqual([`outputs/failed/${ERROR_FILE}`]);
    expect(await readJsonObject(s3.client, s3.bucket, `outputs/failed/${ERROR_FILE}`)).toEqual({
      runId: 'outputs/failed/',
      source,
      status: 'failed',
      failedAt: '2026-11-23T10:00:00.000Z',
      retryable: false,
      error: {
        name: 'ExtractError',
        code: 'EXTRACT_MISSING_COLUMN',
        message: 's3://outputs-test/incoming/tiny/a.csv:1 (column "age"): column "age" is missing',
        file: 's3://outputs-test/incoming/tiny/a.csv',
        line: 1,
        column: 'age',
      },
    });
    expect(() => out.open('late.csv')).toThrow(OutputError);
  });

  it('abort right after a writer finished leaves no output behind (the finished upload is awaited, then deleted)', async () => {
    // Prepare: a finished output whose PUT is still on the wire when the run fails.
    const out = target('outputs/just-finished/');
    out.open('scores.csv').end('id,score\n1,0.5\n');
    await new Promise((resolve) => setImmediate(resolve));
    // Act
    await out.abort(new TypeError('boom'));
    // Assess
    expect(await listKeys(s3.client, s3.bucket, 'outputs/just-finished/')).toEqual([`outputs/just-finished/${ERROR_FILE}`]);
  });

  it('records a plain Error as INTERNAL', async () => {
    const out = target('outputs/internal/');
    await out.abort(new TypeError('boom'));
    const report = (await readJsonObject(s3.client, s3.bucket, `outputs/internal/${ERROR_FILE}`)) as { error: unknown };
    expect(report.error).toEqual({ name: 'TypeError', code: 'INTERNAL', message: 'boom' });
  });

  it('writes the same error.json body as the local target for the same error, plus the run identity', async () => {
    // Prepare: one error, two targets on the same clock.
    const error = new ExtractError('EXTRACT_ENCODING', 'not valid UTF-8', { file: 'calls.csv', line: 3 });
    const dir = await mkdtemp(path.join(tmpdir(), 'propensity-error-json-'));
    try {
      // Act
      await new LocalOutputTarget(dir, { now: fixedClock }).abort(error);
      await target('outputs/same/').abort(error);
      // Assess
      const local = JSON.parse(await readFile(path.join(dir, ERROR_FILE), 'utf8')) as Record<string, unknown>;
      const { runId, source: run, model, ...remote } = (await readJsonObject(s3.client, s3.bucket, `outputs/same/${ERROR_FILE}`)) as ErrorReport;
      expect(remote).toEqual(local);
      expect(local).toEqual({
        status: 'failed',
        failedAt: '2026-11-23T10:00:00.000Z',
        retryable: false,
        error: { name: 'ExtractError', code: 'EXTRACT_ENCODING', message: 'calls.csv:3: not valid UTF-8', file: 'calls.csv', line: 3 },
      });
      expect({ runId, run, model }).toEqual({ runId: 'outputs/same/', run: source, model: undefined });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to commit while an output is still open', async () => {
    const out = target('outputs/open/');
    out.open('scores.csv').write('id\n');
    const error = await out.commit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputError);
    expect(error).toMatchObject({ code: 'OUTPUT_FAILED', output: 'outputs/open/scores.csv' });
    expect((error as Error).message).toBe('outputs/open/scores.csv: was never closed (call end() before commit)');
    await out.abort(error);
    expect(await headObject(s3.client, s3.bucket, `outputs/open/${SUCCESS_FILE}`)).toBeUndefined();
  });

  it('refuses reserved, invalid and duplicate output names', () => {
    const out = target('outputs/names/');
    expect(() => out.open(SUCCESS_FILE)).toThrow('outputs/names/_SUCCESS: is reserved for the run manifest');
    expect(() => out.open('../escape.csv')).toThrow('outputs/names/../escape.csv: is not a valid output name');
    out.open('scores.csv');
    expect(() => out.open('scores.csv')).toThrow('outputs/names/scores.csv: was opened twice');
  });

  it('fails the commit when an upload fails after the writer finished', async () => {
    const out = new S3OutputTarget({ client: s3.client, bucket: 'no-such-bucket', prefix: 'x/', run: { runId: 'x', source } });
    out.open('scores.csv').end('id\n');
    await expect(out.commit()).rejects.toMatchObject({ code: 'OUTPUT_FAILED', message: 'x/scores.csv: upload failed' });
  });

  it('fails the writer itself when the upload fails mid-stream, so the engine never blocks on backpressure', async () => {
    const out = new S3OutputTarget({ client: s3.client, bucket: 'no-such-bucket', prefix: 'y/', run: { runId: 'y', source } });
    const stream = out.open('scores.csv');
    const failed = once(stream, 'error');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    // More than one part: the first part goes out (and fails) while we are still writing.
    void (async () => {
      for (let i = 0; i < 200 && !stream.destroyed; i++) {
        if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve).once('close', resolve));
      }
    })();
    const streamError: unknown = (await failed)[0];
    expect(streamError).toMatchObject({ code: 'OUTPUT_FAILED', output: 'y/scores.csv', message: 'y/scores.csv: upload failed' });
    await out.abort(streamError);
  });
});
