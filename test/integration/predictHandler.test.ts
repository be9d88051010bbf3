import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import type { BundleFiles } from '../../functions/core/bundle/registry.js';
import { buildLogisticOnnx } from '../../functions/core/model/onnxFixtures.js';
import type { BinaryPrediction, PredictResponse, SegmentPrediction } from '../../functions/core/predict/customerPredictor.js';
import { createPredictRuntime, type PredictRuntime } from '../../functions/predict/predictRuntime.js';
import { embeddedS3Environment, startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { functionUrlEvent } from '../helpers/functionUrlEvent.js';
import { binaryBundleOver, sigmoid, tinyBinaryBundle, tinySegmentBundle } from '../helpers/tinyBundle.js';
import { captureOutput } from '../helpers/captureOutput.js';
import { deniedRequests, recordS3Requests, roleStatements, type S3Recording } from '../helpers/s3RoleCheck.js';

/**
 * The predict function through its real handler (function URL events) on the embedded S3 registry:
 * known probabilities from the tiny bundles (p = sigmoid(0.05·age + member − 2)), every refusal
 * (400, 413, 404, 405) with its JSON body, canaries that never reach a log line, and a promotion
 * served within the champion TTL (a clock moved by hand, no sleeping).
 */
const CANARY = 'CANARY-7d41e';

let s3: EmbeddedS3;
let emptyBundledDir: string;
let handler: typeof import('../../functions/predict/handler.js').handler;
let tiny: BundleFiles;
/** Every S3 request of the handler, checked against the predict role at the end (see s3RoleCheck.ts). */
let recording: S3Recording;

beforeAll(async () => {
  s3 = await startEmbeddedS3({ bucket: 'predict-it' });
  const registry = new S3Registry(s3.client, s3.bucket);
  tiny = await tinyBinaryBundle();
  for (const bundle of [tiny, await tinySegmentBundle()]) {
    await registry.write(bundle);
    await registry.promote(bundle.manifest.name, bundle.manifest.version, 'test');
  }
  emptyBundledDir = await mkdtemp(path.join(tmpdir(), 'propensity-no-bundled-'));
  Object.assign(process.env, embeddedS3Environment(s3), {
    BUNDLED_MODELS_DIR: emptyBundledDir,
    // Every log line is written, so the canary checks see all of them.
    LOG_LEVEL: 'DEBUG',
    POWERTOOLS_SERVICE_NAME: 'propensity-predict',
  });
  delete process.env.POWERTOOLS_DEV;
  ({ handler } = await import('../../functions/predict/handler.js'));
  recording = recordS3Requests(s3.client);
});

afterAll(async () => {
  recording?.stop();
  await s3?.stop();
  if (emptyBundledDir) await rm(emptyBundledDir, { recursive: true, force: true });
});

/** Calls the handler as the function URL would, capturing everything it logs. */
async function call(urlPath: string, body: unknown, method = 'POST'): Promise<{ status: number; body: Record<string, unknown>; printed: string }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const { value, error, printed } = await recording.as('predict', () => captureOutput(() => handler(functionUrlEvent(urlPath, text, { method }))));
  if (error !== undefined) throw error instanceof Error ? error : new Error('the handler threw a non-Error');
  return { status: value!.statusCode, body: JSON.parse(value!.body) as Record<string, unknown>, printed };
}

