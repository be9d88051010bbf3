import { readFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { LOCK_FILE } from '../../functions/adapters/s3/runLock.js';
import { ERROR_FILE, SUCCESS_FILE, type ErrorReport, type SuccessManifest } from '../../functions/adapters/s3/S3OutputTarget.js';
import { deleteKeys, listKeys, putJsonObject, readObjectBytes } from '../../functions/adapters/s3/s3Objects.js';
import { tempFileSpool } from '../../functions/adapters/fs/tempFileSpool.js';
import { ChampionBundles } from '../../functions/score/championBundles.js';
import { RunInProgressError, scoreS3Object, type ScoreS3ObjectResult } from '../../functions/score/scoreS3Object.js';
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../helpers/faultProxy.js';
import { bankBundle } from './support/bankBundle.js';
import { BANK_FULL_SHIPPED, dropObject, runFiles, sha256 } from './support/s3Drops.js';

type Handler = (event: S3Event) => Promise<ScoreS3ObjectResult[]>;

let s3: EmbeddedS3;
let proxy: FaultProxy;
/** A client through the proxy, with the SDK's default retries (3 attempts). */
let client: S3Client;
let handler: Handler;
let smallGz: Buffer;
let bankFullGz: Buffer;

const MODEL = 'bank-marketing';
/** Outputs with a clock in them (start time, duration); every other output must match a fault-free run's byte for byte. */
const TIMED_FILES = ['summary.json', 'report.md', 'report.html'];

beforeAll(async () => {
  bankFullGz = await readFile(BANK_FULL_SHIPPED);
  // 8,000 rows: large enough for a body in several chunks, small enough to score quickly.
  const lines = gunzipSync(bankFullGz).toString('utf8').split('\n');
  smallGz = gzipSync(`${lines.slice(0, 8001).join('\n')}\n`);
  s3 = await startEmbeddedS3({ bucket: 'propensity-faults' });
  proxy = await startFaultProxy(s3.endpoint);
  client = new S3Client({
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...EMBEDDED_S3_CREDENTIALS },
  });
  const registry = new S3Registry(s3.client, s3.bucket);
  const champion = bankBundle();
  await registry.write(champion);
  await registry.promote(MODEL, champion.manifest.version, 'fault tests');

  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  ({ handler } = await import('../../functions/score/handler.js'));
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await proxy?.close();
  await s3?.stop();
});

interface Drop {
  readonly key: string;
  readonly etag: string;
  readonly event: S3Event;
}

async function drop(name: string, body: Buffer = smallGz): Promise<Drop> {
  const key = `incoming/${MODEL}/${name}.csv.gz`;
  const event = await dropObject(s3, key, body);
  return { key, etag: event.Records[0]!.s3.object.eTag, event };
}

function score(d: Drop): Promise<ScoreS3ObjectResult> {
  return scoreS3Object({
    client,
    bucket: s3.bucket,
    key: d.key,
    etag: d.etag,
    bundles: new ChampionBundles(new S3Registry(client, s3.bucket)),
    config: { bucket: undefined, incomingPrefix: 'incoming/', outputsPrefix: 'outputs/', batchSize: 2048 },
    spool: tempFileSpool(),
    extractIdleTimeoutMs: 1000,
  });
}

function prefixOf(result: { outputs: string }): string {
  return result.outputs.replace(`s3://${s3.bucket}/`, '');
}

async function bytesOf(key: string): Promise<Buffer> {
  const bytes = await readObjectBytes(s3.client, s3.bucket, key);
  expect(bytes, key).toBeDefined();
  return Buffer.from(bytes!);
}

/** The stable outputs of a complete run, after checking `_SUCCESS` lists exactly the objects there, with their sha256. */
async function completeRun(prefix: string): Promise<Record<string, string>> {
  const manifest = JSON.parse((await bytesOf(`${prefix}${SUCCESS_FILE}`)).toString('utf8')) as SuccessManifest;
  const names = manifest.files.map((f) => f.name).sort();
  expect(await runFiles(s3, prefix)).toEqual([...names, SUCCESS_FILE].sort());
  const stable: Record<string, string> = {};
  for (const file of manifest.files) {
    const bytes = await bytesOf(`${prefix}${file.name}`);
    expect({ name: file.name, bytes: bytes.length, sha256: sha256(bytes) }).toEqual(file);
    if (!TIMED_FILES.includes(file.name)) stable[file.name] = bytes.toString('utf8');
  }
  expect(Object.keys(stable)).toEqual(expect.arrayContaining(['scores.csv', 'targets.csv', 'rejects.csv']));
  return stable;
}

/** Scores `d` without faults, returns its stable outputs and deletes them, so the faulted run starts from nothing. */
async function faultFreeRun(d: Drop): Promise<{ prefix: string; outputs: Record<string, string> }> {
  proxy.setRules([]);
  const result = await score(d);
  expect(result.status).toBe('scored');
  const prefix = prefixOf(result as { outputs: string });
  const outputs = await completeRun(prefix);
  await deleteKeys(s3.client, s3.bucket, await listKeys(s3.client, s3.bucket, prefix));
  return { prefix, outputs };
}

