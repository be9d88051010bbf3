import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, permutation, withSeededMathRandom } from '../../../functions/core/training/seededRandom.js';
import { complementRows, stratifiedSplit } from '../../../functions/core/training/stratifiedSplit.js';

describe('stratifiedSplit', () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1 : i % 3 === 0 ? 2 : 0));

  it('holds out the same share of every class, disjoint and complete', () => {
    const { train, holdout } = stratifiedSplit(labels, 0.2, 5);
    expect(train.length + holdout.length).toBe(1000);
    expect(new Set([...train, ...holdout]).size).toBe(1000);
    for (const k of [0, 1, 2]) {
      const total = labels.filter((l) => l === k).length;
      const held = [...holdout].filter((r) => labels[r] === k).length;
      expect(held).toBe(Math.round(total * 0.2));
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(stratifiedSplit(labels, 0.2, 5).holdout).toEqual(stratifiedSplit(labels, 0.2, 5).holdout);
    expect(stratifiedSplit(labels, 0.2, 5).holdout).not.toEqual(stratifiedSplit(labels, 0.2, 6).holdout);
  });

  it('splits only the given rows, and keeps one row of a two-row class on each side', () => {
    const rows = Int32Array.of(0, 1, 2, 3);
    const { train, holdout } = stratifiedSplit(Int32Array.of(0, 0, 1, 1, 1), 0.1, 1, rows);
    expect(holdout.length).toBe(2);
    expect(train.length).toBe(2);
    expect([...train, ...holdout].sort()).toEqual([0, 1, 2, 3]);
  });

  it('refuses a fraction outside (0, 1)', () => {
    expect(() => stratifiedSplit(labels, 1, 1)).toThrow('split fraction must be in (0, 1), got 1');
  });

  it('complementRows lists the rows not excluded and refuses out-of-range ones', () => {
    expect([...complementRows(5, [1, 3])]).toEqual([0, 2, 4]);
    expect(() => complementRows(3, [3])).toThrow('row index 3 is outside 0…2');
  });
});

describe('seeded randomness', () => {
  it('repeats a stream for a seed; derived seeds give different streams', () => {
    const a = createRng(42);
    const b = createRng(42);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    expect(first.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(deriveSeed(42, 'split')).not.toBe(deriveSeed(42, 'search'));
    expect([...permutation(6, createRng(1))].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('seeds Math.random inside the callback and restores it afterwards', async () => {
    const original = Math.random;
    const inside = await withSeededMathRandom(7, () => [Math.random(), Math.random()]);
    const again = await withSeededMathRandom(7, () => [Math.random(), Math.random()]);
    expect(inside).toEqual(again);
    expect(Math.random).toBe(original);
  });

  it('refuses nested seeded runs, which would share one stream', async () => {
    await expect(withSeededMathRandom(1, () => withSeededMathRandom(2, () => 0))).rejects.toThrow(
      'withSeededMathRandom: training runs cannot be nested or run concurrently in one process',
    );
  });
});
