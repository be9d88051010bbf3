import { describe, expect, it } from 'vitest';
import { parseFeatureSpec } from '../../../functions/core/spec/featureSpec.js';
import { timeOrderOf } from '../../../functions/core/training/timeOrder.js';
import { splitHoldout } from '../../../functions/retrain/labelledData.js';

describe('splitHoldout', () => {
  it('holds out about the given share, deterministically, and loses no row', () => {
    const table = { source: 't', header: ['id'], records: Array.from({ length: 10_000 }, (_, i) => [String(i)]) };
    const a = splitHoldout(table, 0.2);
    const b = splitHoldout(table, 0.2);
    expect(a.holdout.records).toEqual(b.holdout.records);
    expect(a.train.records.length + a.holdout.records.length).toBe(10_000);
    expect(a.holdout.records.length).toBeGreaterThan(1900);
    expect(a.holdout.records.length).toBeLessThan(2100);
    const ids = new Set([...a.train.records, ...a.holdout.records].map((r) => r[0]));
    expect(ids.size).toBe(10_000);
  });

  it('holds out the latest rows when the training spec orders them in time, as train does', () => {
    const spec = parseFeatureSpec({ columns: [{ name: 'id', role: 'id' }, { name: 'month', role: 'feature' }] });
    // Months out of file order.
    const months = [3, 12, 1, 11, 5, 12, 2, 4, 11, 6];
    const table = { source: 't', header: ['id', 'month'], records: months.map((m, i) => [String(i), String(m)]) };
    const all = Int32Array.from(table.records.keys());

    const byMonth = splitHoldout(table, 0.3, timeOrderOf(table, spec, { order: 'random', timeColumn: 'month' }, all));
    // 30 % of 10 is 3 rows, but that cut would split the 11s: the cuts before the 11s and before the
    // 12s are as near, and the later one (the smaller holdout) wins.
    expect(byMonth.holdout.records.map((r) => Number(r[1]))).toEqual([12, 12]);
    expect(byMonth.train.records.map((r) => Number(r[1]))).toEqual([1, 2, 3, 4, 5, 6, 11, 11]);

    const byFile = splitHoldout(table, 0.3, timeOrderOf(table, spec, { order: 'file' }, all));
    expect(byFile.holdout.records.map((r) => r[0])).toEqual(['7', '8', '9']);
  });
});