/** A failed run: error.json with `code`, retryable, nothing else under the prefix (no `_SUCCESS`, no partial file, no lock). */
async function expectCleanFailure(prefix: string, code: string): Promise<ErrorReport> {
  expect(await runFiles(s3, prefix)).toEqual([ERROR_FILE]);
  const report = JSON.parse((await bytesOf(`${prefix}${ERROR_FILE}`)).toString('utf8')) as ErrorReport;
  expect(report).toMatchObject({ status: 'failed', retryable: true, error: { code } });
  return report;
}

/**
 * Runs `d` with `rules` armed. Either the SDK's retries absorb the faults (outputs equal the
 * fault-free run's), or the run fails cleanly and a redelivery without faults produces them.
 */
async function runWithFaults(name: string, rules: FaultRule[], expected: 'recovers' | { fails: string }, body?: Buffer): Promise<unknown> {
  const d = await drop(name, body);
  const clean = await faultFreeRun(d);
  proxy.setRules(rules);
  let failure: unknown;
  try {
    const result = await score(d);
    expect(result.status).toBe('scored');
  } catch (error) {
    failure = error;
  }
  const injected = proxy.injected();
  proxy.setRules([]);
  expect(injected.every((n) => n > 0), `every rule fired: ${injected.join(', ')}`).toBe(true);
  if (expected === 'recovers') {
    expect(failure).toBeUndefined();
  } else {
    expect(failure).toBeDefined();
    await expectCleanFailure(clean.prefix, expected.fails);
    // Redelivery: the same event, no faults.
    expect((await score(d)).status).toBe('scored');
  }
  expect(await completeRun(clean.prefix)).toEqual(clean.outputs);
  expect(await listKeys(s3.client, s3.bucket, `${clean.prefix}${LOCK_FILE}`)).toEqual([]);
  return failure;
}

/** bank-full's rows six times over: scores.csv passes 5 MiB, so lib-storage uploads it in parts. */
function largeExtract(): Buffer {
  const [header, ...rows] = gunzipSync(bankFullGz).toString('utf8').trimEnd().split('\n');
  const body = rows.join('\n');
  return gzipSync(`${header}\n${Array.from({ length: 6 }, () => body).join('\n')}\n`);
}

const extractPath = (name: string): RegExp => new RegExp(`/incoming/${MODEL}/${name}\\.csv\\.gz$`);
const outputPath = (file: string): RegExp => new RegExp(`/outputs/${MODEL}/[^/]+/${file.replace('.', '\\.')}$`);

describe('S3 faults through the proxy', () => {
  it('a connection dropped mid-download of the extract fails the run cleanly (retryable), and the redelivery scores it', async () => {
    const failure = await runWithFaults('dropped', [{ method: 'GET', path: extractPath('dropped'), action: { kind: 'drop', afterBytes: 20_000 } }], { fails: 'INTERNAL' });
    expect(failure).not.toHaveProperty('isInputError', true);
  }, 60_000);

  it('503 SlowDown on GetObject of the extract: the SDK retries and the outputs equal a fault-free run', async () => {
    await runWithFaults('slowdown-get', [{ method: 'GET', path: extractPath('slowdown-get'), times: 2, action: { kind: 'error', status: 503 } }], 'recovers');
  }, 60_000);

  it('500 on every GetObject attempt of the extract fails cleanly (retryable), the redelivery scores it', async () => {
    await runWithFaults('internal-get', [{ method: 'GET', path: extractPath('internal-get'), times: 3, action: { kind: 'error', status: 500 } }], { fails: 'INTERNAL' });
  }, 60_000);

  it('500 and 503 on PutObject of outputs: retried by the SDK, outputs equal a fault-free run', async () => {
    await runWithFaults(
      'put-errors',
      [
        { method: 'PUT', path: outputPath('scores.csv'), times: 2, action: { kind: 'error', status: 500 } },
        { method: 'PUT', path: outputPath('summary.json'), action: { kind: 'error', status: 503 } },
      ],
      'recovers',
    );
  }, 60_000);

  it('503 SlowDown on every PutObject attempt of scores.csv fails with OUTPUT_FAILED (retryable), no partial run, the redelivery scores it', async () => {
    await runWithFaults('put-slowdown', [{ method: 'PUT', path: outputPath('scores.csv'), times: 3, action: { kind: 'error', status: 503 } }], { fails: 'OUTPUT_FAILED' });
  }, 60_000);

  it('503 on every PutObject of _SUCCESS: the run fails cleanly, without _SUCCESS, and the redelivery completes it', async () => {
    await runWithFaults('put-success', [{ method: 'PUT', path: outputPath(SUCCESS_FILE), times: 3, action: { kind: 'error', status: 503 } }], { fails: 'OUTPUT_FAILED' });
  }, 60_000);

  it('a failed multipart upload of scores.csv (UploadPart refused on every attempt) fails cleanly, the upload is aborted, the redelivery scores it', async () => {
    const uploadPart = { method: 'PUT', path: outputPath('scores.csv'), query: /partNumber=/ };
    await runWithFaults('multipart', [{ ...uploadPart, nth: 2, times: 3, action: { kind: 'error', status: 503 } }], { fails: 'OUTPUT_FAILED' }, largeExtract());
    expect(proxy.log.some((line) => /^DELETE .*scores\.csv\?uploadId=/.test(line))).toBe(true);
  }, 180_000);

  it('a slow extract body (chunks 20 ms apart) still scores, byte-identical', async () => {
    await runWithFaults('slow', [{ method: 'GET', path: extractPath('slow'), action: { kind: 'slow', delayMs: 20, chunkBytes: 16 * 1024 } }], 'recovers');
  }, 60_000);

  it('a download that stalls past the socket timeout fails cleanly (retryable), the redelivery scores it', async () => {
    const failure = await runWithFaults('stalled', [{ method: 'GET', path: extractPath('stalled'), action: { kind: 'slow', delayMs: 3000, chunkBytes: 16 * 1024 } }], { fails: 'INTERNAL' });
    expect(failure).toMatchObject({ name: 'S3ReadTimeoutError' });
  }, 60_000);
});