describe('POST /predict/<model>: answers', () => {
  it('scores customers with the bundle\'s encoder, economics and threshold: known probabilities, expected values, selection', async () => {
    // Act: a number, a numeric string (negative), and null for an imputed age (median 40).
    const { status, body } = await call('/predict/tiny', {
      customers: [
        { customer_id: 'c1', age: 60, member: 'yes' },
        { customer_id: ' c2 ', age: '-10', member: 'no' },
        { customer_id: 'c3', age: null, member: 'No', extra: 'ignored like an extra CSV column' },
      ],
    });
    // Assess
    expect(status).toBe(200);
    const response = body as unknown as PredictResponse;
    expect(response).toMatchObject({ model: 'tiny', version: '2026-01-01-test', task: 'binary', economics: { currency: 'EUR', policy: 'max-expected-profit', budgetContacts: null } });
    const [c1, c2, c3] = response.customers as BinaryPrediction[];
    expect(c1).toMatchObject({ id: 'c1', predicted: 'yes', decile: null, selected: true });
    expect(c1!.probability).toBeCloseTo(sigmoid(2), 6);
    expect(c1!.expectedValue).toBeCloseTo(sigmoid(2) * 100 - 10, 5);
    expect(c2).toMatchObject({ id: 'c2', predicted: 'no', selected: false });
    expect(c2!.probability).toBeCloseTo(sigmoid(-2.5), 6);
    expect(c2!.expectedValue).toBeCloseTo(sigmoid(-2.5) * 100 - 10, 5);
    expect(c3).toMatchObject({ id: 'c3', predicted: 'yes', selected: true });
    expect(c3!.probability).toBeCloseTo(0.5, 6);
    expect(c1!.reasons).toBeUndefined();
  });

  it('explains by occlusion: each feature blanked (imputed), contributions largest first', async () => {
    const { body } = await call('/predict/tiny', { customers: [{ customer_id: 'c1', age: 80, member: 'yes' }], explain: true });
    const [customer] = (body as unknown as PredictResponse).customers;
    // p = sigmoid(3); age blanked → 40 → sigmoid(1); member blanked → its fill 0 → sigmoid(2).
    expect(customer!.reasons!.map((r) => r.feature)).toEqual(['age', 'member']);
    expect(customer!.reasons![0]!.contribution).toBeCloseTo(sigmoid(3) - sigmoid(1), 6);
    expect(customer!.reasons![1]!.contribution).toBeCloseTo(sigmoid(3) - sigmoid(2), 6);
  });

  it('gives a multiclass customer its class probabilities, segment, confidence and action', async () => {
    const { status, body } = await call('/predict/tiny-segments', { customers: [{ ID: 's1', x1: 2, x2: '0' }] });
    expect(status).toBe(200);
    const [customer] = (body as unknown as PredictResponse).customers as SegmentPrediction[];
    const total = Math.exp(2) + 2;
    expect(customer).toMatchObject({ id: 's1', segment: 'A', action: 'discounts', selected: true, decile: null });
    expect(customer!.confidence).toBeCloseTo(Math.exp(2) / total, 6);
    expect(customer!.probabilities.B).toBeCloseTo(1 / total, 6);
    expect(customer!.probabilities.C).toBeCloseTo(1 / total, 6);
  });
});

