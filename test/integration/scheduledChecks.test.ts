import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { listKeys, putObject } from '../../functions/adapters/s3/s3Objects.js';
import type { DriftReport } from '../../functions/core/drift/checkDrift.js';
import { train } from '../../functions/core/training/train.js';
import { BUNDLED_MODEL_STORE } from '../../functions/cli/resolveBundle.js';
import { createDriftRuntime } from '../../functions/drift/driftRuntime.js';
import { splitHoldout } from '../../functions/retrain/labelledData.js';
import { createRetrainRuntime } from '../../functions/retrain/retrainRuntime.js';
import { createScoreRuntime } from '../../functions/score/scoreRuntime.js';
import { dataset } from '../helpers/datasets.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { objectJson, objectText } from './support/s3Drops.js';
import { deniedRequests, recordS3Requests, roleStatements, type S3Recording } from '../helpers/s3RoleCheck.js';
import { loadBankFixture, shiftRows, type BankFixture, type Row } from '../unit/drift/bankMarketingFixture.js';
import { tfjsTrainingRuntime } from '../../functions/adapters/model/tfjsTrainingRuntime.js';

/**
 * The two scheduled functions end to end against an embedded S3: extracts scored by the score
 * runtime (which writes profile.json), then the drift function's check of those runs with the
 * bundled bank-marketing champion, its report, summary and EMF metrics; then the retrain function
 * on labelled extracts dropped under training/, with a challenger promoted when better and refused
 * when worse, and with `onlyOnAlarm` deciding from the drift function's report.
 */

let s3: EmbeddedS3;
let fixture: BankFixture;
/** Every S3 request of the three functions, checked against their roles at the end (see s3RoleCheck.ts). */
let recording: S3Recording;

const baseEnv = (bucket: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  BUCKET: bucket,
  MODELS: 'bank-marketing',
  AWS_ENDPOINT_URL: s3.endpoint,
  AWS_REGION: 'us-east-1',
  BUNDLED_MODELS_DIR: BUNDLED_MODEL_STORE,
  LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  ...extra,
});

const toCsv = (header: readonly string[], rows: readonly Row[]) => `${[header, ...rows].map((r) => r.join(';')).join('\n')}\n`;

interface EmfLine {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> };
  [key: string]: unknown;
}

/** Runs `act` and returns its result with the EMF lines written to stdout meanwhile. */
async function capturingEmf<T>(act: () => Promise<T>): Promise<{ result: T; emf: EmfLine[] }> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  try {
    const result = await act();
    const emf = written
      .join('')
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as EmfLine);
    return { result, emf };
  } finally {
    spy.mockRestore();
  }
}

/** The drift function's work, with the EMF lines it published. */
async function runDriftChecks(env: NodeJS.ProcessEnv) {
  const { result: checks, emf } = await recording.as('drift', () => capturingEmf(() => createDriftRuntime(env).runChecks()));
  return { checks, emf };
}

/** The retrain function's work (it publishes no metrics: an EMF line from it would be a bug). */
async function runRetraining(env: NodeJS.ProcessEnv, now?: Date) {
  const { result: checks, emf } = await recording.as('retrain', () => capturingEmf(() => createRetrainRuntime(env).runRetraining(now)));
  expect(emf).toEqual([]);
  return { checks };
}

async function scoreInBucket(bucket: string, key: string, body: string): Promise<void> {
  await putObject(s3.client, bucket, key, body, 'text/csv');
  const runtime = createScoreRuntime(baseEnv(bucket));
  const result = await recording.as('score', () => runtime.scoreObject({ bucket, key }));
  expect(result.status).toBe('scored');
}

beforeAll(async () => {
  fixture = await loadBankFixture();
  s3 = await startEmbeddedS3({ bucket: 'drift-unshifted' });
  // The SDK's default credential chain reads these, as it reads the role's in Lambda.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
  for (const bucket of ['drift-shifted', 'retrain', 'late-labels', 'bad-labels']) await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  recording = recordS3Requests(s3.client);
});

afterAll(async () => {
  recording?.stop();
  await s3?.stop();
});

