import { S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { deleteKeys, putObject } from '../../functions/adapters/s3/s3Objects.js';
import type { ScoreS3ObjectResult } from '../../functions/score/scoreS3Object.js';
import { dataset } from '../helpers/datasets.js';
import { embeddedS3Environment, startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { logicalIdOf, synthPropensity } from '../infra/synthPropensity.js';
import { bankBundle } from './support/bankBundle.js';
import { dropObject } from './support/s3Drops.js';

/**
 * Every S3 request a function makes is allowed by the role the stack gives it. The embedded S3 checks
 * no permissions, so the functions run their real paths here (contact policy, history, run index,
 * versioned reads, a failed run's clean-up) while every request is recorded; each is then checked
 * against the IAM statements of that function's role in the synthesized template.
 */

interface Request {
  readonly actor: Actor;
  readonly action: string;
  /** Object key, or the list prefix for s3:ListBucket. */
  readonly target: string;
}
type Actor = 'score' | 'fan-out plan' | 'fan-out part' | 'fan-out finish';

/** The IAM action an S3 API call needs, and on what (`GetObject` with a version id needs `GetObjectVersion`). */
function actionsOf(name: string, input: { Key?: string; Prefix?: string; VersionId?: string; Delete?: { Objects?: Array<{ Key: string }> } }): Array<{ action: string; target: string }> {
  const key = input.Key ?? '';
  const versioned = input.VersionId !== undefined;
  switch (name) {
    case 'GetObjectCommand':
    case 'HeadObjectCommand':
      return [{ action: versioned ? 's3:GetObjectVersion' : 's3:GetObject', target: key }];
    case 'PutObjectCommand':
    case 'CreateMultipartUploadCommand':
    case 'UploadPartCommand':
    case 'CompleteMultipartUploadCommand':
      return [{ action: 's3:PutObject', target: key }];
    case 'AbortMultipartUploadCommand':
      return [{ action: 's3:AbortMultipartUpload', target: key }];
    case 'DeleteObjectCommand':
      return [{ action: 's3:DeleteObject', target: key }];
    case 'DeleteObjectsCommand':
      return (input.Delete?.Objects ?? []).map((o) => ({ action: 's3:DeleteObject', target: o.Key }));
    case 'ListObjectsV2Command':
      return [{ action: 's3:ListBucket', target: input.Prefix ?? '' }];
    default:
      throw new Error(`no IAM mapping for ${name}: add it to actionsOf`);
  }
}

let actor: Actor = 'score';
const requests: Request[] = [];
// eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be put back, and called with its client as `this`
const originalSend = S3Client.prototype.send;

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

const asList = <T,>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const wildcard = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/** The role statements of each function, resources written with `BUCKET` for the data bucket's ARN. */
function roleStatements(): Record<Actor, Statement[]> {
  const { stack, template } = synthPropensity();
  const bucketId = logicalIdOf(stack, stack.data.bucket);
  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const v = value as Record<string, unknown>;
    if (v['Fn::Join']) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(sep);
    }
    const att = v['Fn::GetAtt'] as [string, string] | undefined;
    if (att && att[0] === bucketId && att[1] === 'Arn') return 'BUCKET';
    return `<${JSON.stringify(value)}>`;
  };
  type Resource = { Properties: Record<string, unknown> };
  const policies = { ...template.findResources('AWS::IAM::ManagedPolicy'), ...template.findResources('AWS::IAM::Policy') } as Record<string, Resource>;
  const functions = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
  const of = (fn: { node: { defaultChild?: unknown } }): Statement[] => {
    const role = (functions[logicalIdOf(stack, fn)]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    return Object.values(policies)
      .filter((p) => asList(p.Properties.Roles as unknown[]).some((r) => (r as { Ref?: string }).Ref === role))
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .map((s) => ({ ...s, Resource: asList(s.Resource).map(resolve) }));
  };
  return {
    score: of(stack.scoreFunction),
    'fan-out plan': of(stack.fanOut.planFunction),
    'fan-out part': of(stack.fanOut.partFunction),
    'fan-out finish': of(stack.fanOut.finishFunction),
  };
}

/** The requests no statement allows, as `action target` lines (one per distinct pair). */
const deniedOf = (statements: readonly Statement[], made: readonly Request[]) => [...new Set(made.filter((r) => !allowed(statements, r)).map((r) => `${r.action} ${r.target}`))];

/** Whether an Allow statement covers the request (object ARN `BUCKET/key`; ListBucket on `BUCKET` under its s3:prefix condition). */
function allowed(statements: readonly Statement[], request: Request): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow' || !asList(s.Action).some((a) => wildcard(a).test(request.action))) return false;
    const resources = s.Resource as string[];
    if (request.action !== 's3:ListBucket') return resources.some((r) => wildcard(r).test(`BUCKET/${request.target}`));
    if (!resources.includes('BUCKET')) return false;
    const conditions = Object.entries(s.Condition ?? {});
    return conditions.every(([operator, keys]) => operator === 'StringLike' && Object.keys(keys).every((k) => k === 's3:prefix') && asList(keys['s3:prefix']).some((p) => wildcard(p).test(request.target)));
  });
}

let s3: EmbeddedS3;
let bank: string;
let statements: Record<Actor, Statement[]>;