describe('POST /predict/<model>: refusals name the customer and the column, never the value', () => {
  const good = { customer_id: 'c1', age: 30, member: 'yes' };
  const cases: Array<{ name: string; path?: string; method?: string; body: unknown; status: number; error: Record<string, unknown> }> = [
    { name: 'a number that is not one', body: { customers: [good, { ...good, age: CANARY }] }, status: 400, error: { code: 'REQUEST_INVALID', customer: 1, column: 'age', reason: 'NOT_A_NUMBER', message: 'customers[1] column "age": is not a number' } },
    { name: 'a missing required column', body: { customers: [good, good, { customer_id: CANARY, member: 'no' }] }, status: 400, error: { code: 'REQUEST_INVALID', customer: 2, column: 'age', reason: 'MISSING_COLUMN' } },
    { name: 'an empty id', body: { customers: [{ ...good, customer_id: '' }] }, status: 400, error: { code: 'REQUEST_INVALID', customer: 0, column: 'customer_id', reason: 'MISSING_REQUIRED' } },
    { name: 'a boolean that is not a cell', body: { customers: [{ ...good, member: true }] }, status: 400, error: { code: 'REQUEST_INVALID', customer: 0, column: 'member', reason: 'NOT_A_CELL' } },
    { name: 'a boolean word the column does not know', body: { customers: [{ ...good, member: CANARY }] }, status: 400, error: { code: 'REQUEST_INVALID', customer: 0, column: 'member', reason: 'NOT_A_BOOLEAN' } },
    { name: 'a body that is not JSON', body: `{"customers": [{"age": ${CANARY}}]}`, status: 400, error: { code: 'REQUEST_INVALID', message: expect.stringContaining('the body is not valid JSON') as string } },
    { name: 'no customers', body: { customers: [] }, status: 400, error: { code: 'REQUEST_INVALID', column: 'customers' } },
    { name: 'an unknown key', body: { customers: [good], [CANARY]: 1 }, status: 400, error: { code: 'REQUEST_INVALID' } },
    { name: '1,001 customers', body: { customers: Array.from({ length: 1001 }, () => good) }, status: 413, error: { code: 'REQUEST_TOO_LARGE', column: 'customers' } },
    { name: 'a body over 1 MiB', body: { customers: [{ ...good, notes: `${CANARY}${'x'.repeat(1024 * 1024)}` }] }, status: 413, error: { code: 'REQUEST_TOO_LARGE' } },
    { name: 'an unknown model', path: '/predict/no-such-model', body: { customers: [good] }, status: 404, error: { code: 'BUNDLE_NOT_FOUND' } },
    { name: 'a path that is not a model name', path: '/predict/No_Such..Model', body: { customers: [good] }, status: 404, error: { code: 'BUNDLE_NOT_FOUND' } },
    { name: 'another path', path: '/score', body: { customers: [good] }, status: 404, error: { code: 'NOT_FOUND' } },
    { name: 'another method', method: 'GET', body: '', status: 405, error: { code: 'METHOD_NOT_ALLOWED' } },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.status} ${String(c.error.code)}, no canary in the answer or the logs`, async () => {
      const { status, body, printed } = await call(c.path ?? '/predict/tiny', c.body, c.method);
      expect(status).toBe(c.status);
      expect(body.error).toMatchObject(c.error);
      expect(Object.keys(body.error as object)).not.toContain('name');
      expect(JSON.stringify(body)).not.toContain('CANARY');
      expect(printed).toContain('"level":');
      expect(printed).not.toContain('CANARY');
    });
  }

  it('logs a scored request (model, version, counts) and never a customer\'s id or values, explanations included', async () => {
    const { status, printed } = await call('/predict/tiny', {
      customers: [{ customer_id: CANARY, age: 987654.321, member: 'yes', note: CANARY }],
      explain: true,
    });
    expect(status).toBe(200);
    expect(printed).toContain('"message":"predicted"');
    expect(printed).toContain('"version":"2026-01-01-test"');
    expect(printed).not.toContain('CANARY');
    expect(printed).not.toContain('987654');
  });
});

describe('a promotion reaches a warm container within CHAMPION_TTL_SECONDS', () => {
  let runtime: PredictRuntime;
  let clock = 0;

  beforeAll(() => {
    runtime = createPredictRuntime({ ...process.env, CHAMPION_TTL_SECONDS: '60', LOG_LEVEL: 'SILENT' }, { now: () => clock });
  });

  afterAll(async () => {
    await runtime?.dispose();
  });

  async function score(): Promise<{ version: string; probability: number }> {
    const response = await recording.as('predict', () => runtime.serve({ method: 'POST', path: '/predict/tiny-ttl', body: JSON.stringify({ customers: [{ customer_id: 'c1', age: 40, member: 'yes' }] }) }));
    const body = JSON.parse(response.body) as PredictResponse;
    return { version: body.version, probability: (body.customers[0] as BinaryPrediction).probability };
  }

  it('serves the old champion until the TTL has passed, then the new one, without a restart', async () => {
    // Prepare: v1 (the tiny weights) is the champion; v2 doubles the member weight.
    const registry = new S3Registry(s3.client, s3.bucket);
    const fitted = tiny.manifest.featureSpec;
    const v1 = binaryBundleOver(fitted, buildLogisticOnnx([0.05, 1], -2, { inputName: 'features', outputName: 'probability' }), { name: 'tiny-ttl', version: '2026-01-01-v1' }, 'test/v1');
    const v2 = binaryBundleOver(fitted, buildLogisticOnnx([0.05, 2], -2, { inputName: 'features', outputName: 'probability' }), { name: 'tiny-ttl', version: '2026-01-02-v2' }, 'test/v2');
    await registry.write(v1);
    await registry.write(v2);
    await registry.promote('tiny-ttl', v1.manifest.version, 'first');
    // Act / Assess: p = sigmoid(2 + 1 − 2) with v1, sigmoid(2 + 2 − 2) with v2.
    clock = 1_000;
    expect(await score()).toEqual({ version: '2026-01-01-v1', probability: expect.closeTo(sigmoid(1), 6) as number });
    await registry.promote('tiny-ttl', v2.manifest.version, 'challenger won');
    clock = 1_000 + 59_999;
    expect((await score()).version).toBe('2026-01-01-v1');
    clock = 1_000 + 60_000;
    expect(await score()).toEqual({ version: '2026-01-02-v2', probability: expect.closeTo(sigmoid(2), 6) as number });
    // And back: a rollback is a promotion like any other.
    await registry.promote('tiny-ttl', v1.manifest.version, 'rollback');
    clock += 60_000;
    expect((await score()).version).toBe('2026-01-01-v1');
  });
});

describe('the role of the synthesized stack', () => {
  it('allows every S3 request the predict function made above', () => {
    expect(recording.requests.length).toBeGreaterThan(0);
    expect(deniedRequests(roleStatements(), recording.requests)).toEqual([]);
  });
});