describe('drift function', () => {
  it('finds no drift in runs of unshifted customers, and writes its report and summary', async () => {
    await scoreInBucket('drift-unshifted', 'incoming/bank-marketing/holdout.csv', toCsv(fixture.header, fixture.holdout));

    const { checks, emf } = await runDriftChecks(baseEnv('drift-unshifted'));

    const [check] = checks;
    expect(check?.drift.status).toBe('ok');
    if (check?.drift.status !== 'ok') return;
    expect(check.drift.rows).toBe(fixture.holdout.length);
    expect(check.drift.driftedFeatures).toEqual([]);
    expect(check.drift.alarmFiring).toBe(false);
    const day = new Date().toISOString().slice(0, 10);
    expect(check.drift.reportKey).toBe(`drift/bank-marketing/${day}.json`);
    const report = (await objectJson(s3, check.drift.reportKey, 'drift-unshifted')) as DriftReport;
    expect(report.modelVersion).toBe(check.modelVersion);
    expect(report.runs).toHaveLength(1);
    expect(await objectText(s3, `drift/bank-marketing/${day}.txt`, 'drift-unshifted')).toContain('bank-marketing');
    // Metrics are published for every verdict, so the alarms see the healthy nights too.
    expect(emf.length).toBeGreaterThan(1);
    expect(emf[0]!['DriftedFeatureShare']).toBe(0);
    // No labelled data arrived: the retrain function has nothing to retrain on.
    const { checks: retrained } = await runRetraining(baseEnv('drift-unshifted'));
    expect(retrained[0]!.retrain).toEqual({ status: 'skipped', reason: expect.stringContaining('no labelled data') as unknown });
  });

  it('flags exactly the shifted features, and publishes the EMF metrics the alarms watch', async () => {
    await scoreInBucket('drift-shifted', 'incoming/bank-marketing/shifted.csv', toCsv(fixture.header, shiftRows(fixture.header, fixture.holdout)));

    const { checks, emf } = await runDriftChecks(baseEnv('drift-shifted'));

    const check = checks[0]!;
    // Three of fifteen features, none of the model's top three: features alarm, no dataset drift.
    expect(check.drift.status).toBe('warn');
    if (check.drift.status !== 'warn') return;
    expect([...check.drift.driftedFeatures].sort()).toEqual(['age', 'balance', 'job']);
    expect(check.drift.alarmFiring).toBe(true);
    const report = (await objectJson(s3, check.drift.reportKey, 'drift-shifted')) as DriftReport;
    expect(report.datasetDrift).toBe(false);
    // The trained model leans little on age, balance and job: its scores barely move.
    expect(report.score!.psi).toBeLessThan(0.1);

    const modelLine = emf.find((line) => line._aws.CloudWatchMetrics[0]!.Dimensions[0]!.length === 1)!;
    expect(modelLine._aws.CloudWatchMetrics[0]!.Namespace).toBe('Propensity');
    expect(modelLine._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['model']]);
    expect(modelLine['model']).toBe('bank-marketing');
    expect(modelLine['ScorePsi']).toBeCloseTo(report.score!.psi, 10);
    expect(modelLine['FeaturePsiMax']).toBeCloseTo(report.featurePsiMax, 10);
    expect(modelLine['DriftedFeatureShare']).toBeCloseTo(3 / report.features.filter((f) => f.psi !== null && !f.ignored).length, 10);
    const balanceLine = emf.find((line) => line['feature'] === 'balance')!;
    expect(balanceLine._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['model', 'feature']]);
    expect(balanceLine['FeaturePsi']).toBeCloseTo(report.features.find((f) => f.name === 'balance')!.psi!, 10);

    // The page beside the JSON: served as HTML, with a chart of each drifted feature's distribution.
    const pageKey = check.drift.reportKey.replace(/\.json$/, '.html');
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: 'drift-shifted', Key: pageKey }));
    expect(head.ContentType).toBe('text/html; charset=utf-8');
    const page = (await objectText(s3, pageKey, 'drift-shifted'))!;
    expect(page).toContain('<h1>Drift report: bank-marketing');
    for (const feature of ['age', 'balance', 'job']) expect(page).toContain(`<h3>${feature}</h3>`);
    expect(page).toContain('No realized performance yet');
  });
});

