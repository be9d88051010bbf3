import { describe, expect, it } from 'vitest';
import { estimatePerformance } from '../../../functions/core/drift/estimatedPerformance.js';
import { joinOutcomes, readOutcomeLabels, realizedPerformance, type LabelledScore } from '../../../functions/core/drift/realizedPerformance.js';
import { ProfileAccumulator } from '../../../functions/core/drift/runProfile.js';
import { ExtractError } from '../../../functions/core/errors.js';
import { applyCalibration } from '../../../functions/core/model/calibration.js';
import { fitPlatt } from '../../../functions/core/training/fitCalibration.js';
import { buildBankBaseline, encodeAndScore, loadBankFixture } from './bankMarketingFixture.js';
import type { DriftBaseline } from '../../../functions/core/drift/driftBaseline.js';

const tinyBaseline: DriftBaseline = {
  schemaVersion: 1,
  id: 'tiny',
  createdAt: '2026-11-23T00:00:00.000Z',
  rows: 10,
  features: [{ name: 'x', kind: 'numeric', edges: [], proportions: [1], mean: 0, std: 0, min: 0, max: 0, missingRate: 0 }],
  featureImportance: {},
};

describe('estimatePerformance (CBPE)', () => {
  it('reads the expected confusion of the selection from calibrated scores', () => {
    const accumulator = new ProfileAccumulator(tinyBaseline);
    const scores = [...new Array<number>(10).fill(0.1), ...new Array<number>(10).fill(0.9)];
    accumulator.score(scores);
    for (const p of scores) if (p > 0.5) accumulator.selected(p);

    const estimate = estimatePerformance(accumulator.toProfile());

    expect(estimate.rows).toBe(20);
    expect(estimate.expectedResponses).toBeCloseTo(10, 9);
    expect(estimate.expectedResponseRate).toBeCloseTo(0.5, 9);
    expect(estimate.selection).toMatchObject({ contacts: 10 });
    expect(estimate.selection!.expectedPrecision).toBeCloseTo(0.9, 9);
    expect(estimate.selection!.expectedRecall).toBeCloseTo(0.9, 9);
    expect(estimate.selection!.expectedLift).toBeCloseTo(1.8, 9);
    // High bin: 9 expected positives, 1 negative; low bin: 1 positive, 9 negatives.
    // AUC = (1·(0 + 9/2) + 9·(9 + 1/2)) / (10 · 10) = 0.9
    expect(estimate.estimatedAuc).toBeCloseTo(0.9, 9);
  });

  it('has no selection and no AUC when the run selected no one and every score is 0', () => {
    const accumulator = new ProfileAccumulator(tinyBaseline);
    accumulator.score([0, 0, 0]);
    const estimate = estimatePerformance(accumulator.toProfile());
    expect(estimate).toEqual({ rows: 3, expectedResponses: 0, expectedResponseRate: 0, selection: null, estimatedAuc: null });
  });
});

/** CBPE's expected AUC with every row its own bin: row i is a positive with weight p_i and a negative with 1 − p_i. */
function rowLevelExpectedAuc(p: readonly number[]): number {
  const sorted = [...p].sort((a, b) => b - a);
  let positivesAbove = 0;
  let pairs = 0;
  let positives = 0;
  for (const q of sorted) {
    pairs += (1 - q) * (positivesAbove + q / 2);
    positivesAbove += q;
    positives += q;
  }
  return pairs / (positives * (p.length - positives));
}

describe('estimated beside realized performance on bank-marketing', () => {
  it('estimates the precision, recall and response rate that the labels later show, when scores are calibrated', async () => {
    const fixture = await loadBankFixture();
    const y = fixture.header.indexOf('y');
    const outcomes = (rows: string[][]) => rows.map((r) => (r[y] === 'yes' ? 1 : 0));
    // Calibrate the stand-in model on the validation part, as training does.
    const platt = fitPlatt(encodeAndScore(fixture, fixture.validation), outcomes(fixture.validation));
    const baseline = buildBankBaseline(fixture);
    const accumulator = new ProfileAccumulator(baseline);
    const p = Array.from(applyCalibration(Float32Array.from(encodeAndScore(fixture, fixture.holdout, accumulator)), platt));
    accumulator.score(p);
    const selected = p.map((q) => q >= 0.3);
    p.forEach((q, i) => selected[i] && accumulator.selected(q));

    const estimate = estimatePerformance(accumulator.toProfile());
    const labels = outcomes(fixture.holdout);
    const realized = realizedPerformance(
      p.map((q, i) => ({ probability: q, selected: selected[i]!, responded: labels[i] === 1, value: 100 })),
      { costPerContact: 5, fixedCost: 0 },
    );

    expect(estimate.selection!.contacts).toBe(realized.selection.contacts);
    expect(estimate.selection!.expectedPrecision).toBeCloseTo(realized.selection.expectedPrecision!, 6);
    expect(Math.abs(estimate.selection!.expectedPrecision - realized.selection.precision!)).toBeLessThan(0.03);
    expect(Math.abs(estimate.selection!.expectedRecall - realized.selection.recall!)).toBeLessThan(0.05);
    expect(Math.abs(estimate.expectedResponseRate - realized.responseRate!)).toBeLessThan(0.01);
    // The histogram's AUC is within 0.002 of CBPE's AUC taken row by row (every customer its own bin).
    expect(Math.abs(estimate.estimatedAuc! - rowLevelExpectedAuc(p))).toBeLessThan(0.002);
    expect(Math.abs(realized.selection.roi! - realized.selection.expectedRoi!)).toBeLessThan(0.3);
  });
});

