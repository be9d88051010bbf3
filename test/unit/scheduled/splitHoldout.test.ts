import { describe, expect, it } from 'vitest';
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
});