beforeAll(async () => {
  statements = roleStatements();
  bank = await readFile(dataset('bank-marketing/bank-full.csv'), 'utf8');
  s3 = await startEmbeddedS3({ bucket: 'propensity-iam' });
  const registry = new S3Registry(s3.client, s3.bucket);
  const champion = bankBundle();
  await registry.write(champion);
  await registry.promote('bank-marketing', champion.manifest.version, 'iam test');
  // Only the functions' own clients are recorded, not the test's (it plays the warehouse and the analyst).
  S3Client.prototype.send = function (this: S3Client, command: { constructor: { name: string }; input: Parameters<typeof actionsOf>[1] }, ...rest: unknown[]) {
    if (this !== s3.client) for (const a of actionsOf(command.constructor.name, command.input)) requests.push({ actor, ...a });
    return (originalSend as (...args: unknown[]) => unknown).call(this, command, ...rest);
  } as typeof S3Client.prototype.send;
}, 60_000);

afterAll(async () => {
  S3Client.prototype.send = originalSend;
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
    const { handler } = (await import('../../functions/score/handler.js'));
    const nights: ScoreS3ObjectResult[] = [];
    // Act
    for (const night of ['night-1', 'night-2']) {
      await putObject(s3.client, s3.bucket, `incoming/bank-marketing/${night}.csv.economics.json`, economics);
      nights.push(...(await handler(versioned(await dropObject(s3, `incoming/bank-marketing/${night}.csv`, bank)))));
    }
    await putObject(s3.client, s3.bucket, 'suppression/bank-marketing/broken.csv', 'id,until\n1,soon\n');
    const failed = await handler(versioned(await dropObject(s3, 'incoming/bank-marketing/night-3.csv', bank))).then(
      () => null,
      (e: unknown) => e as { code?: string },
    );
    await deleteKeys(s3.client, s3.bucket, ['suppression/bank-marketing/broken.csv']);
    // Assess: the runs did what they should, and nothing they asked of S3 is outside the role.
    expect(nights.map((r) => r.status)).toEqual(['scored', 'scored']);
    expect(failed?.code).toBe('SUPPRESSION_INVALID');
    const made = requests.filter((r) => r.actor === 'score');
    expect(new Set(made.map((r) => r.action))).toEqual(new Set(['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 's3:PutObject', 's3:DeleteObject']));
    expect(made.some((r) => r.target.startsWith('history/bank-marketing/'))).toBe(true);
    expect(deniedOf(statements.score, made)).toEqual([]);
  }, 180_000);

  it('the check refuses what a role does not grant (so a pass above means something)', () => {
    const ask = (action: string, target: string): Request => ({ actor: 'score', action, target });
    expect(deniedOf(statements.score, [ask('s3:GetObject', 'incoming/bank-marketing/a.csv'), ask('s3:ListBucket', 'history/bank-marketing/')])).toEqual([]);
    expect(
      deniedOf(statements.score, [
        ask('s3:DeleteObject', 'models/bank-marketing/champion.json'),
        ask('s3:PutObject', 'suppression/all.csv'),
        ask('s3:ListBucket', 'training/'),
        ask('s3:GetObjectVersion', 'models/bank-marketing/champion.json'),
      ]),
    ).toEqual(['s3:DeleteObject models/bank-marketing/champion.json', 's3:PutObject suppression/all.csv', 's3:ListBucket training/', 's3:GetObjectVersion models/bank-marketing/champion.json']);
    expect(deniedOf(statements['fan-out finish'], [ask('s3:GetObject', 'incoming/bank-marketing/a.csv')])).toEqual(['s3:GetObject incoming/bank-marketing/a.csv']);
  });

  it('the fan-out functions: plan, four parts and the merge of a versioned extract with a frequency cap', async () => {
    // Prepare: each step has the runtime its own function builds at cold start.
    Object.assign(process.env, embeddedS3Environment(s3), { LOG_LEVEL: 'SILENT', PART_BYTES: '1200000' });
    const { createFanOutRuntime } = await import('../../functions/fanout/fanOutRuntime.js');
    const { planRun, scoreRunPart, mergeRun } = await import('../../functions/fanout/fanOutSteps.js');
    const [plan, part, finish] = [createFanOutRuntime(), createFanOutRuntime(), createFanOutRuntime()];
    const key = 'incoming/bank-marketing/fan-out.csv';
    await putObject(s3.client, s3.bucket, `${key}.economics.json`, JSON.stringify({ frequencyCap: { maxContacts: 2, days: 30 } }));
    const event = await dropObject(s3, key, bank);
    const runId = 'fan-out-iam-run';
    const run = { bucket: s3.bucket, key, etag: event.Records[0]!.s3.object.eTag, versionId: 'version-1', model: 'bank-marketing', runId, outputBucket: s3.bucket, outputPrefix: `outputs/bank-marketing/${runId}/` };
    // Act
    actor = 'fan-out plan';
    const planned = await planRun(plan, run);
    actor = 'fan-out part';
    for (const range of planned.parts) await scoreRunPart(part, { run: planned.run, part: range });
    actor = 'fan-out finish';
    const merged = await mergeRun(finish, planned.run);
    actor = 'score';
    // Assess
    expect(planned.parts).toHaveLength(4);
    expect(merged.status).toBe('merged');
    for (const step of ['fan-out plan', 'fan-out part', 'fan-out finish'] as const) {
      const made = requests.filter((r) => r.actor === step);
      expect(made.length, step).toBeGreaterThan(0);
      expect(deniedOf(statements[step], made), step).toEqual([]);
    }
    expect(requests.some((r) => r.actor === 'fan-out part' && r.action === 's3:GetObjectVersion')).toBe(true);
    expect(requests.some((r) => r.actor === 'fan-out finish' && r.target === `history/bank-marketing/${runId}.csv`)).toBe(true);
  }, 180_000);
});
