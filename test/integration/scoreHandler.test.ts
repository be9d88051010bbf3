import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { putObject } from '../../functions/adapters/s3/s3Objects.js';
import { PropensityError } from '../../functions/core/errors.js';
import type { RunSummary } from '../../functions/core/engine/runSummary.js';
import type { ScoreS3ObjectResult } from '../../functions/score/scoreS3Object.js';
import { FsRegistry } from '../../functions/adapters/fs/fsRegistry.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { BANK_COLUMNS, bankBundle, bankProbability } from './support/bankBundle.js';
import { BANK_FULL_SHIPPED, dropObject, objectJson, objectText, runFiles, sha256 } from './support/s3Drops.js';

type Handler = (event: S3Event) => Promise<ScoreS3ObjectResult[]>;
type Scored = Extract<ScoreS3ObjectResult, { status: 'scored' }>;

let s3: EmbeddedS3;
let handler: Handler;
let bundledDir: string;
let bankFull: Buffer;
let bankFullGz: Buffer;

const SMALL_HEADER = '"age";"job";"balance";"duration";"campaign";"y"';
const SMALL_ROWS = ['58;"management";2143;261;1;"no"', '44;"technician";29;151;1;"no"', '33;"entrepreneur";2;76;1;"no"', '47;"blue-collar";1506;1692;2;"yes"'];
const SMALL = `${SMALL_HEADER}\n${SMALL_ROWS.join('\n')}\n`;

beforeAll(async () => {
  bankFullGz = await readFile(BANK_FULL_SHIPPED);
  const { gunzipSync } = await import('node:zlib');
  bankFull = gunzipSync(bankFullGz);
  s3 = await startEmbeddedS3({ bucket: 'propensity-it' });
  // Prepare: the champion in the S3 registry, and a bundled registry holding only `bank-fallback`.
  const registry = new S3Registry(s3.client, s3.bucket);
  const champion = bankBundle();
  await registry.write(champion);
  await registry.promote('bank-marketing', champion.manifest.version, 'integration test');
  bundledDir = await mkdtemp(path.join(tmpdir(), 'propensity-bundled-'));
  const bundled = new FsRegistry(bundledDir);
  await bundled.write(bankBundle('2026-11-01T0000-bundled', 'bank-fallback'));
  await bundled.promote('bank-fallback', '2026-11-01T0000-bundled', 'shipped with the function');

  Object.assign(process.env, {
    AWS_ENDPOINT_URL: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    BUNDLED_MODELS_DIR: bundledDir,
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  // The handler reads its config once, at import (cold start): import it after the environment is set.
  ({ handler } = await import('../../functions/score/handler.js'));
});

afterAll(async () => {
  await s3?.stop();
  await rm(bundledDir, { recursive: true, force: true });
});

async function scored(event: S3Event): Promise<Scored> {
  const [result] = await handler(event);
  expect(result?.status).toBe('scored');
  return result as Scored;
}

/** The run id the function must derive: file stem + sha256(key, ETag), recomputed here from the event. */
function runIdOf(event: S3Event): string {
  const { key, eTag } = event.Records[0]!.s3.object;
  const decoded = decodeURIComponent(key.replace(/\+/g, ' '));
  const stem = decoded.split('/').at(-1)!.replace(/\.csv(\.gz)?$/, '');
  return `${stem}-${sha256(`${decoded}\n${eTag}`).slice(0, 12)}`;
}

function prefixOf(result: { outputs: string }): string {
  return result.outputs.replace(`s3://${s3.bucket}/`, '');
}

async function objectStates(prefix: string): Promise<Array<{ key?: string; etag?: string; modified?: number }>> {
  const page = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => ({ key: o.Key, etag: o.ETag, modified: o.LastModified?.getTime() }));
}

async function failure(event: S3Event): Promise<PropensityError> {
  const error = await handler(event).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PropensityError);
  return error as PropensityError;
}