describe('retrain function with onlyOnAlarm, reading the drift function\'s report', () => {
  const onlyOnAlarm = (bucket: string) =>
    baseEnv(bucket, {
      RETRAIN_POLICY: JSON.stringify({ minNewLabels: 1000, onlyOnAlarm: true }),
      TRAINING_OVERRIDES: JSON.stringify({ search: false, training: { epochs: 1, ensemble: 1 } }),
    });
  const day = () => new Date().toISOString().slice(0, 10);

  beforeAll(async () => {
    // The same 2,000 labelled rows reach both buckets the drift function checked above.
    for (const bucket of ['drift-unshifted', 'drift-shifted']) {
      await putObject(s3.client, bucket, 'training/bank-marketing/recent.csv', toCsv(fixture.header, fixture.train.slice(0, 2000)));
    }
  });

  it('does not retrain when tonight\'s drift report shows no alarm', async () => {
    const { checks } = await runRetraining(onlyOnAlarm('drift-unshifted'));

    expect(checks[0]!.driftEvidence).toEqual({ reportKey: `drift/bank-marketing/${day()}.json`, alarmFiring: false });
    expect(checks[0]!.retrain).toEqual({ status: 'skipped', reason: '2000 new labels, but no drift or performance alarm is firing (onlyOnAlarm)' });
    expect(await new S3Registry(s3.client, 'drift-unshifted').champion('bank-marketing')).toBeUndefined();
  });

  it('does not count a drift report older than DRIFT_REPORT_MAX_AGE_HOURS as an alarm', async () => {
    const twoDaysOn = new Date(Date.now() + 2 * 24 * 3600 * 1000);

    const { checks } = await runRetraining(onlyOnAlarm('drift-shifted'), twoDaysOn);

    expect(checks[0]!.driftEvidence).toBeNull();
    expect(checks[0]!.retrain).toEqual({ status: 'skipped', reason: expect.stringContaining('onlyOnAlarm') as unknown });
  });

  it('retrains when tonight\'s drift report shows an alarm, and records which report decided it', async () => {
    const { checks } = await runRetraining(onlyOnAlarm('drift-shifted'));

    const reportKey = `drift/bank-marketing/${day()}.json`;
    expect(checks[0]!.driftEvidence).toEqual({ reportKey, alarmFiring: true });
    const step = checks[0]!.retrain;
    expect(['promoted', 'refused']).toContain(step.status);
    if (step.status !== 'promoted' && step.status !== 'refused') return;
    expect(step.trainRows + step.holdoutRows).toBe(2000);
    expect(await objectJson(s3, step.recordKey, 'drift-shifted')).toMatchObject({
      trigger: '2000 new labels ≥ 1000 and an alarm is firing',
      driftReport: reportKey,
    });
  });
});

