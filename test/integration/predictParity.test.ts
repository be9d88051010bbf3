import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Event } from 'aws-lambda';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsRegistry } from '../../functions/adapters/fs/fsRegistry.js';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { formatProbability } from '../../functions/core/engine/csvText.js';
import { ScoreHistogram } from '../../functions/core/economics/scoreHistogram.js';
import type { BinaryPrediction, PredictResponse } from '../../functions/core/predict/customerPredictor.js';
import type { ScoreS3ObjectResult } from '../../functions/score/scoreS3Object.js';
import { embeddedS3Environment, startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { functionUrlEvent } from '../helpers/functionUrlEvent.js';
import { BANK_FULL, REPO_ROOT, dropObject, objectText } from './support/s3Drops.js';

/**
 * The closing check: the same 1,000 bank-full customers (every 45th row of the real file)
 * through the batch path (the score function on an S3 drop) and through /predict (one request, and
 * one request per customer), with the bundled bank-marketing model published to the S3 registry.
 * No mock: both handlers as Lambda runs them, the real model, the embedded S3 server.
 */
const CUSTOMERS = 1000;
const STRIDE = 45;

type ScoreHandler = (event: S3Event) => Promise<ScoreS3ObjectResult[]>;

let s3: EmbeddedS3;
let emptyBundledDir: string;
let predict: typeof import('../../functions/predict/handler.js').handler;
/** The batch run's outputs, by the extract's line number (the batch id of a spec without an id column). */
let batch: { scores: Map<number, { probability: string; decile: number }>; targets: Map<number, number>; profileCounts: number[] };
/** The 1,000 customers as JSON, in extract order (customer i is line i + 2). */
let customers: Record<string, string | number>[];

async function predictCall(body: unknown): Promise<{ status: number; body: PredictResponse }> {
  const result = await predict(functionUrlEvent('/predict/bank-marketing', JSON.stringify(body)));
  return { status: result.statusCode, body: JSON.parse(result.body) as PredictResponse };
}

beforeAll(async () => {
  // Prepare: the repository's bank-marketing champion in the S3 registry; no bundled fallback.
  s3 = await startEmbeddedS3({ bucket: 'predict-parity' });
  const shipped = new FsRegistry(path.join(REPO_ROOT, 'model-store'));
  const registry = new S3Registry(s3.client, s3.bucket);
  const bundle = await shipped.read('bank-marketing');
  await registry.write(bundle);
  await registry.promote('bank-marketing', bundle.manifest.version, 'parity test');
  emptyBundledDir = await mkdtemp(path.join(tmpdir(), 'propensity-no-bundled-'));
  Object.assign(process.env, embeddedS3Environment(s3), {
    BUNDLED_MODELS_DIR: emptyBundledDir,
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const score: ScoreHandler = (await import('../../functions/score/handler.js')).handler;
  ({ handler: predict } = await import('../../functions/predict/handler.js'));

  // The extract: the real file's header and every 45th customer, bytes unchanged (`;`, quoted strings).
  // A missing ../shared fails here, loudly (datasets.ts throws naming where it looked).
  const lines = (await readFile(BANK_FULL, 'utf8')).split('\n');
  const picked = Array.from({ length: CUSTOMERS }, (_, i) => lines[1 + i * STRIDE]!);
  const extract = `${lines[0]}\n${picked.join('\n')}\n`;
  // The same rows as JSON: numbers as JSON numbers (day too, a categorical), text as strings.
  const records = parse<Record<string, string>>(extract, { delimiter: ';', columns: true });
  customers = records.map((record) => Object.fromEntries(Object.entries(record).map(([column, cell]) => [column, /^-?\d+$/.test(cell) ? Number(cell) : cell])));

  const [run] = await score(await dropObject(s3, 'incoming/bank-marketing/parity.csv', extract));
  if (run?.status !== 'scored') throw new Error(`the batch run did not score: ${JSON.stringify(run)}`);
  const prefix = run.outputs.replace(`s3://${s3.bucket}/`, '');
  const scoreRows = parse<{ line: string; probability: string; decile: string }>((await objectText(s3, `${prefix}scores.csv`))!, { columns: true });
  const targetRows = parse<{ line: string; expected_value: string }>((await objectText(s3, `${prefix}targets.csv`))!, { columns: true });
  const profile = JSON.parse((await objectText(s3, `${prefix}profile.json`))!) as { score: { counts: number[] } };
  batch = {
    scores: new Map(scoreRows.map((r) => [Number(r.line), { probability: r.probability, decile: Number(r.decile) }])),
    targets: new Map(targetRows.map((r) => [Number(r.line), Number(r.expected_value)])),
    profileCounts: profile.score.counts,
  };
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  if (emptyBundledDir) await rm(emptyBundledDir, { recursive: true, force: true });
});

describe('1,000 bank-full customers: /predict against the batch path', () => {
  let online: BinaryPrediction[];

  beforeAll(async () => {
    const { status, body } = await predictCall({ customers });
    expect(status).toBe(200);
    online = body.customers as BinaryPrediction[];
  });

  it('scores every customer in both, with the same model version', async () => {
    const { body } = await predictCall({ customers: customers.slice(0, 1) });
    expect(body).toMatchObject({ model: 'bank-marketing', version: '2026-12-01T0145-2013a3', task: 'binary' });
    expect(batch.scores.size).toBe(CUSTOMERS);
    expect(online).toHaveLength(CUSTOMERS);
  });

  it('gives identical probabilities to the printed precision (6 decimals), in one request of 1,000', () => {
    const differing = online.filter((p, i) => formatProbability(p.probability) !== batch.scores.get(i + 2)!.probability);
    expect(differing).toEqual([]);
  });

  it('gives identical probabilities one customer per request', async () => {
    const differing: number[] = [];
    for (let i = 0; i < CUSTOMERS; i++) {
      const { body } = await predictCall({ customers: [customers[i]] });
      const p = (body.customers[0] as BinaryPrediction).probability;
      if (formatProbability(p) !== batch.scores.get(i + 2)!.probability) differing.push(i);
    }
    expect(differing).toEqual([]);
  });

  it('selects exactly the customers of targets.csv, with the same expected values', () => {
    const selected = online.flatMap((p, i) => (p.selected ? [i + 2] : []));
    expect(selected.length).toBeGreaterThan(100);
    expect(selected).toEqual([...batch.targets.keys()].sort((a, b) => a - b));
    for (const line of selected) expect(online[line - 2]!.expectedValue).toBe(batch.targets.get(line));
  });

  it('puts as many customers in each baseline decile as the run profile counts in each baseline score bin', () => {
    // The online decile is against the bundle's baseline score bins, the bins profile.json counts on
    // (10 bins, the top one is decile 1).
    expect(batch.profileCounts).toHaveLength(10);
    const perDecile = Array.from({ length: 10 }, (_, d) => online.filter((p) => p.decile === d + 1).length);
    expect(perDecile).toEqual([...batch.profileCounts].reverse());
  });

  it('gives the batch run\'s own deciles when the online probabilities are ranked with the batch\'s rule', () => {
    // scores.csv deciles rank a run's customers against each other; the same 1,000 online scores,
    // ranked the same way, land in the same deciles.
    const histogram = new ScoreHistogram();
    for (const p of online) histogram.add(p.probability, 120);
    const differing = online.filter((p, i) => histogram.decileOf(p.probability) !== batch.scores.get(i + 2)!.decile);
    expect(differing).toEqual([]);
    expect(new Set(online.map((p) => histogram.decileOf(p.probability))).size).toBe(10);
  });
});
