import { describe, expect, it } from 'vitest';
import { StratifiedSample } from '../../../functions/core/retrain/stratifiedSample.js';

/** 10,000 rows, 7 % of them responders, spread through the stream. */
const rows = Array.from({ length: 10_000 }, (_, i) => ({ n: i, label: i % 100 < 7 ? 'yes' : 'no' }));

function sampleOf(maxRows: number, seed: number, input = rows) {
  const sample = new StratifiedSample<{ n: number; label: string }>({ maxRows, seed });
  for (const row of input) sample.offer(row.label, row);
  return { ...sample.finish(), seen: sample.seen };
}

describe('StratifiedSample', () => {
  it('keeps at most maxRows rows, each class with its share (7 % of 1,000 = 70 responders)', () => {
    const { rows: kept, byClass, seen } = sampleOf(1000, 1);
    expect(seen).toBe(10_000);
    expect(kept).toHaveLength(1000);
    expect(kept.filter((r) => r.label === 'yes')).toHaveLength(70);
    expect(byClass).toEqual({ no: { seen: 9300, kept: 930 }, yes: { seen: 700, kept: 70 } });
    expect(new Set(kept.map((r) => r.n)).size).toBe(1000);
  });

  it('rounds shares by largest remainder so the total is exact (3 classes, 10 rows of 3 + 3 + 4 → 2 + 2 + 3 of 7)', () => {
    const input = [...'aaabbbcccc'].map((label, n) => ({ n, label }));
    const { rows: kept, byClass } = sampleOf(7, 1, input);
    expect(kept).toHaveLength(7);
    expect(byClass).toEqual({ a: { seen: 3, kept: 2 }, b: { seen: 3, kept: 2 }, c: { seen: 4, kept: 3 } });
  });

  it('is deterministic for a seed, differs for another, and keeps the order rows were offered in', () => {
    const first = sampleOf(500, 42).rows.map((r) => r.n);
    expect(sampleOf(500, 42).rows.map((r) => r.n)).toEqual(first);
    expect(sampleOf(500, 43).rows.map((r) => r.n)).not.toEqual(first);
    expect([...first].sort((a, b) => a - b)).toEqual(first);
  });

  it('keeps every row when fewer than maxRows arrive', () => {
    const { rows: kept } = sampleOf(20_000, 1);
    expect(kept.map((r) => r.n)).toEqual(rows.map((r) => r.n));
  });

  it('samples uniformly within a class: early and late rows are kept alike', () => {
    const kept = sampleOf(2000, 7).rows.filter((r) => r.label === 'no');
    const early = kept.filter((r) => r.n < 5000).length;
    // 1,860 kept of 9,300: half from each half of the stream, give or take 4.5 standard deviations (one is ≈ 19).
    expect(Math.abs(early - kept.length / 2)).toBeLessThan(86);
  });

  it('refuses a size bound that is not a positive integer', () => {
    expect(() => new StratifiedSample({ maxRows: 0, seed: 1 })).toThrow('maxRows must be a positive integer, not 0');
  });
});