describe('retrain function', () => {
  const bucket = 'retrain';
  const env = () =>
    baseEnv(bucket, {
      RETRAIN_POLICY: JSON.stringify({ minNewLabels: 1000, metric: 'auc', minAucGain: 0.005 }),
      // A quick configuration (one model, no cross-validated ensemble): the point here is the
      // champion/challenger loop, not the last AUC point.
      TRAINING_OVERRIDES: JSON.stringify({ search: false, training: { epochs: 4, ensemble: 1, folds: 1 } }),
    });
  let weakVersion: string;

  beforeAll(async () => {
    // The champion in the registry: a weak model trained on 1,500 rows for one epoch.
    const spec = JSON.parse(await readFile(path.join(BUNDLED_MODEL_STORE, 'bank-marketing', 'spec.json'), 'utf8')) as unknown;
    const weak = await train({
      runtime: tfjsTrainingRuntime,
      data: { source: 'old rows', header: fixture.header, records: fixture.train.slice(0, 1500) },
      spec,
      overrides: { search: false, training: { epochs: 1, ensemble: 1 } },
      now: new Date('2026-01-05T00:00:00Z'),
    });
    const registry = new S3Registry(s3.client, bucket);
    weakVersion = (await registry.write(weak.bundle)).version;
    await registry.promote('bank-marketing', weakVersion, 'first model');
  });

  it('trains a challenger on new labelled extracts and promotes it when it beats the champion', async () => {
    await putObject(s3.client, bucket, 'training/bank-marketing/november.csv', toCsv(fixture.header, fixture.train.slice(2000, 14_000)));

    const { checks } = await runRetraining(env());

    const step = checks[0]!.retrain;
    expect(step.status).toBe('promoted');
    if (step.status !== 'promoted') return;
    expect(step.previousChampion).toBe(weakVersion);
    expect(step.trainRows + step.holdoutRows).toBe(12_000);
    const registry = new S3Registry(s3.client, bucket);
    expect(await registry.champion('bank-marketing')).toBe(step.challenger);
    const record = (await objectJson(s3, step.recordKey, bucket)) as { evaluations: { challenger: { auc: number }; champion: { auc: number } } };
    expect(record.evaluations.challenger.auc).toBeGreaterThan(record.evaluations.champion.auc + 0.005);
  });

  it('refuses a challenger trained on scrambled labels, judged on a true holdout, and keeps every version', async () => {
    const registry = new S3Registry(s3.client, bucket);
    const championBefore = (await registry.champion('bank-marketing'))!;
    // The rows the split will train on get their labels shuffled; the held-out rows keep theirs.
    const rows = fixture.train.slice(14_000, 26_000).map((r) => [...r]);
    const table = { source: 'x', header: fixture.header, records: rows.map((_, i) => [String(i)]) };
    const trainIndices = splitHoldout(table, 0.2).train.records.map((r) => Number(r[0]));
    const y = fixture.header.indexOf('y');
    const labels = trainIndices.map((i) => rows[i]![y]!);
    let state = 12345;
    for (let i = labels.length - 1; i > 0; i--) {
      state = (state * 16807) % 2147483647;
      const j = state % (i + 1);
      [labels[i], labels[j]] = [labels[j]!, labels[i]!];
    }
    trainIndices.forEach((rowIndex, k) => (rows[rowIndex]![y] = labels[k]!));
    await putObject(s3.client, bucket, 'training/bank-marketing/december-scrambled.csv', toCsv(fixture.header, rows));

    const { checks } = await runRetraining(env());

    const step = checks[0]!.retrain;
    expect(step.status).toBe('refused');
    if (step.status !== 'refused') return;
    expect(step.reason).toMatch(/^refused/);
    expect(step.champion).toBe(championBefore);
    expect(await registry.champion('bank-marketing')).toBe(championBefore);
    const versions = (await registry.listVersions('bank-marketing')).map((v) => v.version);
    expect(versions).toHaveLength(3);
    expect(versions).toContain(step.challenger);
    expect((await registry.history('bank-marketing')).map((h) => h.version)).toEqual([weakVersion, championBefore]);
    expect(await listKeys(s3.client, bucket, 'drift/bank-marketing/')).toEqual([expect.stringMatching(/\.retrain\.json$/)]);
  });

  it('does not retrain again on labels it has already used', async () => {
    const { checks } = await runRetraining(env());
    expect(checks[0]!.retrain.status).toBe('skipped');
  });
});

