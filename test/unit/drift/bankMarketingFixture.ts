import { readFileSync } from 'node:fs';
import { dataset } from '../../helpers/datasets.js';
import { parse } from 'csv-parse/sync';
import { parseFeatureSpec, type FittedSpec } from '../../../functions/core/spec/featureSpec.js';
import { fitSpec } from '../../../functions/core/spec/fitSpec.js';
import { compileEncoder, type EncodeObserver } from '../../../functions/core/spec/rowEncoder.js';
import { BaselineBuilder } from '../../../functions/core/drift/baselineBuilder.js';
import type { DriftBaseline } from '../../../functions/core/drift/driftBaseline.js';
import { ProfileAccumulator, type RunProfile } from '../../../functions/core/drift/runProfile.js';
import { mulberry32 } from '../../../functions/core/training/seededRandom.js';

/**
 * The real UCI bank-marketing extract (45,211 rows), split deterministically into training,
 * validation and holdout parts, with a fitted feature spec and a fixed, hand-weighted logistic
 * scorer standing in for a trained model (its probabilities are a known function of the encoded row).
 */

export const BANK_FILE = dataset('bank-marketing/bank-full.csv');

export type Row = string[];

export interface BankFixture {
  readonly header: string[];
  readonly train: Row[];
  readonly validation: Row[];
  readonly holdout: Row[];
  readonly fitted: FittedSpec;
}

export const bankSpec = parseFeatureSpec({
  file: { header: true, delimiter: ';' },
  positiveClass: 'yes',
  columns: [
    { name: 'age', role: 'feature', type: 'numeric' },
    { name: 'job', role: 'feature', type: 'categorical' },
    { name: 'marital', role: 'feature', type: 'categorical' },
    { name: 'education', role: 'feature', type: 'categorical' },
    { name: 'default', role: 'feature', type: 'boolean' },
    { name: 'balance', role: 'feature', type: 'numeric' },
    { name: 'housing', role: 'feature', type: 'boolean' },
    { name: 'loan', role: 'feature', type: 'boolean' },
    { name: 'contact', role: 'feature', type: 'categorical' },
    { name: 'day', role: 'feature', type: 'numeric' },
    { name: 'month', role: 'feature', type: 'categorical' },
    { name: 'duration', role: 'feature', type: 'numeric' },
    { name: 'campaign', role: 'feature', type: 'numeric' },
    { name: 'pdays', role: 'feature', type: 'numeric' },
    { name: 'previous', role: 'feature', type: 'numeric' },
    { name: 'poutcome', role: 'feature', type: 'categorical' },
    { name: 'y', role: 'target', type: 'categorical' },
  ],
});

let cached: Promise<BankFixture> | undefined;

/** Loads, shuffles (seed 7) and splits 60 / 20 / 20; fits the spec on the training part. Cached per test file. */
export function loadBankFixture(): Promise<BankFixture> {
  cached ??= (async () => {
    const [header, ...rows] = parse(readFileSync(BANK_FILE), { delimiter: ';' });
    // Seeded, so the split is the same on every machine.
    const random = mulberry32(7);
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    const trainEnd = Math.floor(rows.length * 0.6);
    const validationEnd = Math.floor(rows.length * 0.8);
    const train = rows.slice(0, trainEnd);
    const fitted = await fitSpec(bankSpec, { header: header!, records: train }, { now: new Date('2026-11-23T00:00:00Z') });
    return { header: header!, train, validation: rows.slice(trainEnd, validationEnd), holdout: rows.slice(validationEnd), fitted };
  })();
  return cached;
}

/** Weights of the stand-in model on encoded (standardised / one-hot) slots. */
const WEIGHTS: Record<string, number> = {
  __bias: -2.6,
  age: 0.6,
  balance: 0.6,
  duration: 1.1,
  'poutcome=success': 2.2,
  'contact=unknown': -1.0,
  housing: -0.5,
};

/** P(yes) of the stand-in model for one encoded row. */
export function standInScore(fitted: FittedSpec, encoded: Float32Array): number {
  let z = WEIGHTS.__bias!;
  fitted.featureNames.forEach((name, slot) => {
    const w = WEIGHTS[name];
    if (w !== undefined) z += w * encoded[slot]!;
  });
  return 1 / (1 + Math.exp(-z));
}

/**
 * Encodes rows the way the scoring engine does, reporting raw values to `observer`, and returns
 * the stand-in model's probability per encoded row.
 */
export function encodeAndScore(fixture: Pick<BankFixture, 'header' | 'fitted'>, rows: readonly Row[], observer?: EncodeObserver): number[] {
  const encoder = compileEncoder(fixture.fitted, fixture.header, 'bank-full.csv', observer ? { observer } : {});
  const out = new Float32Array(encoder.width);
  const scores: number[] = [];
  for (const row of rows) {
    const issue = encoder.encode(row, out, 0);
    if (issue) throw new Error(`fixture row did not encode: ${issue.detail}`);
    scores.push(standInScore(fixture.fitted, out));
  }
  return scores;
}

/** The shifted copy from the issue: age + 10, balance × 3, and every 10th customer in a job category training never saw. */
export function shiftRows(header: readonly string[], rows: readonly Row[]): Row[] {
  const age = header.indexOf('age');
  const balance = header.indexOf('balance');
  const job = header.indexOf('job');
  return rows.map((row, i) => {
    const copy = [...row];
    copy[age] = String(Number(row[age]) + 10);
    copy[balance] = String(Number(row[balance]) * 3);
    if (i % 10 === 0) copy[job] = 'influencer';
    return copy;
  });
}

/**
 * The drift baseline a training run would store: features from the training part, scores of the
 * validation part. The default importance puts duration, poutcome and month on top (as a model on
 * this data ranks them); the shifted features (age, balance, job) rank lower.
 */
export function buildBankBaseline(
  fixture: BankFixture,
  featureImportance: Record<string, number> = { duration: 0.5, poutcome: 0.3, month: 0.2, contact: 0.1, age: 0.05, balance: 0.04, job: 0.03 },
): DriftBaseline {
  const builder = new BaselineBuilder(fixture.fitted);
  encodeAndScore(fixture, fixture.train, builder);
  builder.score(encodeAndScore(fixture, fixture.validation));
  return builder.build({ featureImportance, createdAt: '2026-11-23T00:00:00.000Z' });
}

/** The profile a scoring run of `rows` would write; `select` picks the target list (none by default). */
export function profileRows(
  fixture: BankFixture,
  baseline: DriftBaseline,
  rows: readonly Row[],
  runId: string,
  select: (probability: number) => boolean = () => false,
): RunProfile {
  const accumulator = new ProfileAccumulator(baseline, { model: 'bank-marketing', modelVersion: 'v1', runId });
  const scores = encodeAndScore(fixture, rows, accumulator);
  accumulator.score(scores);
  for (const p of scores) if (select(p)) accumulator.selected(p);
  return accumulator.toProfile();
}
