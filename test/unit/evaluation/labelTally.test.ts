import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LabelTally, WRITTEN_SCALE } from '../../../functions/core/evaluation/labelTally.js';
import { averagePrecision, averagePrecisionOfCounts, rocAuc, rocAucOfCounts } from '../../../functions/core/evaluation/metrics.js';

/** Rows as (written micro-units, positive) → counts per distinct score, ascending. */
function countsOf(rows: ReadonlyArray<readonly [number, boolean]>): { positives: number[]; negatives: number[] } {
  const byScore = new Map<number, [number, number]>();
  for (const [micro, yes] of rows) {
    const entry = byScore.get(micro) ?? [0, 0];
    entry[yes ? 1 : 0]++;
    byScore.set(micro, entry);
  }
  const scores = [...byScore.keys()].sort((a, b) => a - b);
  return { negatives: scores.map((s) => byScore.get(s)![0]), positives: scores.map((s) => byScore.get(s)![1]) };
}

const NO_COSTS = { costPerContact: 1, fixedCost: 0 };
const decileOne = new Uint8Array(100).fill(1);

describe('metrics from counts per distinct score', () => {
  it('give rocAuc and averagePrecision of the rows, ties included (property)', () => {
    // Few distinct scores, so most rows tie.
    const row = fc.tuple(fc.integer({ min: 0, max: 20 }).map((k) => k * 50_000), fc.boolean());
    fc.assert(
      fc.property(fc.array(row, { minLength: 2, maxLength: 200 }), (rows) => {
        const scores = rows.map(([m]) => m / WRITTEN_SCALE);
        const labels = rows.map(([, y]) => y);
        const { positives, negatives } = countsOf(rows);
        const auc = rocAuc(scores, labels);
        if (Number.isNaN(auc)) expect(rocAucOfCounts(positives, negatives)).toBeNaN();
        else expect(rocAucOfCounts(positives, negatives)).toBeCloseTo(auc, 12);
        const ap = averagePrecision(scores, labels);
        if (Number.isNaN(ap)) expect(averagePrecisionOfCounts(positives, negatives)).toBeNaN();
        else expect(averagePrecisionOfCounts(positives, negatives)).toBeCloseTo(ap, 12);
      }),
      { numRuns: 300 },
    );
  });

  it('count ties half: one positive and one negative at the same score give 0.5', () => {
    expect(rocAucOfCounts([1], [1])).toBe(0.5);
    expect(rocAucOfCounts([0, 1], [1, 0])).toBe(1);
  });
});

describe('LabelTally', () => {
  const binaryRows: Array<[number, boolean, number]> = [
    [900_000, true, 90],
    [900_000, false, 90],
    [400_000, true, 40],
    [100_000, false, 10],
    [50_000, false, 5],
  ];
  const tallyOf = (rows: typeof binaryRows) => {
    const tally = new LabelTally('y', 'binary', 2, 100);
    for (const [micro, yes, bin] of rows) tally.addBinary(micro, yes, bin, 100);
    return tally;
  };

  it('evaluates a binary tally by hand: AUC, accuracy, everyone realized', () => {
    const tally = tallyOf(binaryRows);
    tally.unlabelled();
    const e = tally.evaluate(decileOne, NO_COSTS, null)!;
    // Positives 0.9, 0.4; negatives 0.9, 0.1, 0.05: wins 0.5 + 1 + 1 + 0 + 1 + 1 = 4.5 of 6.
    expect(e).toMatchObject({ rows: 5, unlabelled: 1, positives: 2, rocAuc: 4.5 / 6, realized: null });
    // At p ≥ 0.5: the 0.9 positive right, the 0.9 negative wrong, 0.4 positive wrong, the rest right.
    expect(e.accuracy).toBeCloseTo(3 / 5, 12);
    expect(e.logLoss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.1) + Math.log(0.4) + Math.log(0.9) + Math.log(0.95)) / 5, 12);
    const realized = tallyOf(binaryRows).evaluate(decileOne, NO_COSTS, { selection: { contacts: 1, responders: 1, gainMicros: 100_000_000n }, best: { contacts: 0, responders: 0, gainMicros: 0n } })!.realized!;
    expect(realized.everyone).toEqual({ contacted: 5, responders: 2, cost: 5, gain: 200, profit: 195, roi: 39 });
    expect(realized.selection).toEqual({ contacted: 1, responders: 1, cost: 1, gain: 100, profit: 99, roi: 99 });
    expect(realized.best).toEqual({ contacted: 0, responders: 0, cost: 0, gain: 0, profit: 0, roi: null });
  });

  it('merged from parts through JSON, in any order, evaluates exactly as one tally', () => {
    const whole = tallyOf(binaryRows).evaluate(decileOne, NO_COSTS, null);
    const a = LabelTally.fromJSON(JSON.parse(JSON.stringify(tallyOf(binaryRows.slice(0, 2)).toJSON())));
    const b = LabelTally.fromJSON(JSON.parse(JSON.stringify(tallyOf(binaryRows.slice(2)).toJSON())));
    expect(b.merge(a).evaluate(decileOne, NO_COSTS, null)).toEqual(whole);
  });

  it('a multiclass tally: macro one-vs-rest AUC and top-class accuracy', () => {
    const tally = new LabelTally('segment', 'multiclass', 3, 100);
    // Row probabilities (micro-units) and labels; the top class is right for rows 1 and 2.
    tally.addMulticlass([700_000, 200_000, 100_000], 0, 0);
    tally.addMulticlass([100_000, 800_000, 100_000], 1, 1);
    tally.addMulticlass([300_000, 600_000, 100_000], 2, 1);
    const e = tally.evaluate(decileOne, NO_COSTS, null)!;
    // Class 0: positive 0.7 beats 0.1 and 0.3 → 1; class 1: 0.8 beats 0.2, 0.6 → 1; class 2: 0.1 ties both → 0.5.
    expect(e).toMatchObject({ task: 'multiclass', rows: 3, prAuc: null, liftByDecile: null, realized: null });
    expect(e.rocAuc).toBeCloseTo(2.5 / 3, 12);
    expect(e.accuracy).toBeCloseTo(2 / 3, 12);
    expect(e.logLoss).toBeCloseTo(-(Math.log(0.7) + Math.log(0.8) + Math.log(0.1)) / 3, 12);
  });

  it('refuses JSON that is not a tally, naming the key', () => {
    expect(() => LabelTally.fromJSON({ ...tallyOf(binaryRows).toJSON(), labelled: 9 }, 'part 2')).toThrow(/part 2.*labelled/);
  });
});
