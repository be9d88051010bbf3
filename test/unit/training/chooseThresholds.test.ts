import { describe, expect, it } from 'vitest';
import { campaignEconomicsSchema } from '../../../functions/core/economics/campaignEconomics.js';
import { chooseThresholds } from '../../../functions/core/training/chooseThresholds.js';

const economics = (input: Record<string, unknown>) => campaignEconomicsSchema.parse(input);

describe('chooseThresholds', () => {
  // Cost 10, value 50: contacting a row earns 50·p − 10 in expectation, so rows with p > 0.2 pay off.
  const p = [0.9, 0.6, 0.3, 0.25, 0.15, 0.1];
  const y = [1, 0, 1, 0, 0, 1];

  it('picks the threshold with the highest expected profit: every row above the break-even p = cost/value', () => {
    const choice = chooseThresholds(p, y, economics({ costPerContact: 10, valuePerResponse: 50 }));
    expect(choice.breakEven).toBe(0.2);
    expect(choice.maxExpectedProfit).toMatchObject({ threshold: 0.25, contacts: 4 });
    // 50·(0.9 + 0.6 + 0.3 + 0.25) − 4·10
    expect(choice.maxExpectedProfit.expectedProfit).toBeCloseTo(50 * 2.05 - 40, 9);
    // Realized at that threshold: 2 responders → 100 − 40.
    expect(choice.maxExpectedProfit.realizedProfit).toBeCloseTo(60, 9);
  });

  it('saveRate 0.5 halves every gain: break-even p = 10 / 25 = 0.4, the rows at 0.9 and 0.6', () => {
    const choice = chooseThresholds(p, y, economics({ costPerContact: 10, valuePerResponse: 50, saveRate: 0.5 }));
    expect(choice.breakEven).toBe(0.4);
    expect(choice.maxExpectedProfit).toMatchObject({ threshold: 0.6, contacts: 2 });
    expect(choice.maxExpectedProfit.expectedProfit).toBeCloseTo(25 * 1.5 - 20, 9);
    // Realized: one responder (the 0.9 row) saved at 25 → 25 − 20.
    expect(choice.maxExpectedProfit.realizedProfit).toBeCloseTo(5, 9);
  });

  it('reports the realized-profit and F1 optima separately', () => {
    const choice = chooseThresholds(p, y, economics({ costPerContact: 10, valuePerResponse: 50 }));
    // Realized: top 1 → 40; top 3 → 100 − 30 = 70; all 6 → 150 − 60 = 90.
    expect(choice.maxRealizedProfit).toMatchObject({ threshold: 0.1, contacts: 6, realizedProfit: 90 });
    // F1: top 1 → 0.5; top 3 → 2/3 precision, 2/3 recall → 0.667; all 6 → 0.667 as well; first wins.
    expect(choice.maxF1.threshold).toBe(0.3);
    expect(choice.maxF1.f1).toBeCloseTo(2 / 3, 12);
  });

  it('subtracts the fixed cost and contacts nobody when no campaign pays for itself', () => {
    const choice = chooseThresholds(p, y, economics({ costPerContact: 10, valuePerResponse: 50, fixedCost: 1000 }));
    expect(choice.maxExpectedProfit).toEqual({ threshold: 1, contacts: 0, expectedProfit: 0, realizedProfit: 0, f1: 0 });
  });

  it('uses a value per row when the economics name a value column', () => {
    const choice = chooseThresholds([0.5, 0.5], [1, 0], economics({ costPerContact: 10, valuePerResponse: { column: 'order_value' } }), [100, 5]);
    // Tied scores are one threshold: 0.5·100 + 0.5·5 − 20 = 32.5.
    expect(choice.maxExpectedProfit.expectedProfit).toBeCloseTo(32.5, 9);
    expect(choice.breakEven).toBeUndefined();
    expect(() => chooseThresholds([0.5], [1], economics({ costPerContact: 1, valuePerResponse: { column: 'v' } }))).toThrow(
      'economics value per response is a column: pass one value per held-out row',
    );
  });
});