describe('two deliveries of the same event', () => {
  it('at the same moment: one scores, the other finds the lock (RUN_IN_PROGRESS, retryable) or the finished run, and its retry skips', async () => {
    // Prepare
    const d = await drop('concurrent', bankFullGz);
    proxy.setRules([]);
    // Act: two handler invocations for one event, at once.
    const settled = await Promise.allSettled([handler(d.event), handler(d.event)]);
    // Assess
    const scored = settled.filter((s) => s.status === 'fulfilled' && s.value[0]?.status === 'scored');
    const others = settled.filter((s) => !(s.status === 'fulfilled' && s.value[0]?.status === 'scored'));
    expect(scored).toHaveLength(1);
    expect(others).toHaveLength(1);
    const other = others[0]!;
    if (other.status === 'rejected') {
      expect(other.reason).toBeInstanceOf(RunInProgressError);
      expect(other.reason).toMatchObject({ code: 'RUN_IN_PROGRESS', isInputError: false });
    } else {
      expect(other.value[0]?.status).toBe('skipped');
    }
    const run = (scored[0] as PromiseFulfilledResult<ScoreS3ObjectResult[]>).value[0] as { outputs: string; files: Array<{ name: string; bytes: number }> };
    const prefix = prefixOf(run);
    await completeRun(prefix);
    expect(await runFiles(s3, prefix)).not.toContain(LOCK_FILE);
    // Lambda's retry of the locked delivery finds `_SUCCESS`.
    expect((await handler(d.event))[0]?.status).toBe('skipped');
  }, 120_000);

  it('a stale lock (a run that died mid-way, leaving partial outputs) does not block: the redelivery takes it over and completes', async () => {
    // Prepare: a clean run's outputs, then the leftovers of a crashed attempt: a lock long expired and a partial scores.csv.
    const d = await drop('crashed');
    const clean = await faultFreeRun(d);
    await putJsonObject(s3.client, s3.bucket, `${clean.prefix}${LOCK_FILE}`, { runId: 'crashed', owner: 'dead', acquiredAt: '2026-11-30T00:00:00.000Z', expiresAt: '2026-11-30T00:16:00.000Z' });
    await putJsonObject(s3.client, s3.bucket, `${clean.prefix}scores.csv`, 'partial');
    // Act
    const result = await score(d);
    // Assess
    expect(result.status).toBe('scored');
    expect(await completeRun(clean.prefix)).toEqual(clean.outputs);
  }, 60_000);

  it('a live lock holds the delivery off without touching the run prefix', async () => {
    const d = await drop('live-lock');
    const clean = await faultFreeRun(d);
    const lock = { runId: 'other', owner: 'alive', acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 600_000).toISOString() };
    await putJsonObject(s3.client, s3.bucket, `${clean.prefix}${LOCK_FILE}`, lock);
    await expect(score(d)).rejects.toMatchObject({ code: 'RUN_IN_PROGRESS', isInputError: false, lockExpiresAt: lock.expiresAt });
    expect(await runFiles(s3, clean.prefix)).toEqual([LOCK_FILE]);
    await deleteKeys(s3.client, s3.bucket, [`${clean.prefix}${LOCK_FILE}`]);
    expect((await score(d)).status).toBe('scored');
    expect(await completeRun(clean.prefix)).toEqual(clean.outputs);
  }, 60_000);
});