describe('score handler against the embedded S3', () => {
  it('scores a gzipped extract dropped into incoming/ and writes every output, _SUCCESS last with true sha256s', async () => {
    // Act
    const key = 'incoming/bank-marketing/2026/11/bank-full.csv.gz';
    const result = await scored(await dropObject(s3, key, bankFullGz));
    // Assess: the run id is the stem plus 12 hex digits, the layout is outputs/<model>/<run-id>/.
    expect(result.runId).toMatch(/^bank-full-[0-9a-f]{12}$/);
    expect(result.outputs).toBe(`s3://propensity-it/outputs/bank-marketing/${result.runId}/`);
    expect(result).toMatchObject({ model: 'bank-marketing', modelVersion: '2026-11-23T0900-test01', bundleOrigin: 'registry', economicsSource: 'bundle' });
    const prefix = prefixOf(result);
    expect(await runFiles(s3, prefix)).toEqual(['_SUCCESS', 'rejects.csv', 'report.html', 'report.md', 'scores.csv', 'summary.json', 'targets.csv']);

    const success = await objectJson<{ runId: string; files: Array<{ name: string; bytes: number; sha256: string }>; source: Record<string, unknown>; model: unknown }>(
      s3,
      `${prefix}_SUCCESS`,
    );
    expect(success?.runId).toBe(result.runId);
    expect(success?.source).toEqual({ bucket: 'propensity-it', key, etag: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown });
    expect(success?.model).toEqual({ name: 'bank-marketing', version: '2026-11-23T0900-test01' });
    expect(success?.files.map((f) => f.name).sort()).toEqual(['rejects.csv', 'report.html', 'report.md', 'scores.csv', 'summary.json', 'targets.csv']);
    for (const file of success!.files) {
      const stored = Buffer.from((await objectText(s3, `${prefix}${file.name}`))!, 'utf8');
      expect({ name: file.name, bytes: stored.length, sha256: sha256(stored) }).toEqual(file);
    }
    // The HTML report opens in a browser straight from S3 (a presigned URL, the console).
    const html = await s3.client.send(new HeadObjectCommand({ Bucket: 'propensity-it', Key: `${prefix}report.html` }));
    expect(html.ContentType).toBe('text/html; charset=utf-8');

    // Every row of the 45,211 is scored with the bundle's known weights.
    const summary = (await objectJson<RunSummary>(s3, `${prefix}summary.json`))!;
    expect(summary.rows).toEqual({ read: 45211, scored: 45211, rejected: 0, rejectReasons: {} });
    expect(summary.source).toBe(`s3://propensity-it/${key}`);
    const scores = (await objectText(s3, `${prefix}scores.csv`))!.trimEnd().split('\n');
    expect(scores).toHaveLength(45212);
    expect(scores[0]).toBe('line,probability,predicted,decile');
    const header = bankFull.toString('utf8', 0, 400).split('\n')[0]!.split(';').map((h) => h.replaceAll('"', ''));
    const firstRows = bankFull.toString('utf8', 0, 2000).split('\n').slice(1, 6);
    firstRows.forEach((line, i) => {
      const fields = line.split(';');
      const values = BANK_COLUMNS.map((c) => Number(fields[header.indexOf(c.name)]));
      const [lineNo, probability, predicted] = scores[i + 1]!.split(',');
      expect(Number(lineNo)).toBe(i + 2);
      expect(Number(probability)).toBeCloseTo(bankProbability(values), 5);
      // predicted follows the run's economics (EUR 5 a contact, 60 a response): worth it when p·60 > 5.
      expect(predicted).toBe(bankProbability(values) * 60 > 5 ? 'yes' : 'no');
    });
    // …so, with no budget, exactly as many rows say yes as targets.csv lists.
    expect(scores.slice(1).filter((row) => row.split(',')[2] === 'yes')).toHaveLength(summary.selected);

    // The target list is what max-expected-profit chooses: every p·60 > 5, best first.
    const targets = (await objectText(s3, `${prefix}targets.csv`))!.trimEnd().split('\n');
    expect(targets.length - 1).toBe(summary.selected);
    expect(summary.selected).toBeGreaterThan(0);
    expect(summary.campaign?.selection.contacts).toBe(summary.selected);
    const probabilities = targets.slice(1).map((row) => Number(row.split(',')[2]));
    expect(probabilities.every((p) => p * 60 > 5 - 1e-6)).toBe(true);
    expect([...probabilities].sort((a, b) => b - a)).toEqual(probabilities);
    expect(await objectText(s3, `${prefix}rejects.csv`)).toBe('line,column,reason,detail,raw\n');
  });

  it('skips a redelivered event: the run is found complete and no output changes', async () => {
    const key = 'incoming/bank-marketing/redelivered.csv';
    const event = await dropObject(s3, key, SMALL);
    const first = await scored(event);
    const before = await objectStates(prefixOf(first));
    await new Promise((resolve) => setTimeout(resolve, 1100)); // LastModified has one-second resolution
    // Act: S3 delivers at least once; the same event arrives again.
    const [again] = await handler(event);
    // Assess
    expect(again).toEqual({ status: 'skipped', key, runId: first.runId, model: 'bank-marketing', outputs: first.outputs });
    expect(await objectStates(prefixOf(first))).toEqual(before);
  });

  it('gives a new run id to a new upload of the same key', async () => {
    const key = 'incoming/bank-marketing/reuploaded.csv';
    const first = await scored(await dropObject(s3, key, SMALL));
    const second = await scored(await dropObject(s3, key, SMALL.replace('2143', '2144')));
    expect(second.runId).not.toBe(first.runId);
    expect(await runFiles(s3, prefixOf(second))).toContain('_SUCCESS');
  });

  it('skips an event whose object was overwritten or deleted since, writing nothing', async () => {
    const key = 'incoming/bank-marketing/overwritten.csv';
    const stale = await dropObject(s3, key, SMALL);
    await dropObject(s3, key, SMALL.replace('2143', '9999'));
    expect(await handler(stale)).toEqual([
      { status: 'superseded', reason: 'changed', key, runId: runIdOf(stale), model: 'bank-marketing', outputs: `s3://propensity-it/outputs/bank-marketing/${runIdOf(stale)}/` },
    ]);
    const gone = await dropObject(s3, 'incoming/bank-marketing/deleted.csv', SMALL);
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'incoming/bank-marketing/deleted.csv' }));
    expect(await handler(gone)).toMatchObject([{ status: 'superseded', reason: 'deleted' }]);
    expect(await runFiles(s3, `outputs/bank-marketing/${runIdOf(stale)}/`)).toEqual([]);
    expect(await runFiles(s3, `outputs/bank-marketing/${runIdOf(gone)}/`)).toEqual([]);
  });

  it('completes two extracts dropped at the same time', async () => {
    const [a, b] = await Promise.all([
      dropObject(s3, 'incoming/bank-marketing/concurrent/a.csv.gz', gzipSync(SMALL)),
      dropObject(s3, 'incoming/bank-marketing/concurrent/b.csv', bankFull.subarray(0, bankFull.indexOf('\n', 200_000) + 1)),
    ]);
    const [ra, rb] = await Promise.all([scored(a), scored(b)]);
    expect(ra.summary.rows.read).toBe(4);
    expect(rb.summary.rows.read).toBe(bankFull.subarray(0, bankFull.indexOf('\n', 200_000) + 1).toString().split('\n').length - 2);
    for (const run of [ra, rb]) {
      const success = await objectJson<{ files: unknown[] }>(s3, `${prefixOf(run)}_SUCCESS`);
      expect(success?.files).toHaveLength(6);
    }
  });

  it('uses the sidecar <extract>.economics.json over the bundle defaults', async () => {
    const key = 'incoming/bank-marketing/sidecar.csv';
    await putObject(s3.client, s3.bucket, `${key}.economics.json`, JSON.stringify({ costPerContact: 20, policy: 'top-k', k: 2 }));
    const result = await scored(await dropObject(s3, key, SMALL));
    expect(result.economicsSource).toBe('sidecar');
    expect(result.summary.economics).toMatchObject({ costPerContact: 20, valuePerResponse: 60, policy: 'top-k', k: 2 });
    expect(result.summary.selected).toBe(2);
    // The sidecar is not an extract: its own notification is ignored.
    const [sidecarEvent] = await handler(await dropObject(s3, 'incoming/bank-marketing/other.csv.economics.json', '{}'));
    expect(sidecarEvent).toEqual({ status: 'ignored', key: 'incoming/bank-marketing/other.csv.economics.json' });
  });

  it('writes error.json (ECONOMICS_INVALID naming the key) for a sidecar that does not validate', async () => {
    const key = 'incoming/bank-marketing/bad-sidecar.csv';
    await putObject(s3.client, s3.bucket, `${key}.economics.json`, JSON.stringify({ policy: 'top-k' }));
    const event = await dropObject(s3, key, SMALL);
    const error = await failure(event);
    expect(error).toMatchObject({ code: 'ECONOMICS_INVALID', key: 'k', source: `s3://propensity-it/${key}.economics.json` });
    const prefix = `outputs/bank-marketing/${runIdOf(event)}/`;
    expect(await runFiles(s3, prefix)).toEqual(['error.json']);
    const report = await objectJson<{ error: Record<string, unknown>; model: unknown }>(s3, `${prefix}error.json`);
    expect(report?.error).toEqual({ name: 'ConfigError', code: 'ECONOMICS_INVALID', message: error.message, key: 'k', source: `s3://propensity-it/${key}.economics.json` });
    expect(report?.model).toEqual({ name: 'bank-marketing', version: '2026-11-23T0900-test01' });
  });

  it('a bad extract (missing column) leaves error.json with code and context, and no _SUCCESS', async () => {
    const key = 'incoming/bank-marketing/missing-column.csv';
    const event = await dropObject(s3, key, '"age";"balance";"campaign"\n30;100;1\n');
    // Act
    const error = await failure(event);
    // Assess
    expect(error.code).toBe('EXTRACT_MISSING_COLUMN');
    const runId = runIdOf(event);
    const prefix = `outputs/bank-marketing/${runId}/`;
    expect(await runFiles(s3, prefix)).toEqual(['error.json']);
    const report = await objectJson<{ runId: string; status: string; error: Record<string, unknown>; source: Record<string, unknown> }>(s3, `${prefix}error.json`);
    expect(report?.status).toBe('failed');
    expect(report?.runId).toBe(runId);
    expect(report?.source).toMatchObject({ bucket: 'propensity-it', key });
    expect(report?.error).toMatchObject({ code: 'EXTRACT_MISSING_COLUMN', name: 'ExtractError', file: `s3://propensity-it/${key}`, message: error.message });
    expect(String(report?.error.message)).toContain('duration');
  });

  it('a truncated gzip leaves error.json with EXTRACT_COMPRESSION and no _SUCCESS', async () => {
    const key = 'incoming/bank-marketing/truncated.csv.gz';
    const truncated = bankFullGz.subarray(0, Math.floor(bankFullGz.length / 2));
    const event = await dropObject(s3, key, truncated);
    const error = await failure(event);
    expect(error.code).toBe('EXTRACT_COMPRESSION');
    const runId = runIdOf(event);
    expect(await runFiles(s3, `outputs/bank-marketing/${runId}/`)).toEqual(['error.json']);
    const report = await objectJson<{ error: Record<string, unknown> }>(s3, `outputs/bank-marketing/${runId}/error.json`);
    expect(report?.error).toMatchObject({ code: 'EXTRACT_COMPRESSION', file: `s3://propensity-it/${key}` });
  });

  it('decodes URL-encoded keys from the notification (spaces, parentheses)', async () => {
    const key = 'incoming/bank-marketing/2026 11/calls (1).csv';
    const event = await dropObject(s3, key, SMALL);
    expect(event.Records[0]!.s3.object.key).toBe('incoming/bank-marketing/2026+11/calls+%281%29.csv');
    const result = await scored(event);
    expect(result.key).toBe(key);
    expect(result.runId).toMatch(/^calls-1-[0-9a-f]{12}$/);
  });

  it('falls back to the bundled models when the S3 registry has no champion', async () => {
    const result = await scored(await dropObject(s3, 'incoming/bank-fallback/x.csv', SMALL));
    expect(result).toMatchObject({ model: 'bank-fallback', modelVersion: '2026-11-01T0000-bundled', bundleOrigin: 'bundled' });
  });

  it('reports BUNDLE_NOT_FOUND in error.json for a model nobody has', async () => {
    const event = await dropObject(s3, 'incoming/no-such-model/x.csv', SMALL);
    const error = await failure(event);
    expect(error).toMatchObject({ code: 'BUNDLE_NOT_FOUND', bundle: 'no-such-model' });
    const runId = runIdOf(event);
    const report = await objectJson<{ error: Record<string, unknown> }>(s3, `outputs/no-such-model/${runId}/error.json`);
    expect(report?.error).toMatchObject({ code: 'BUNDLE_NOT_FOUND', bundle: 'no-such-model' });
  });

  it('refuses a champion whose model file was tampered with, without falling back', async () => {
    const registry = new S3Registry(s3.client, s3.bucket);
    const bundle = bankBundle('2026-11-23T0900-tamper', 'bank-tampered');
    await registry.write(bundle);
    await registry.promote('bank-tampered', bundle.manifest.version, 'test');
    await putObject(s3.client, s3.bucket, 'models/bank-tampered/2026-11-23T0900-tamper/model.onnx', 'not a model');
    const error = await failure(await dropObject(s3, 'incoming/bank-tampered/x.csv', SMALL));
    expect(error).toMatchObject({ code: 'BUNDLE_HASH_MISMATCH', modelVersion: '2026-11-23T0900-tamper' });
  });

  it('refuses an extract in a folder that is not a model name with error.json naming the rule, never silently', async () => {
    const event = await dropObject(s3, 'incoming/Bank-Marketing/x.csv', SMALL);
    const [result] = await handler(event);
    const runId = runIdOf(event);
    expect(result).toMatchObject({ status: 'refused', model: 'Bank-Marketing', runId, outputs: `s3://${s3.bucket}/outputs/_refused/${runId}/` });
    const report = await objectJson<{ status: string; error: Record<string, unknown> }>(s3, `outputs/_refused/${runId}/error.json`);
    expect(report).toMatchObject({ status: 'failed' });
    expect(report?.error).toMatchObject({
      code: 'EXTRACT_KEY_INVALID',
      file: `s3://${s3.bucket}/incoming/Bank-Marketing/x.csv`,
      message: `s3://${s3.bucket}/incoming/Bank-Marketing/x.csv: model folder "Bank-Marketing" is not a model name (lower-case letters, digits and dashes, e.g. incoming/bank-marketing/…): nothing was scored`,
    });
    expect(await runFiles(s3, `outputs/_refused/${runId}/`)).toEqual(['error.json']);
  });

  it('ignores objects that are not extracts', async () => {
    const results = await handler(await dropObject(s3, 'incoming/bank-marketing/readme.txt', 'hello'));
    expect(results).toEqual([{ status: 'ignored', key: 'incoming/bank-marketing/readme.txt' }]);
  });
});
