import { readFile } from 'node:fs/promises';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { s3ByteRanges } from '../../functions/adapters/s3/s3ByteRanges.js';
import { loadModel } from '../../functions/adapters/model/modelLoader.js';
import { loadBundle } from '../../functions/core/engine/loadBundle.js';
import { planScoringParts } from '../../functions/core/engine/planScoringParts.js';
import { planParts } from '../../functions/core/extract/planParts.js';
import { cardOfferLongCsvLines, generateCardOfferTable } from '../../functions/core/training/syntheticCardOffer.js';
import { tempFileSpool } from '../../functions/adapters/fs/tempFileSpool.js';
import { listKeys } from '../../functions/adapters/s3/s3Objects.js';
import { executionNameFor } from '../../functions/fanout/fanOutRun.js';
import { startLocalStepFunctions, type FanOutHandlers, type LocalStepFunctions } from '../../functions/local/localFanOut.js';
import { ChampionBundles } from '../../functions/score/championBundles.js';
import { scoreS3Object, type ScoreS3ObjectResult } from '../../functions/score/scoreS3Object.js';
import { dataset } from '../helpers/datasets.js';
import { embeddedS3Environment, startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { bankBundle } from './support/bankBundle.js';
import { dropObject, objectJson, objectText, runFiles } from './support/s3Drops.js';

type Handler = (event: S3Event) => Promise<ScoreS3ObjectResult[]>;
type FannedOut = Extract<ScoreS3ObjectResult, { status: 'fanned-out' }>;

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:propensity-fan-out';
/** bank-full.csv is 4.6 MB: above 1 MB it fans out, into 4 parts of about 1.2 MB. */
const FAN_OUT_BYTES = 1_000_000;
const PART_BYTES = 1_200_000;
const BAD_ROW = '58;"management";"married";"tertiary";"no";not-a-number;"yes";"no";"unknown";5;"may";261;1;-1;0;"unknown";"no"';

let s3: EmbeddedS3;
let handler: Handler;
let stepFunctions: LocalStepFunctions;
let extract: string;

/** bank-full.csv with bad rows spread through it (as in mergeParts.test.ts), so rejects come from several parts. */
async function bankWithBadRows(): Promise<string> {
  const lines = (await readFile(dataset('bank-marketing/bank-full.csv'), 'utf8')).split('\n');
  for (const at of [40_000, 20_000, 5]) lines.splice(at, 0, BAD_ROW, '1;2;3');
  return lines.join('\n');
}

beforeAll(async () => {
  extract = await bankWithBadRows();
  s3 = await startEmbeddedS3({ bucket: 'propensity-fan' });
  const registry = new S3Registry(s3.client, s3.bucket);
  const champion = bankBundle();
  await registry.write(champion);
  await registry.promote('bank-marketing', champion.manifest.version, 'fan-out test');
  Object.assign(process.env, {
    ...embeddedS3Environment(s3),
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    FAN_OUT_BYTES: String(FAN_OUT_BYTES),
    PART_BYTES: String(PART_BYTES),
    STATE_MACHINE_ARN,
  });
  // Both read their config at import (cold start): the fan-out steps first, then the score
  // function, once the local Step Functions endpoint it calls is known.
  const fanOut = (await import('../../functions/fanout/handlers.js')) as FanOutHandlers;
  stepFunctions = await startLocalStepFunctions(fanOut, { concurrency: 2 });
  process.env.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;
  ({ handler } = await import('../../functions/score/handler.js'));
});

afterAll(async () => {
  await stepFunctions?.close();
  await s3?.stop();
});

async function fannedOut(event: S3Event): Promise<FannedOut> {
  const [result] = await handler(event);
  expect(result?.status).toBe('fanned-out');
  return result as FannedOut;
}

const prefixOf = (result: { outputs: string }) => result.outputs.replace(`s3://${s3.bucket}/`, '');

/** The same object version scored whole, by the single-invocation path, into another prefix. */
const scoredWhole = (key: string, etag: string) =>
  scoreS3Object({
    client: s3.client,
    bucket: s3.bucket,
    key,
    etag,
    bundles: new ChampionBundles(new S3Registry(s3.client, s3.bucket)),
    config: { bucket: s3.bucket, incomingPrefix: 'incoming/', outputsPrefix: 'single/', batchSize: 8192 },
    spool: tempFileSpool(),
  });

/** The bundled card-offer model (a sequence bundle: long extracts), written to the S3 registry as champion. */
async function championCardOffer() {
  const { FsRegistry } = await import('../../functions/adapters/fs/fsRegistry.js');
  const { findBundledModelsDir } = await import('../../functions/score/config.js');
  const bundled = await new FsRegistry(findBundledModelsDir()!).read('card-offer');
  const registry = new S3Registry(s3.client, s3.bucket);
  await registry.write(bundled);
  await registry.promote('card-offer', bundled.manifest.version, 'fan-out long layout test');
  return bundled;
}

describe('fan-out on the embedded S3, the state machine played by the local driver', () => {
  it('scores a large extract in 4 parts with outputs byte-identical to the single-invocation run', async () => {
    // Act: the S3 event goes to the score function, which starts the execution; wait for it.
    const key = 'incoming/bank-marketing/2026/12/bank-with-bad-rows.csv';
    const event = await dropObject(s3, key, extract);
    const result = await fannedOut(event);
    expect(result).toMatchObject({ started: true, execution: executionNameFor(result.runId), bytes: Buffer.byteLength(extract) });
    const execution = stepFunctions.executions.get(result.execution)!;
    expect(execution.input).toEqual({
      bucket: s3.bucket,
      key,
      etag: event.Records[0]!.s3.object.eTag,
      model: 'bank-marketing',
      runId: result.runId,
      outputBucket: s3.bucket,
      outputPrefix: `outputs/bank-marketing/${result.runId}/`,
    });
    expect(await execution.done).toEqual({ status: 'succeeded', parts: 4 });

    // The same object version scored whole, by the single-invocation path, into another prefix.
    const { object } = event.Records[0]!.s3;
    const single = await scoredWhole(key, object.eTag);
    expect(single.status).toBe('scored');

    // Assess: the same files, byte for byte; the summaries equal apart from timings; nothing left of the parts.
    const fanned = prefixOf(result);
    const whole = prefixOf(single as { outputs: string });
    expect(await runFiles(s3, fanned)).toEqual(await runFiles(s3, whole));
    expect(await runFiles(s3, fanned)).toEqual(['_SUCCESS', 'rejects.csv', 'report.html', 'report.md', 'scores.csv', 'summary.json', 'targets.csv']);
    for (const name of ['scores.csv', 'targets.csv', 'rejects.csv']) {
      expect(await objectText(s3, `${fanned}${name}`), name).toBe(await objectText(s3, `${whole}${name}`));
    }
    const strip = (s: Record<string, unknown> | undefined) => ({ ...s, startedAt: 0, finishedAt: 0, durationMs: 0 });
    const fannedSummary = await objectJson(s3, `${fanned}summary.json`);
    expect(strip(fannedSummary)).toEqual(strip(await objectJson(s3, `${whole}summary.json`)));
    expect(fannedSummary?.['rows']).toEqual({ read: 45_217, scored: 45_211, rejected: 6, rejectReasons: { NOT_A_NUMBER: 3, FIELD_COUNT: 3 } });
    expect(await listKeys(s3.client, s3.bucket, `${fanned}_parts/`)).toEqual([]);
  });

  it('writes profile.json byte-identical to the single run when the bundle has a drift baseline', async () => {
    // The bundled bank-marketing model carries a baseline: publish it as the champion of another model name.
    const { FsRegistry } = await import('../../functions/adapters/fs/fsRegistry.js');
    const { findBundledModelsDir } = await import('../../functions/score/config.js');
    const bundled = await new FsRegistry(findBundledModelsDir()!).read('bank-marketing');
    const registry = new S3Registry(s3.client, s3.bucket);
    const manifest = { ...bundled.manifest, name: 'bank-profiled' };
    await registry.write({ manifest, files: bundled.files });
    await registry.promote('bank-profiled', manifest.version, 'fan-out profile test');

    const key = 'incoming/bank-profiled/bank-with-bad-rows.csv';
    const event = await dropObject(s3, key, extract);
    const result = await fannedOut(event);
    expect(await stepFunctions.executions.get(result.execution)!.done).toEqual({ status: 'succeeded', parts: 4 });
    const single = await scoredWhole(key, event.Records[0]!.s3.object.eTag);
    const fanned = prefixOf(result);
    const whole = prefixOf(single as { outputs: string });
    expect(await runFiles(s3, fanned)).toContain('profile.json');
    for (const name of ['profile.json', 'scores.csv', 'targets.csv', 'rejects.csv']) {
      expect(await objectText(s3, `${fanned}${name}`), name).toBe(await objectText(s3, `${whole}${name}`));
    }
  });

  it('splits a long card-offer extract (one row per customer per month) only between customers: outputs byte-identical to the single run', async () => {
    const bundled = await championCardOffer();
    // 2,000 customers × 10 months ≈ 2.4 MB: two parts of PART_BYTES, the cut moved to a change of customer.
    const long = [...cardOfferLongCsvLines(generateCardOfferTable({ customers: 2000, seed: 21 }), { seed: 5 })].join('');

    const key = 'incoming/card-offer/statements-long.csv';
    const event = await dropObject(s3, key, long);
    // Over ranged GETs: the plain line-aligned cut falls inside a customer, the scoring planner's does not.
    const bytes = s3ByteRanges(s3.client, { bucket: s3.bucket, key, etag: event.Records[0]!.s3.object.eTag }, Buffer.byteLength(long));
    const lines = long.split('\n');
    const cutsCustomer = (firstLine: number) => lines[firstLine - 1]!.split(',')[0] === lines[firstLine - 2]!.split(',')[0];
    expect((await planParts(bytes, 2)).slice(1).map((p) => cutsCustomer(p.firstLine))).toEqual([true]);
    const loaded = await loadBundle(bundled, loadModel);
    const aligned = await planScoringParts(bytes, 2, loaded, key).finally(() => loaded.model.dispose());
    expect(aligned.slice(1).map((p) => cutsCustomer(p.firstLine))).toEqual([false]);
    const result = await fannedOut(event);
    expect(await stepFunctions.executions.get(result.execution)!.done).toEqual({ status: 'succeeded', parts: 2 });
    const single = await scoredWhole(key, event.Records[0]!.s3.object.eTag);

    const fanned = prefixOf(result);
    const whole = prefixOf(single as { outputs: string });
    for (const name of ['profile.json', 'scores.csv', 'targets.csv', 'rejects.csv']) {
      expect(await objectText(s3, `${fanned}${name}`), name).toBe(await objectText(s3, `${whole}${name}`));
    }
    const summary = await objectJson(s3, `${fanned}summary.json`);
    expect(summary?.['rows']).toEqual({ read: 20_000, scored: 20_000, rejected: 0, rejectReasons: {} });
    expect(summary?.['longLayout']).toEqual({ customersScored: 2000, customersRejected: 0, missingPeriods: 0 });
  });

  it('refuses a long extract whose customer comes back in the other part: the merge fails as a single pass does, error.json only, no _parts/ left', async () => {
    const bundled = await championCardOffer();
    const lines = [...cardOfferLongCsvLines(generateCardOfferTable({ customers: 2000, seed: 21 }), { seed: 5 })];
    // Customer 3's last row (line 41) moved to line 15001, between customers 1500 and 1501: its other rows are lines 32–40.
    const [moved] = lines.splice(40, 1);
    lines.splice(15_000, 0, moved!);
    const long = lines.join('');
    const key = 'incoming/card-offer/statements-long-unsorted.csv';
    const event = await dropObject(s3, key, long);
    const bytes = s3ByteRanges(s3.client, { bucket: s3.bucket, key, etag: event.Records[0]!.s3.object.eTag }, Buffer.byteLength(long));
    const loaded = await loadBundle(bundled, loadModel);
    const plan = await planScoringParts(bytes, 2, loaded, key).finally(() => loaded.model.dispose());
    // The two blocks of the customer are in different parts: neither part alone sees a repeat.
    expect(plan).toHaveLength(2);
    expect(plan[1]!.firstLine).toBeGreaterThan(40);
    expect(plan[1]!.firstLine).toBeLessThanOrEqual(15_001);

    const result = await fannedOut(event);
    const outcome = await stepFunctions.executions.get(result.execution)!.done;
    expect(outcome).toMatchObject({ status: 'failed', step: 'merge', error: { code: 'EXTRACT_CUSTOMER_NOT_CONSECUTIVE' } });
    const prefix = prefixOf(result);
    expect(await runFiles(s3, prefix)).toEqual(['error.json']);
    const report = await objectJson<{ error: { code: string; file: string; line: number; column: string; message: string } }>(s3, `${prefix}error.json`);
    expect(report?.error).toMatchObject({ code: 'EXTRACT_CUSTOMER_NOT_CONSECUTIVE', file: `s3://${s3.bucket}/${key}`, line: 15_001, column: 'customer_id' });
    expect(report?.error.message).toBe(
      `s3://${s3.bucket}/${key}:15001 (column "customer_id"): the rows of one customer are not consecutive: lines 32–40 and line 15001 have the same "customer_id"; a long extract must be sorted by customer (ORDER BY customer_id)`,
    );
    expect(JSON.stringify(report)).not.toContain(moved!.split(',')[0]);
    // The single-invocation run of the same object refuses it with the same message.
    await expect(scoredWhole(key, event.Records[0]!.s3.object.eTag)).rejects.toThrow(report!.error.message);
  });

  it('a redelivered event computes the same execution name and starts nothing new; after the run it is skipped', async () => {
    // Prepare
    const key = 'incoming/bank-marketing/redelivered.csv';
    const event = await dropObject(s3, key, extract);
    const before = stepFunctions.executions.size;

    // Act: the first delivery and a redelivery while the execution runs.
    const first = await fannedOut(event);
    const second = await fannedOut(event);

    // Assess
    expect(second.execution).toBe(first.execution);
    expect(first.started).toBe(true);
    expect(second.started).toBe(false);
    expect(stepFunctions.calls.filter((name) => name === first.execution)).toHaveLength(2);
    expect(stepFunctions.executions.size).toBe(before + 1);
    expect(await stepFunctions.executions.get(first.execution)!.done).toMatchObject({ status: 'succeeded' });
    const [late] = await handler(event);
    expect(late).toMatchObject({ status: 'skipped', runId: first.runId });
  });

  it('decides by size: a small extract is scored inline, without an execution', async () => {
    const small = extract.split('\n').slice(0, 200).join('\n');
    const before = stepFunctions.calls.length;
    const [result] = await handler(await dropObject(s3, 'incoming/bank-marketing/small.csv', small));
    expect(result).toMatchObject({ status: 'scored' });
    expect(stepFunctions.calls.length).toBe(before);
  });

  it('a part that cannot be parsed fails the run: error.json with its code and line, no _SUCCESS, no _parts/ objects, the lock released', async () => {
    // Prepare: a quote that opens on the last line and never closes: the first parts score, the last fails.
    const at = extract.split('\n').length;
    const key = 'incoming/bank-marketing/unclosed-quote.csv';

    // Act
    const result = await fannedOut(await dropObject(s3, key, `${extract.replace(/\n$/, '')}\n58;"management;married;no\n`));
    const outcome = await stepFunctions.executions.get(result.execution)!.done;

    // Assess
    expect(outcome).toMatchObject({ status: 'failed', step: 'part', error: { code: 'EXTRACT_MALFORMED' } });
    const prefix = prefixOf(result);
    expect(await runFiles(s3, prefix)).toEqual(['error.json']);
    const report = await objectJson<{ status: string; runId: string; error: { code: string; file: string; line: number }; model: unknown }>(s3, `${prefix}error.json`);
    expect(report).toMatchObject({ status: 'failed', runId: result.runId, model: { name: 'bank-marketing', version: '2026-11-23T0900-test01' } });
    expect(report?.error).toMatchObject({ code: 'EXTRACT_MALFORMED', file: `s3://${s3.bucket}/${key}` });
    // The line is the file's, not the part's: the quote opens on the last line.
    expect(report?.error.line).toBeGreaterThanOrEqual(at);
    // No customer value in error.json.
    expect(JSON.stringify(report)).not.toContain('management');
  });

  it('a header the model cannot read fails in the plan, before any part is scored: error.json and nothing under _parts/', async () => {
    const key = 'incoming/bank-marketing/not-an-extract.csv';
    const body = `${'just some text that is not an extract\n'.repeat(40_000)}`;
    const result = await fannedOut(await dropObject(s3, key, body));
    const outcome = await stepFunctions.executions.get(result.execution)!.done;
    expect(outcome).toMatchObject({ status: 'failed', step: 'plan' });
    const prefix = prefixOf(result);
    expect(await runFiles(s3, prefix)).toEqual(['error.json']);
    const report = await objectJson<{ error: { code: string } }>(s3, `${prefix}error.json`);
    expect(report?.error.code).toBe('EXTRACT_MISSING_COLUMN');
  });
});
