import { describe, expect, it } from 'vitest';
import { resolveEconomics, type CampaignEconomicsInput } from '../../../functions/core/economics/campaignEconomics.js';
import { CampaignAccumulator } from '../../../functions/core/economics/campaignAccumulator.js';
import { campaignFigures } from '../../../functions/core/economics/campaignRoi.js';

// Ten customers, v = 100, cost 10 per contact, fixed cost 50.
// Expected value p·100 − 10: 80, 70, 60, 50, 40, 30, 20, 10, 0, −5.
const P = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];

function roi(overrides: Partial<CampaignEconomicsInput> = {}) {
  const acc = new CampaignAccumulator(resolveEconomics({ costPerContact: 10, valuePerResponse: 100, fixedCost: 50, ...overrides }));
  [...P].reverse().forEach((p, i) => acc.offer(`C${10 - i}`, 11 - i, p, 100));
  return acc.finish().roi;
}

// Hand-computed reference campaigns (independent of the policy):
// everyone: 10 contacts, Σp = 4.55, gain 455, cost 50 + 100 = 150, profit 305.
const EVERYONE = { contacts: 10, expectedResponders: 4.55, responseRate: 0.455, cost: 150, gain: 455, profit: 305 };
// the 8 profitable customers: Σp = 4.4, gain 440, cost 50 + 80 = 130, profit 310.
const PROFITABLE = { contacts: 8, expectedResponders: 4.4, responseRate: 0.55, cost: 130, gain: 440, profit: 310 };
const NO_ONE = { contacts: 0, expectedResponders: 0, responseRate: null, cost: 0, gain: 0, profit: 0, roi: null };

describe('campaignRoi (hand-calculated, 10 customers)', () => {
  it('max-expected-profit without budget: the selection is the best one', () => {
    const r = roi();
    expect(r).toMatchObject({ currency: 'EUR', policy: 'max-expected-profit', budgetContacts: null, scored: 10 });
    expect(r.selection).toMatchObject(PROFITABLE);
    expect(r.selection.roi).toBeCloseTo(310 / 130, 12); // 2.385
    expect(r.best).toEqual(r.selection);
    expect(r.everyone).toMatchObject(EVERYONE);
    expect(r.everyone.roi).toBeCloseTo(305 / 150, 12);
    expect(r.noOne).toEqual(NO_ONE);
  });

  it('maxContacts 3: the three best, Σp = 2.4, cost 80, profit 160, ROI 2', () => {
    const r = roi({ budget: { maxContacts: 3 } });
    expect(r.budgetContacts).toBe(3);
    expect(r.selection).toEqual({ contacts: 3, expectedResponders: 2.4, responseRate: 0.8, cost: 80, gain: 240, profit: 160, roi: 2 });
    // Best is the top of the profit curve with no budget: the 8 profitable, profit 310 > 160.
    expect(r.best).toMatchObject(PROFITABLE);
    expect(r.everyone).toMatchObject(EVERYONE); // contacting everyone ignores the budget
  });

  it('maxSpend 100: (100 − 50) / 10 = 5 contacts, Σp = 3.5, cost 100, profit 250, ROI 2.5', () => {
    const r = roi({ budget: { maxSpend: 100 } });
    expect(r.budgetContacts).toBe(5);
    expect(r.selection).toEqual({ contacts: 5, expectedResponders: 3.5, responseRate: 0.7, cost: 100, gain: 350, profit: 250, roi: 2.5 });
  });

  it('a spend below the fixed cost contacts no one', () => {
    const r = roi({ budget: { maxSpend: 40 } });
    expect(r.budgetContacts).toBe(0);
    expect(r.selection).toEqual(NO_ONE);
    expect(r.best).toMatchObject(PROFITABLE); // what the extract would allow with the money
  });

  it('top-k 4: Σp = 3.0, cost 90, profit 210; best is still the 8 profitable', () => {
    const r = roi({ policy: 'top-k', k: 4 });
    expect(r.selection).toMatchObject({ contacts: 4, expectedResponders: 3, cost: 90, gain: 300, profit: 210 });
    expect(r.selection.roi).toBeCloseTo(210 / 90, 12);
    expect(r.best).toMatchObject(PROFITABLE);
  });

  it('top-k 10 contacts everyone, unprofitable customers included', () => {
    const r = roi({ policy: 'top-k', k: 10 });
    expect(r.selection).toEqual(r.everyone);
  });

  it('threshold 0.45: 5 customers, Σp = 3.5, profit 250; with maxContacts 2: Σp = 1.7, profit 100', () => {
    expect(roi({ policy: 'threshold', threshold: 0.45 }).selection).toMatchObject({ contacts: 5, expectedResponders: 3.5, profit: 250, roi: 2.5 });
    const capped = roi({ policy: 'threshold', threshold: 0.45, budget: { maxContacts: 2 } });
    expect(capped.selection).toMatchObject({ contacts: 2, expectedResponders: 1.7, cost: 70, gain: 170, profit: 100 });
    expect(capped.selection.roi).toBeCloseTo(100 / 70, 12);
    expect(capped.best).toMatchObject(PROFITABLE); // the budget of 2 binds; best does not take it
  });

  it('best can lose money when the fixed cost outweighs the profitable customers', () => {
    const r = roi({ fixedCost: 400 });
    // 8 profitable: gain 440, cost 400 + 80 = 480 → profit −40; contacting no one (0) is better.
    expect(r.best).toMatchObject({ contacts: 8, cost: 480, profit: -40 });
    expect(r.best.roi).toBeCloseTo(-40 / 480, 12);
  });
});

describe('campaignFigures', () => {
  it('has a null ROI when contacts are free and no fixed cost', () => {
    expect(campaignFigures({ contacts: 2, probabilityUnits: 1_500_000_000_000n, gainMicros: 150_000_000n }, { costPerContact: 0, fixedCost: 0 })).toEqual({
      contacts: 2,
      expectedResponders: 1.5,
      responseRate: 0.75,
      cost: 0,
      gain: 150,
      profit: 150,
      roi: null,
    });
  });

  it('keeps decimal prices exact (cost in micro-units)', () => {
    // 3 contacts at 0.1 + 0.2 fixed = 0.5 (in floats 0.2 + 3·0.1 = 0.5000000000000001).
    expect(campaignFigures({ contacts: 3, probabilityUnits: 0n, gainMicros: 0n }, { costPerContact: 0.1, fixedCost: 0.2 }).cost).toBe(0.5);
  });
});