describe('drift and retrain functions on late labels', () => {
  it('joins outcomes (customer id + outcome) to the extract a run scored, seeds the registry with the bundled champion, and judges a challenger against it', async () => {
    const bucket = 'late-labels';
    // Tonight's extract carries no outcome; the outcomes arrive weeks later, keyed by CustomerID.
    const [header, ...rows] = (await readFile(dataset('ecommerce-churn/E_Commerce_Dataset.csv'), 'utf8')).trimEnd().split(/\r?\n/).map((l) => l.split(','));
    const churn = header!.indexOf('Churn');
    const extract = [header!, ...rows].map((r) => r.filter((_, i) => i !== churn).join(',')).join('\n');
    await scoreInBucket(bucket, 'incoming/ecommerce-churn/2026-11-01.csv', `${extract}\n`);
    const labels = ['CustomerID,outcome', ...rows.map((r) => `${r[0]},${r[churn]}`)].join('\n');
    await putObject(s3.client, bucket, 'labels/ecommerce-churn/outcomes-2026-11.csv', `${labels}\n`);

    const env = baseEnv(bucket, {
      MODELS: 'ecommerce-churn',
      RETRAIN_POLICY: JSON.stringify({ minNewLabels: 1000 }),
      TRAINING_OVERRIDES: JSON.stringify({ search: false, training: { epochs: 3, ensemble: 1 } }),
    });
    const { checks: driftChecks } = await runDriftChecks(env);
    const { checks } = await runRetraining(env);

    // The drift function: realized beside expected, for the run that scored these customers, recomputed here from its targets.csv.
    const realized = driftChecks[0]!.realized!;
    expect(realized.runs).toHaveLength(1);
    const [run] = realized.runs;
    expect(run!.labelled).toBe(rows.length);
    expect(run!.unlabelled).toBe(0);
    const churned = new Set(rows.filter((r) => r[churn] === '1').map((r) => r[0]));
    expect(run!.performance.responders).toBe(churned.size);
    const targetIds = (await objectText(s3, `${run!.run}targets.csv`, bucket))!.trimEnd().split('\n').slice(1).map((l) => l.split(',')[0]);
    expect(run!.performance.selection.contacts).toBe(targetIds.length);
    expect(run!.performance.selection.responders).toBe(targetIds.filter((id) => churned.has(id)).length);
    expect(await objectJson(s3, realized.key, bucket)).toMatchObject({ model: 'ecommerce-churn', runs: [{ labelled: rows.length }] });

    // The retrain function: the same outcomes, joined to the same extract, train a challenger.
    const step = checks[0]!.retrain;
    expect(checks[0]!.modelVersion).toBe(driftChecks[0]!.modelVersion);
    // The shipped champion saw most of these customers in training, with a full search: a quick
    // challenger does not beat it on the holdout.
    expect(step.status).toBe('refused');
    if (step.status !== 'refused') return;
    expect(step.trainRows + step.holdoutRows).toBe(rows.length);
    const record = (await objectJson(s3, step.recordKey, bucket)) as { sources: string[] };
    expect(record.sources).toEqual([`s3://${bucket}/labels/ecommerce-churn/outcomes-2026-11.csv`, `s3://${bucket}/incoming/ecommerce-churn/2026-11-01.csv`]);
    const registry = new S3Registry(s3.client, bucket);
    const history = await registry.history('ecommerce-churn');
    expect(history).toEqual([expect.objectContaining({ version: checks[0]!.modelVersion, reason: 'seeded from the model bundled with the function' })]);
    expect(await registry.champion('ecommerce-churn')).toBe(checks[0]!.modelVersion);
    expect((await registry.listVersions('ecommerce-churn')).map((v) => v.version).sort()).toEqual([checks[0]!.modelVersion, step.challenger].sort());
  });
});

describe('retrain function on data that cannot train a model', () => {
  it('records why, keeps the champion, and does not fail the run', async () => {
    const bucket = 'bad-labels';
    // 4,000 rows of bank-full whose outcome is "no": one class, nothing to learn. (A column that is
    // missing throughout, as pdays in summer 2008, no longer stops a training: it is fitted as a constant.)
    const lines = (await readFile(dataset('bank-marketing/bank-full.csv'), 'utf8')).split('\n');
    const noes = lines.slice(1).filter((l) => l.endsWith(';"no"')).slice(0, 4000);
    await putObject(s3.client, bucket, 'training/bank-marketing/summer-2008.csv', `${[lines[0], ...noes].join('\n')}\n`);

    const { checks } = await runRetraining(baseEnv(bucket, { RETRAIN_POLICY: JSON.stringify({ minNewLabels: 1000 }), TRAINING_OVERRIDES: JSON.stringify({ search: false }) }));

    const step = checks[0]!.retrain;
    expect(step.status).toBe('failed');
    if (step.status !== 'failed') return;
    expect(step.reason).toContain('target "y" has 1 class(es)');
    expect(await objectJson(s3, step.recordKey, bucket)).toMatchObject({ failed: { message: expect.stringContaining('training needs two or more') as unknown } });
    // The bundled champion was brought into the registry and stays champion.
    expect(await new S3Registry(s3.client, bucket).champion('bank-marketing')).toBe(checks[0]!.modelVersion);
  });
});

describe('the roles of the synthesized stack', () => {
  it('allow every S3 request the score, drift and retrain functions made above', () => {
    const made = recording.requests;
    expect(new Set(made.map((r) => r.actor))).toEqual(new Set(['score', 'drift', 'retrain']));
    expect(deniedRequests(roleStatements(), made)).toEqual([]);
  });
});
