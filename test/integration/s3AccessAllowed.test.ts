import type { S3Event } from 'aws-lambda';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { deleteKeys, putObject } from '../../functions/adapters/s3/s3Objects.js';
import type { ScoreS3ObjectResult } from '../../functions/score/scoreS3Object.js';
import { dataset } from '../helpers/datasets.js';
import { embeddedS3Environment, startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { deniedRequests, recordS3Requests, roleStatements, type S3Recording, type S3Request } from '../helpers/s3RoleCheck.js';
import { bankBundle } from './support/bankBundle.js';
import { dropObject } from './support/s3Drops.js';

/**
 * Every S3 request the score function and the fan-out steps make is allowed by the role the stack gives
 * them: they run their real paths on the embedded S3 (contact policy, history, run index, versioned reads,
 * a failed run's clean-up) while every request is recorded, then each is checked against the IAM
 * statements of that function's role in the synthesized template (the drift and retrain functions are
 * checked the same way in scheduledChecks.test.ts).
 */

let s3: EmbeddedS3;
let bank: string;
let recording: S3Recording;
const roles = roleStatements();

beforeAll(async () => {
  bank = await readFile(dataset('bank-marketing/bank-full.csv'), 'utf8');
  s3 = await startEmbeddedS3({ bucket: 'propensity-iam' });
  const registry = new S3Registry(s3.client, s3.bucket);
  const champion = bankBundle();
  await registry.write(champion);
  await registry.promote('bank-marketing', champion.manifest.version, 'iam test');
  recording = recordS3Requests(s3.client);
}, 60_000);

afterAll(async () => {
  recording?.stop();
  await s3?.stop();
});

/** The S3 event as a versioned bucket sends it: with the object's version id (the embedded S3 ignores it on reads). */
const versioned = (event: S3Event): S3Event => ({ Records: event.Records.map((r) => ({ ...r, s3: { ...r.s3, object: { ...r.s3.object, versionId: 'version-1' } } })) });

describe('S3 requests against the roles of the synthesized stack', () => {
  it('the score function: a run with suppression lists and a frequency cap, a second run reading the history, a failed run', async () => {
    // Prepare: lists for all models and this one, economics with a contact cap (so the history is read and written).
    await putObject(s3.client, s3.bucket, 'suppression/all.csv', 'id,reason\n2,opt-out\n');
    await putObject(s3.client, s3.bucket, 'suppression/bank-marketing/complaints.csv', 'id,reason\n92,complaint\n');
    const economics = JSON.stringify({ frequencyCap: { maxContacts: 1, days: 30 }, budget: { maxContacts: 2000 } });
    Object.assign(process.env, embeddedS3Environment(s3), { LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', FAN_OUT_BYTES: String(1 << 30) });
    const { handler } = await import('../../functions/score/handler.js');
    const nights: ScoreS3ObjectResult[] = [];
    // Act
    for (const night of ['night-1', 'night-2']) {
      await putObject(s3.client, s3.bucket, `incoming/bank-marketing/${night}.csv.economics.json`, economics);
      const event = versioned(await dropObject(s3, `incoming/bank-marketing/${night}.csv`, bank));
      nights.push(...(await recording.as('score', () => handler(event))));
    }
    await putObject(s3.client, s3.bucket, 'suppression/bank-marketing/broken.csv', 'id,until\n1,soon\n');
    const event = versioned(await dropObject(s3, 'incoming/bank-marketing/night-3.csv', bank));
    const failed = await recording.as('score', () => handler(event)).then(
      () => null,
      (e: unknown) => e as { code?: string },
    );
    await deleteKeys(s3.client, s3.bucket, ['suppression/bank-marketing/broken.csv']);
    // Assess: the runs did what they should, and nothing they asked of S3 is outside the role.
    expect(nights.map((r) => r.status)).toEqual(['scored', 'scored']);
    expect(failed?.code).toBe('SUPPRESSION_INVALID');
    const made = recording.requests.filter((r) => r.actor === 'score');
    expect(new Set(made.map((r) => r.action))).toEqual(new Set(['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 's3:PutObject', 's3:DeleteObject']));
    expect(made.some((r) => r.target.startsWith('history/bank-marketing/'))).toBe(true);
    expect(deniedRequests(roles, made)).toEqual([]);
  }, 180_000);

  it('the check refuses what a role does not grant (so a pass above means something)', () => {
    const ask = (action: string, target: string, actor: S3Request['actor'] = 'score'): S3Request => ({ actor, action, target });
    expect(deniedRequests(roles, [ask('s3:GetObject', 'incoming/bank-marketing/a.csv'), ask('s3:ListBucket', 'history/bank-marketing/')])).toEqual([]);
    expect(
      deniedRequests(roles, [
        ask('s3:DeleteObject', 'models/bank-marketing/champion.json'),
        ask('s3:PutObject', 'suppression/all.csv'),
        ask('s3:ListBucket', 'training/'),
        ask('s3:GetObjectVersion', 'models/bank-marketing/champion.json'),
        ask('s3:GetObject', 'incoming/bank-marketing/a.csv', 'fan-out finish'),
        ask('s3:PutObject', 'models/bank-marketing/champion.json', 'predict'),
      ]),
    ).toEqual([
      'score: s3:DeleteObject models/bank-marketing/champion.json',
      'score: s3:PutObject suppression/all.csv',
      'score: s3:ListBucket training/',
      'score: s3:GetObjectVersion models/bank-marketing/champion.json',
      'fan-out finish: s3:GetObject incoming/bank-marketing/a.csv',
      'predict: s3:PutObject models/bank-marketing/champion.json',
    ]);
  });

  it('the fan-out functions: plan, four parts and the merge of a versioned extract with a frequency cap; a second run that fails in a part and is aborted', async () => {
    // Prepare: each step has the runtime its own function builds at cold start.
    Object.assign(process.env, embeddedS3Environment(s3), { LOG_LEVEL: 'SILENT', PART_BYTES: '1200000' });
    const { createFanOutRuntime } = await import('../../functions/fanout/fanOutRuntime.js');
    const { abortRun, planRun, scoreRunPart, mergeRun } = await import('../../functions/fanout/fanOutSteps.js');
    const [plan, part, finish] = [createFanOutRuntime(), createFanOutRuntime(), createFanOutRuntime()];
    const key = 'incoming/bank-marketing/fan-out.csv';
    await putObject(s3.client, s3.bucket, `${key}.economics.json`, JSON.stringify({ frequencyCap: { maxContacts: 2, days: 30 } }));
    const event = await dropObject(s3, key, bank);
    const runId = 'fan-out-iam-run';
    const run = { bucket: s3.bucket, key, etag: event.Records[0]!.s3.object.eTag, versionId: 'version-1', model: 'bank-marketing', runId, outputBucket: s3.bucket, outputPrefix: `outputs/bank-marketing/${runId}/` };
    // Act
    const planned = await recording.as('fan-out plan', () => planRun(plan, run));
    for (const range of planned.parts) await recording.as('fan-out part', () => scoreRunPart(part, { run: planned.run, part: range }));
    const merged = await recording.as('fan-out finish', () => mergeRun(finish, planned.run));
    // A second run whose third part meets a broken suppression list: the part records why, the finish aborts.
    const failing = { ...run, runId: 'fan-out-iam-abort', outputPrefix: 'outputs/bank-marketing/fan-out-iam-abort/' };
    const second = await recording.as('fan-out plan', () => planRun(plan, failing));
    await putObject(s3.client, s3.bucket, 'suppression/bank-marketing/broken.csv', 'id,until\n1,soon\n');
    const partFailure = await recording.as('fan-out part', () => scoreRunPart(part, { run: second.run, part: second.parts[2]! })).then(() => null, (e: unknown) => e as Error);
    await deleteKeys(s3.client, s3.bucket, ['suppression/bank-marketing/broken.csv']);
    const aborted = await recording.as('fan-out finish', () => abortRun(finish, { run: second.run, error: { Error: 'SuppressionError' } }));
    // Assess
    expect(planned.parts).toHaveLength(4);
    expect(merged.status).toBe('merged');
    expect(partFailure).not.toBeNull();
    expect(aborted).toMatchObject({ status: 'aborted', error: { code: 'SUPPRESSION_INVALID' } });
    const made = recording.requests.filter((r) => r.actor.startsWith('fan-out'));
    expect(new Set(made.map((r) => r.actor))).toEqual(new Set(['fan-out plan', 'fan-out part', 'fan-out finish']));
    expect(deniedRequests(roles, made)).toEqual([]);
    expect(made.some((r) => r.actor === 'fan-out part' && r.action === 's3:GetObjectVersion')).toBe(true);
    expect(made.some((r) => r.actor === 'fan-out finish' && r.target === `history/bank-marketing/${runId}.csv`)).toBe(true);
  }, 180_000);
});
