import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import type { ScoreS3ObjectResult } from '../../functions/score/scoreS3Object.js';
import { captureOutput } from '../helpers/captureOutput.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { bankBundle } from './support/bankBundle.js';
import { dropObject } from './support/s3Drops.js';

type Handler = (event: S3Event) => Promise<ScoreS3ObjectResult[]>;
type Scored = Extract<ScoreS3ObjectResult, { status: 'scored' }>;

let s3: EmbeddedS3;
let handler: Handler;

// A value that stands in for a customer identifier: it must never reach the logs.
const SECRET = 'customer-7f3a9-private';
const EXTRACT = `"age";"job";"balance";"duration";"campaign"\n58;"${SECRET}";2143;261;1\n44;"technician";29;151;1\n47;"blue-collar";1506;1692;2\n`;

beforeAll(async () => {
  s3 = await startEmbeddedS3({ bucket: 'observability-it' });
  const registry = new S3Registry(s3.client, s3.bucket);
  const bundle = bankBundle();
  await registry.write(bundle);
  await registry.promote('bank-marketing', bundle.manifest.version, 'test');
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    LOG_LEVEL: 'INFO',
    POWERTOOLS_SERVICE_NAME: 'propensity-score',
  });
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  delete process.env.POWERTOOLS_DEV;
  ({ handler } = await import('../../functions/score/handler.js'));
});

afterAll(async () => {
  await s3?.stop();
});

/** Runs `act` while collecting every JSON line written to stdout and stderr (Powertools logs and EMF). */
async function captureJsonLines<T>(act: () => Promise<T>): Promise<{ value: T | undefined; error: unknown; lines: Array<Record<string, unknown>>; raw: string }> {
  const { value, error, printed: raw } = await captureOutput(act);
  const lines = raw
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { value, error, lines, raw };
}

describe('score function logs and metrics', () => {
  it('publishes the run metrics as CloudWatch EMF with the model dimension', async () => {
    const event = await dropObject(s3, 'incoming/bank-marketing/metrics.csv', EXTRACT);
    const { value, lines } = await captureJsonLines(() => handler(event));
    const result = value![0] as Scored;
    const emf = lines.find((line) => line._aws !== undefined)!;
    const directive = (emf._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> })
      .CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe('Propensity');
    expect(directive.Dimensions[0]).toContain('model');
    expect(emf.model).toBe('bank-marketing');
    expect(Object.fromEntries(directive.Metrics.map((m) => [m.Name, m.Unit]))).toEqual({
      RowsRead: 'Count',
      RowsScored: 'Count',
      RowsRejected: 'Count',
      DurationMs: 'Milliseconds',
      Selected: 'Count',
      ExpectedRoi: 'None',
    });
    expect(emf).toMatchObject({
      RowsRead: 3,
      RowsScored: 3,
      RowsRejected: 0,
      DurationMs: result.summary.durationMs,
      Selected: result.summary.selected,
      ExpectedRoi: result.summary.campaign!.selection.roi,
    });
  });

  it('logs structured run facts, and never a row value', async () => {
    const event = await dropObject(s3, 'incoming/bank-marketing/logs.csv', EXTRACT);
    const { lines, raw } = await captureJsonLines(() => handler(event));
    const scored = lines.find((line) => line.message === 'extract scored')!;
    expect(scored).toMatchObject({
      level: 'INFO',
      service: 'propensity-score',
      key: 'incoming/bank-marketing/logs.csv',
      model: 'bank-marketing',
      modelVersion: '2026-11-23T0900-test01',
      bundleOrigin: 'registry',
      rows: { read: 3, scored: 3, rejected: 0 },
    });
    expect(raw).not.toContain(SECRET);
  });

  it('logs a failure with its code and location, not the offending line', async () => {
    // Prepare: the secret sits in a line the parser cannot read.
    const event = await dropObject(s3, 'incoming/bank-marketing/broken.csv', `"age";"job";"balance";"campaign"\n58;"${SECRET}";2143;1\n`);
    const { error, lines, raw } = await captureJsonLines(() => handler(event));
    expect(error).toMatchObject({ code: 'EXTRACT_MISSING_COLUMN' });
    const failed = lines.find((line) => line.message === 'scoring failed')!;
    expect(failed).toMatchObject({
      level: 'ERROR',
      key: 'incoming/bank-marketing/broken.csv',
      retryable: false,
      error: { code: 'EXTRACT_MISSING_COLUMN', file: 's3://observability-it/incoming/bank-marketing/broken.csv' },
    });
    expect(raw).not.toContain(SECRET);
  });
});
