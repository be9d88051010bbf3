import { describe, expect, it } from 'vitest';
import { jensenShannonDistance, populationStabilityIndex, PSI_EPSILON, toProportions } from '../../../functions/core/drift/divergence.js';

describe('populationStabilityIndex', () => {
  it('is 0 for identical distributions, whether given as counts or proportions', () => {
    expect(populationStabilityIndex([50, 30, 20], [5, 3, 2])).toBeCloseTo(0, 12);
  });

  it('matches the hand-computed Σ (a − e) ln(a / e)', () => {
    // (0.9 − 0.5) ln 1.8 + (0.1 − 0.5) ln 0.2
    expect(populationStabilityIndex([0.5, 0.5], [0.9, 0.1])).toBeCloseTo(0.4 * Math.log(1.8) - 0.4 * Math.log(0.2), 12);
  });

  it('floors empty bins at PSI_EPSILON instead of going infinite', () => {
    const psi = populationStabilityIndex([1, 0], [0.5, 0.5]);
    const expected = (0.5 - 1) * Math.log(0.5) + (0.5 - PSI_EPSILON) * Math.log(0.5 / PSI_EPSILON);
    expect(psi).toBeCloseTo(expected, 12);
  });

  it('refuses distributions on different bins', () => {
    expect(() => populationStabilityIndex([1, 2], [1, 2, 3])).toThrow('distributions have 2 and 3 bins');
  });
});

describe('jensenShannonDistance', () => {
  it('is 0 for identical and 1 for disjoint distributions', () => {
    expect(jensenShannonDistance([3, 1], [6, 2])).toBeCloseTo(0, 12);
    expect(jensenShannonDistance([1, 0], [0, 1])).toBeCloseTo(1, 12);
  });

  it('matches the hand-computed square root of the base-2 JS divergence', () => {
    // M = [0.75, 0.25]; KL(P‖M) = 0.5 log2(2/3) + 0.5 log2(2); KL(Q‖M) = log2(4/3)
    const divergence = 0.5 * (0.5 * Math.log2(2 / 3) + 0.5 * 1) + 0.5 * Math.log2(4 / 3);
    expect(jensenShannonDistance([0.5, 0.5], [1, 0])).toBeCloseTo(Math.sqrt(divergence), 12);
  });

  it('is symmetric', () => {
    expect(jensenShannonDistance([0.2, 0.3, 0.5], [0.6, 0.3, 0.1])).toBeCloseTo(jensenShannonDistance([0.6, 0.3, 0.1], [0.2, 0.3, 0.5]), 12);
  });
});

describe('toProportions', () => {
  it('normalises counts and leaves an all-zero histogram at zero', () => {
    expect(toProportions([1, 3])).toEqual([0.25, 0.75]);
    expect(toProportions([0, 0])).toEqual([0, 0]);
  });
});
