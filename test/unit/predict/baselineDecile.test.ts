import { describe, expect, it } from 'vitest';
import type { DriftBaseline } from '../../../functions/core/drift/driftBaseline.js';
import { ScoreHistogram } from '../../../functions/core/economics/scoreHistogram.js';
import { baselineDecileOf } from '../../../functions/core/predict/baselineDecile.js';

function baselineWith(score: DriftBaseline['score']): DriftBaseline {
  return { schemaVersion: 1, id: 'test', createdAt: '2026-01-01T00:00:00Z', rows: 10, features: [], score, featureImportance: {} };
}

describe('baselineDecileOf', () => {
  it('ranks a score against the baseline bins, right-closed, decile 1 at the top', () => {
    // Prepare: nine edges at 0.1 … 0.9, a tenth of 1,000 validation scores in each bin.
    const decileOf = baselineDecileOf(baselineWith({ edges: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], proportions: new Array<number>(10).fill(0.1), mean: 0.5, rows: 1000 }))!;
    // Act / Assess
    expect([0.95, 0.9, 0.85, 0.5, 0.1, 0.05, 0, 1].map(decileOf)).toEqual([1, 2, 2, 6, 10, 10, 10, 1]);
  });

  it('applies the batch rule to unequal bins: a bin takes the decile of its first customer, as ScoreHistogram does', () => {
    // Two bins of 5 customers: the top one is decile 1, the lower one starts at the 6th best (decile 6).
    const decileOf = baselineDecileOf(baselineWith({ edges: [0.5], proportions: [0.5, 0.5], mean: 0.5, rows: 10 }))!;
    expect([decileOf(0.3), decileOf(0.8), decileOf(0.5), decileOf(0.500001)]).toEqual([6, 1, 6, 1]);
    // A batch run of the same shape (five customers in each of two bins) gives the same two deciles.
    const histogram = new ScoreHistogram();
    for (const p of [0.3, 0.3, 0.3, 0.3, 0.3, 0.8, 0.8, 0.8, 0.8, 0.8]) histogram.add(p, 0);
    expect([histogram.decileOf(0.3), histogram.decileOf(0.8)]).toEqual([6, 1]);
  });

  it('gives no decile for a bundle without a baseline score distribution', () => {
    expect(baselineDecileOf(null)).toBeNull();
    expect(baselineDecileOf(baselineWith(undefined))).toBeNull();
  });
});
