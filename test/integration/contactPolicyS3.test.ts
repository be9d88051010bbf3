import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempFileSpool } from '../../functions/adapters/fs/tempFileSpool.js';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { listKeys, putObject } from '../../functions/adapters/s3/s3Objects.js';
import type { RunSummary } from '../../functions/core/engine/runSummary.js';
import { ChampionBundles } from '../../functions/score/championBundles.js';
import { scoreS3Object, type ScoreS3ObjectResult } from '../../functions/score/scoreS3Object.js';
import { dataset } from '../helpers/datasets.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { bankBundle } from './support/bankBundle.js';
import { objectJson, objectText } from './support/s3Drops.js';

/** The contact policy of the score function on the embedded S3: lists and history in the bucket. */
let s3: EmbeddedS3;
let bank: string;

beforeAll(async () => {
  bank = await readFile(dataset('bank-marketing/bank-full.csv'), 'utf8');
  s3 = await startEmbeddedS3({ bucket: 'propensity-policy' });
  const registry = new S3Registry(s3.client, s3.bucket);
  const champion = bankBundle();
  await registry.write(champion);
  await registry.promote('bank-marketing', champion.manifest.version, 'policy test');
});
afterAll(async () => {
  await s3?.stop();
});

async function scoreKey(key: string, contactPolicyPrefixes?: { suppression: string; history: string }): Promise<ScoreS3ObjectResult> {
  return scoreS3Object({
    client: s3.client,
    bucket: s3.bucket,
    key,
    bundles: new ChampionBundles(new S3Registry(s3.client, s3.bucket)),
    config: { bucket: s3.bucket, incomingPrefix: 'incoming/', outputsPrefix: 'outputs/', batchSize: 8192, ...(contactPolicyPrefixes ? { contactPolicyPrefixes } : {}) },
    spool: tempFileSpool(),
  });
}
const rows = async (key: string) => ((await objectText(s3, key)) ?? '').trim().split('\n').slice(1);
const idOf = (row: string) => row.slice(0, row.indexOf(','));
const prefixOf = (result: ScoreS3ObjectResult) => (result as { outputs: string }).outputs.replace(`s3://${s3.bucket}/`, '');

describe('contact policy on S3', () => {
  it('applies suppression/ and suppression/<model>/ lists (not another model\'s), caps contacts across runs, a redelivery leaves the history alone', async () => {
    // Prepare: lists for all models, for this model, for another; economics with a cap and a budget.
    await putObject(s3.client, s3.bucket, 'suppression/all.csv', 'id,reason\n2,opt-out\n47,opt-out\n');
    await putObject(s3.client, s3.bucket, 'suppression/bank-marketing/complaints.csv', 'id,reason,until\n92,complaint,2999-01-01\n93,complaint,2000-01-01\n');
    await putObject(s3.client, s3.bucket, 'suppression/other-model/x.csv', 'id\n137\n');
    const economics = JSON.stringify({ frequencyCap: { maxContacts: 1, days: 30 }, budget: { maxContacts: 3000 } });
    for (const night of ['night-1', 'night-2']) {
      await putObject(s3.client, s3.bucket, `incoming/bank-marketing/${night}.csv`, bank);
      await putObject(s3.client, s3.bucket, `incoming/bank-marketing/${night}.csv.economics.json`, economics);
    }
    // Act
    const first = await scoreKey('incoming/bank-marketing/night-1.csv');
    const history = await listKeys(s3.client, s3.bucket, 'history/bank-marketing/');
    const entry = await objectText(s3, history[0]!);
    const again = await scoreKey('incoming/bank-marketing/night-1.csv');
    const second = await scoreKey('incoming/bank-marketing/night-2.csv');
    // Assess
    expect(first.status).toBe('scored');
    expect(again.status).toBe('skipped');
    expect(second.status).toBe('scored');
    const summary = (await objectJson<RunSummary>(s3, `${prefixOf(first)}summary.json`))!;
    expect(summary.policy!.suppression).toEqual({ customers: 3, byReason: { complaint: 1, 'opt-out': 2 } });
    const scores = await rows(`${prefixOf(first)}scores.csv`);
    expect(scores.filter((r) => r.includes(',true,')).map(idOf)).toEqual(['2', '47', '92']);
    const one = (await rows(`${prefixOf(first)}targets.csv`)).map(idOf);
    const two = (await rows(`${prefixOf(second)}targets.csv`)).map(idOf);
    expect(one).toHaveLength(3000);
    expect(two).toHaveLength(3000);
    expect(two.filter((id) => one.includes(id))).toEqual([]);
    expect(one.filter((id) => ['2', '47', '92'].includes(id))).toEqual([]);
    expect(history).toEqual([`history/bank-marketing/${(first as { runId: string }).runId}.csv`]);
    expect(entry!.trim().split('\n').slice(1).map(idOf)).toEqual(one);
    const after = await listKeys(s3.client, s3.bucket, 'history/bank-marketing/');
    expect(after).toHaveLength(2);
    expect(await objectText(s3, history[0]!)).toBe(entry);
  }, 120_000);

  it('reads the lists and writes the history under the prefixes the function is configured with (SUPPRESSION_PREFIX, HISTORY_PREFIX)', async () => {
    await putObject(s3.client, s3.bucket, 'policy/dnc/bank-marketing/legal.csv', 'id,reason\n5,legal\n');
    await putObject(s3.client, s3.bucket, 'incoming/bank-marketing/elsewhere.csv', bank);
    await putObject(s3.client, s3.bucket, 'incoming/bank-marketing/elsewhere.csv.economics.json', JSON.stringify({ frequencyCap: { maxContacts: 1, days: 30 } }));
    const result = await scoreKey('incoming/bank-marketing/elsewhere.csv', { suppression: 'policy/dnc/', history: 'policy/contacted/' });
    const summary = (await objectJson<RunSummary>(s3, `${prefixOf(result)}summary.json`))!;
    // Only the list under policy/dnc/ applies (the default suppression/ lists of the test above do not).
    expect(summary.policy!.suppression).toEqual({ customers: 1, byReason: { legal: 1 } });
    expect(await listKeys(s3.client, s3.bucket, 'policy/contacted/bank-marketing/')).toEqual([`policy/contacted/bank-marketing/${(result as { runId: string }).runId}.csv`]);
  }, 120_000);

  it('a malformed list fails the run: error.json names the object and line, never the id; no _SUCCESS', async () => {
    await putObject(s3.client, s3.bucket, 'suppression/bank-marketing/broken.csv', 'id,until\n4711,soon\n');
    await putObject(s3.client, s3.bucket, 'incoming/bank-marketing/night-3.csv', bank);
    const error = await scoreKey('incoming/bank-marketing/night-3.csv').then(() => null, (e: unknown) => e as Error & { code?: string });
    expect(error?.code).toBe('SUPPRESSION_INVALID');
    expect(error?.message).toBe(`s3://${s3.bucket}/suppression/bank-marketing/broken.csv:2:2: until is not a date YYYY-MM-DD`);
    const outputs = (await listKeys(s3.client, s3.bucket, 'outputs/bank-marketing/')).filter((k) => k.endsWith('error.json'));
    expect(outputs).toHaveLength(1);
    expect(await listKeys(s3.client, s3.bucket, outputs[0]!.replace('error.json', '_SUCCESS'))).toEqual([]);
    const errorJson = JSON.stringify(await objectJson(s3, outputs.at(-1)!));
    expect(errorJson).not.toContain('4711');
    expect(errorJson).toContain('SUPPRESSION_INVALID');
  }, 60_000);
});