describe('realizedPerformance', () => {
  it('puts realized profit and ROI beside the expected ones', () => {
    const rows: LabelledScore[] = [
      { probability: 0.8, selected: true, responded: true, value: 100 },
      { probability: 0.6, selected: true, responded: false, value: 50 },
      { probability: 0.3, selected: false, responded: true, value: 100 },
      { probability: 0.1, selected: false, responded: false, value: 100 },
    ];

    const result = realizedPerformance(rows, { costPerContact: 10, fixedCost: 20 });

    expect(result).toMatchObject({ rows: 4, responders: 2, responseRate: 0.5, auc: 0.75 });
    expect(result.expectedResponseRate).toBeCloseTo(0.45, 12);
    const s = result.selection;
    expect([s.contacts, s.responders, s.precision, s.recall, s.cost, s.profit, s.roi]).toEqual([2, 1, 0.5, 0.5, 40, 60, 1.5]);
    // Expected: 0.8·100 + 0.6·50 = 110 gained, 70 profit
    expect(s.expectedProfit).toBeCloseTo(70, 9);
    expect(s.expectedRoi).toBeCloseTo(1.75, 9);
    expect(s.expectedPrecision).toBeCloseTo(0.7, 12);
    expect(s.expectedRecall).toBeCloseTo(1.4 / 1.8, 12);
  });
});

describe('readOutcomeLabels and joinOutcomes', () => {
  it('reads outcomes by id and joins them with the scored customers', () => {
    const labels = readOutcomeLabels(
      ['CustomerID', 'Outcome'],
      [
        ['c1', 'Yes'],
        ['c2', 'no'],
        ['c3', ''],
        ['c9', 'yes'],
        ['c2', 'YES'],
      ],
      { source: 'labels/bank/2026-11.csv', idColumn: 'customerid', outcomeColumn: 'outcome', positiveClass: 'yes' },
    );
    expect([...labels.outcomes]).toEqual([
      ['c1', true],
      ['c2', true],
      ['c9', true],
    ]);
    expect(labels.blank).toBe(1);

    const joined = joinOutcomes(labels.outcomes, [
      { id: 'c1', probability: 0.7, selected: true, value: 10 },
      { id: 'c2', probability: 0.2, selected: false, value: 10 },
      { id: 'c4', probability: 0.5, selected: true, value: 10 },
    ]);
    expect(joined).toEqual({
      rows: [
        { probability: 0.7, selected: true, responded: true, value: 10 },
        { probability: 0.2, selected: false, responded: true, value: 10 },
      ],
      unlabelled: 1,
      unmatchedLabels: 1,
    });
  });

  it('never quotes the first line: in a labels file without its header it is a customer row', () => {
    let error: ExtractError | undefined;
    try {
      readOutcomeLabels(['CANARY-ID-7f3a', 'yes'], [], { source: 'labels/bank/a.csv', idColumn: 'id', outcomeColumn: 'outcome', positiveClass: 'yes' });
    } catch (e) {
      error = e as ExtractError;
    }
    expect(error?.code).toBe('EXTRACT_MISSING_COLUMN');
    expect(JSON.stringify(error)).not.toContain('CANARY');
    expect(error?.message).toBe('labels/bank/a.csv:1 (column "id"): labels need a "id" column; the first line has 2 fields, none named "id" (is the header line missing?)');
  });

  it('names the file and the missing column', () => {
    let error: ExtractError | undefined;
    try {
      readOutcomeLabels(['id', 'y'], [], { source: 'labels/bank/a.csv', idColumn: 'id', outcomeColumn: 'outcome', positiveClass: 'yes' });
    } catch (e) {
      error = e as ExtractError;
    }
    expect(error).toBeInstanceOf(ExtractError);
    expect(error?.code).toBe('EXTRACT_MISSING_COLUMN');
    expect(error?.message).toBe('labels/bank/a.csv:1 (column "outcome"): labels need a "outcome" column; the first line has 2 fields, none named "outcome" (is the header line missing?)');
    expect(error?.location).toEqual({ file: 'labels/bank/a.csv', line: 1, column: 'outcome' });
  });
});
