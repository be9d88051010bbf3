import { describe, expect, it } from 'vitest';
import { ExtractError, TrainingError } from '../../../functions/core/errors.js';
import { parseFeatureSpec } from '../../../functions/core/spec/featureSpec.js';
import { labelRecords } from '../../../functions/core/training/labelRecords.js';
import { splitRows } from '../../../functions/core/training/splitRows.js';
import { stratifiedFolds } from '../../../functions/core/training/stratifiedSplit.js';
import { latestCut, timeOrderOf } from '../../../functions/core/training/timeOrder.js';
import type { TrainingTable } from '../../../functions/core/training/trainingTable.js';

const spec = parseFeatureSpec({
  columns: [
    { name: 'x', role: 'feature', type: 'numeric' },
    { name: 'y', role: 'target', type: 'categorical' },
  ],
});
/** 20 records, alternating classes; `when` runs backwards (record 0 is the latest). */
const table: TrainingTable = {
  source: 'history.csv',
  header: ['x', 'when', 'y'],
  records: Array.from({ length: 20 }, (_, i) => [String(i), `2026-01-${String(20 - i).padStart(2, '0')}`, i % 2 ? 'yes' : 'no']),
};
const labels = labelRecords(table, spec);
const sorted = (rows: ArrayLike<number>) => [...Array.from(rows)].sort((a, b) => a - b);

describe('latestCut', () => {
  it('cuts at n × (1 − fraction) when the times there differ', () => {
    expect(latestCut(Float64Array.of(1, 2, 3, 4, 5), 0.4)).toBe(3);
  });

  it('never splits one time: moves the cut to the nearest change of time, the later one on a tie', () => {
    // Nominal cut 3 falls inside the 2s (positions 1–3): the nearest valid cuts are 1 and 4; 4 is nearer.
    expect(latestCut(Float64Array.of(1, 2, 2, 2, 3), 0.4)).toBe(4);
    // Nominal cut 2 inside [1, 1, 1, 1]: cuts 0 and 4 — only 4 leaves both sides non-empty.
    expect(latestCut(Float64Array.of(1, 1, 1, 1, 2, 2), 0.67)).toBe(4);
    // Equidistant changes at 1 and 3 from nominal 2: the later cut (the smaller latest part).
    expect(latestCut(Float64Array.of(1, 2, 2, 3), 0.5)).toBe(3);
  });

  it('refuses rows that all share one time', () => {
    expect(() => latestCut(Float64Array.of(7, 7, 7), 0.3)).toThrow(TrainingError);
  });
});

describe('splitRows in time order', () => {
  it('file order: the test holdout is the latest 20 %, validation the latest fold, plus an in-period holdout as large as the test', () => {
    const time = timeOrderOf(table, spec, { order: 'file' }, labels.labelled)!;
    const splits = splitRows(table, labels, { seed: 1, testFraction: 0.2, validationFraction: 0.25, folds: 4, time });
    expect(sorted(splits.test)).toEqual([16, 17, 18, 19]);
    expect(splits.testSplit).toBe('latest 0.2 by file order (row 17 – row 20)');
    expect(splits.inPeriod).toHaveLength(4);
    for (const r of splits.inPeriod!) expect(r).toBeLessThan(16);
    // The 12 fit rows in 4 contiguous blocks of 3; the latest block is the validation.
    expect(splits.fit).toHaveLength(12);
    expect(splits.folds.map((f) => f.length)).toEqual([3, 3, 3, 3]);
    expect(splits.validation).toEqual(splits.folds[3]);
    expect(Math.min(...splits.validation)).toBeGreaterThan(Math.max(...splits.folds[2]!));
    const all = [...splits.test, ...splits.inPeriod!, ...splits.fit];
    expect(new Set(all).size).toBe(20);
  });

  it('a time column orders the rows by its value, not by file position', () => {
    const time = timeOrderOf(table, spec, { order: 'random', timeColumn: 'when' }, labels.labelled)!;
    const splits = splitRows(table, labels, { seed: 1, testFraction: 0.2, validationFraction: 0.25, folds: 1, time });
    // `when` runs backwards: records 0–3 are the latest days (2026-01-17 … 2026-01-20).
    expect(sorted(splits.test)).toEqual([0, 1, 2, 3]);
    expect(splits.testSplit).toBe('latest 0.2 by "when" (2026-01-17 – 2026-01-20)');
    // One split: validation = the latest 25 % of the 12 rows left (3 rows), later than every train row.
    expect(splits.validation).toHaveLength(3);
    expect(Math.max(...splits.validation)).toBeLessThan(Math.min(...splits.train));
  });

  it('names the file, data row and column of a time it cannot read, never the value', () => {
    const bad = { ...table, records: table.records.map((r, i) => (i === 5 ? [r[0]!, 'soon', r[2]!] : r)) };
    let caught: unknown;
    try {
      timeOrderOf(bad, spec, { order: 'random', timeColumn: 'when' }, labelRecords(bad, spec).labelled);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ExtractError);
    expect((caught as Error).message).toBe('history.csv (column "when"): the time column "when" is not a number or a date in data row 6');
    expect((caught as Error).message).not.toContain('soon');
  });

  it('without an order the rows are split at random, as before', () => {
    expect(timeOrderOf(table, spec, { order: 'random' }, labels.labelled)).toBeUndefined();
  });
});

describe('stratifiedFolds', () => {
  it('deals each class over the folds: every fold has the class balance, sizes within one', () => {
    const classes = Int32Array.from({ length: 103 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const folds = stratifiedFolds(classes, 5, 3);
    expect(folds.map((f) => f.length).sort()).toEqual([20, 20, 21, 21, 21]);
    for (const fold of folds) expect([5, 6]).toContain([...fold].filter((r) => classes[r] === 1).length);
    expect(new Set(folds.flatMap((f) => [...f])).size).toBe(103);
    expect(stratifiedFolds(classes, 5, 3)).toEqual(folds);
  });
});
