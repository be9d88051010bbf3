import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/core/errors.js';
import { resolveEconomics, type CampaignEconomicsInput } from '../../../functions/core/economics/campaignEconomics.js';
import {
  TargetSelector,
  bestSelectionRuleFor,
  budgetContacts,
  selectionRuleFor,
} from '../../../functions/core/economics/targetSelection.js';

// Ten customers, v = 100, cost 10 per contact: expected value p·100 − 10 is
// 80, 70, 60, 50, 40, 30, 20, 10, 0, −5 for C01..C10 (lines 2..11).
const P = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
const customers = P.map((p, i) => ({ id: `C${String(i + 1).padStart(2, '0')}`, line: i + 2, p }));
// Offer in a scrambled order: ranking must not depend on arrival order.
const arrival = [6, 2, 9, 0, 4, 8, 1, 7, 3, 5].map((i) => customers[i]!);

function economics(overrides: Partial<CampaignEconomicsInput> = {}) {
  return resolveEconomics({ costPerContact: 10, valuePerResponse: 100, fixedCost: 50, ...overrides });
}

function select(overrides: Partial<CampaignEconomicsInput> = {}) {
  const selector = new TargetSelector(selectionRuleFor(economics(overrides)));
  for (const c of arrival) selector.offer(c.id, c.line, c.p, 100);
  return selector.result();
}

describe('budgetContacts', () => {
  it('is null without a budget and maxContacts when only that is set', () => {
    expect(budgetContacts(economics())).toBeNull();
    expect(budgetContacts(economics({ budget: { maxContacts: 3 } }))).toBe(3);
  });

  it('turns maxSpend into ⌊(maxSpend − fixedCost) / costPerContact⌋', () => {
    expect(budgetContacts(economics({ budget: { maxSpend: 100 } }))).toBe(5); // (100 − 50) / 10
    expect(budgetContacts(economics({ budget: { maxSpend: 109.99 } }))).toBe(5); // 5.999 → 5
    expect(budgetContacts(economics({ budget: { maxSpend: 40 } }))).toBe(0); // does not cover the fixed cost
  });

  it('takes the smaller of maxContacts and the spend limit', () => {
    expect(budgetContacts(economics({ budget: { maxContacts: 3, maxSpend: 100 } }))).toBe(3);
    expect(budgetContacts(economics({ budget: { maxContacts: 9, maxSpend: 100 } }))).toBe(5);
  });

  it('divides in micro-units, so decimal prices give whole contacts', () => {
    // In floats (0.3 − 0) / 0.1 = 2.9999999999999996, which would floor to 2.
    expect(budgetContacts(economics({ costPerContact: 0.1, fixedCost: 0, budget: { maxSpend: 0.3 } }))).toBe(3);
  });

  it('is unlimited by spend when contacts are free', () => {
    expect(budgetContacts(economics({ costPerContact: 0, budget: { maxSpend: 100 } }))).toBeNull();
  });
});

describe('TargetSelector policies (hand-calculated)', () => {
  it('max-expected-profit keeps every customer with p·v > cost, best first; EV exactly 0 is left out', () => {
    const targets = select();
    expect(targets.map((t) => t.id)).toEqual(['C01', 'C02', 'C03', 'C04', 'C05', 'C06', 'C07', 'C08']);
    expect(targets.map((t) => t.expectedValue)).toEqual([80, 70, 60, 50, 40, 30, 20, 10]);
    expect(targets.map((t) => t.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(targets[0]).toEqual({ rank: 1, id: 'C01', line: 2, probability: 0.9, value: 100, expectedValue: 80 });
  });

  it('max-expected-profit with maxContacts 3 keeps the three best', () => {
    expect(select({ budget: { maxContacts: 3 } }).map((t) => t.id)).toEqual(['C01', 'C02', 'C03']);
  });

  it('max-expected-profit with maxSpend 100 keeps (100 − 50) / 10 = 5', () => {
    expect(select({ budget: { maxSpend: 100 } }).map((t) => t.id)).toEqual(['C01', 'C02', 'C03', 'C04', 'C05']);
  });

  it('a spend below the fixed cost selects no one', () => {
    expect(select({ budget: { maxSpend: 40 } })).toEqual([]);
  });

  it('top-k keeps the k best, including unprofitable customers when k reaches them', () => {
    expect(select({ policy: 'top-k', k: 4 }).map((t) => t.id)).toEqual(['C01', 'C02', 'C03', 'C04']);
    const all = select({ policy: 'top-k', k: 10 });
    expect(all.map((t) => t.id)).toEqual(customers.map((c) => c.id));
    expect(all.slice(-2).map((t) => t.expectedValue)).toEqual([0, -5]);
  });

  it('top-k is capped by the budget', () => {
    expect(select({ policy: 'top-k', k: 8, budget: { maxContacts: 2 } }).map((t) => t.id)).toEqual(['C01', 'C02']);
  });

  it('threshold keeps p ≥ threshold (inclusive), within budget', () => {
    expect(select({ policy: 'threshold', threshold: 0.45 }).map((t) => t.id)).toEqual(['C01', 'C02', 'C03', 'C04', 'C05']);
    expect(select({ policy: 'threshold', threshold: 0.5 }).map((t) => t.id)).toEqual(['C01', 'C02', 'C03', 'C04', 'C05']);
    expect(select({ policy: 'threshold', threshold: 0.05 })).toHaveLength(10);
    expect(select({ policy: 'threshold', threshold: 0.45, budget: { maxContacts: 2 } }).map((t) => t.id)).toEqual(['C01', 'C02']);
  });

  it('ranks by expected value, not probability, when values differ per customer', () => {
    const selector = new TargetSelector(selectionRuleFor(economics({ valuePerResponse: { column: 'order_value' } })));
    selector.offer('A', 2, 0.2, 1000); // 200 − 10 = 190
    selector.offer('B', 3, 0.9, 100); // 90 − 10 = 80
    selector.offer('C', 4, 0.5, 10); // 5 − 10 = −5 → not profitable
    selector.offer('D', 5, 0.05, 500); // 25 − 10 = 15
    expect(selector.result().map((t) => [t.id, t.expectedValue])).toEqual([
      ['A', 190],
      ['B', 80],
      ['D', 15],
    ]);
  });

  it('the best-selection rule is max-expected-profit with no budget: the top of the profit curve over every cut-off', () => {
    expect(bestSelectionRuleFor(economics({ policy: 'top-k', k: 4, budget: { maxSpend: 100 } }))).toEqual({
      maxContacts: null,
      minProbability: null,
      profitableOnly: true,
      costPerContact: 10,
    });
  });
});

describe('TargetSelector ties', () => {
  // Four customers with the same expected value (p·100 − 10 = 40), arriving in reverse line order;
  // ids sort against line order, so only the line can explain the result.
  const tied = [
    { id: 'T1', line: 40 },
    { id: 'T2', line: 30 },
    { id: 'T3', line: 20 },
    { id: 'T4', line: 10 },
  ];

  it('breaks ties by line ascending, whatever the arrival order', () => {
    const selector = new TargetSelector(selectionRuleFor(economics()));
    for (const t of tied) selector.offer(t.id, t.line, 0.5, 100);
    expect(selector.result().map((t) => t.line)).toEqual([10, 20, 30, 40]);
  });

  it('a budget that cuts through a tie keeps the lowest lines, also after merging parts in either order', () => {
    const rule = selectionRuleFor(economics({ budget: { maxContacts: 2 } }));
    const oneShot = new TargetSelector(rule);
    for (const t of tied) oneShot.offer(t.id, t.line, 0.5, 100);
    const partA = new TargetSelector(rule);
    const partB = new TargetSelector(rule);
    partA.offer('T1', 40, 0.5, 100);
    partA.offer('T4', 10, 0.5, 100);
    partB.offer('T2', 30, 0.5, 100);
    partB.offer('T3', 20, 0.5, 100);
    const ab = TargetSelector.fromJSON(partA.toJSON()).merge(partB);
    const ba = TargetSelector.fromJSON(partB.toJSON()).merge(partA);
    expect(oneShot.result().map((t) => t.id)).toEqual(['T4', 'T3']);
    expect(ab.result()).toEqual(oneShot.result());
    expect(ba.result()).toEqual(oneShot.result());
    expect(ab.toJSON()).toEqual(oneShot.toJSON());
  });
});

describe('TargetSelector memory and serialization', () => {
  it('keeps at most maxContacts rows however many are offered', () => {
    const selector = new TargetSelector(selectionRuleFor(economics({ budget: { maxContacts: 50 } })));
    for (let i = 0; i < 5000; i++) selector.offer(`X${i}`, i + 2, ((i * 7919) % 1000) / 1000, 100);
    expect(selector.size).toBe(50);
    // 7919 is coprime with 1000, so each p = 0.000 … 0.999 occurs 5 times: the 50 best are 0.999 … 0.990.
    const result = selector.result();
    expect(result[0]!.probability).toBe(0.999);
    expect(result.at(-1)!.probability).toBe(0.99);
  });

  it('round-trips through JSON text', () => {
    const selector = new TargetSelector(selectionRuleFor(economics()));
    for (const c of arrival) selector.offer(c.id, c.line, c.p, 100);
    const back = TargetSelector.fromJSON(JSON.parse(JSON.stringify(selector)));
    expect(back.result()).toEqual(selector.result());
    expect(back.toJSON()).toEqual(selector.toJSON());
  });

  it('rejects an invalid probability or value with a RangeError naming the line and id', () => {
    const selector = new TargetSelector(selectionRuleFor(economics()));
    expect(() => selector.offer('Z9', 17, Number.NaN, 100)).toThrow(RangeError);
    expect(() => selector.offer('Z9', 17, Number.NaN, 100)).toThrow('line 17: probability NaN must be in [0, 1]');
    expect(() => selector.offer('Z9', 18, 0.5, -1)).toThrow('line 18: probability 0.5 must be in [0, 1] and the value in [0, 1000000000] (not quoted');
    expect(() => selector.offer('Z9', 19, 1.01, 1)).toThrow(RangeError);
  });

  it('fromJSON names the offending key', () => {
    const json = new TargetSelector(selectionRuleFor(economics())).toJSON();
    const row = { ids: ['A'], lines: [2], probabilities: [0.5], values: [100] };
    const cases: Array<[unknown, string, string]> = [
      [{ ...json, ...row, probabilities: [1.5] }, 'probabilities.0', 'expected a probability in [0, 1]'],
      [{ ...json, ...row, ids: [7] }, 'ids.0', 'expected a string'],
      [{ ...json, ...row, values: [] }, 'ids', 'columns ids, lines, probabilities and values must have the same length'],
      [{ ...json, ...row, lines: 'x' }, 'lines', 'expected an array'],
      [{ ...json, rule: { ...json.rule, maxContacts: -1 } }, 'rule.maxContacts', 'Too small: expected number to be >=0'],
      [{ ...json, extra: 1 }, 'extra', 'unexpected key'],
    ];
    expect(TargetSelector.fromJSON({ ...json, ...row }).size).toBe(1);
    for (const [bad, key, message] of cases) {
      try {
        TargetSelector.fromJSON(bad, 'part-3.json');
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        const e = error as ConfigError;
        expect(e.code).toBe('CONFIG_INVALID');
        expect(e.key).toBe(key);
        expect(e.source).toBe('part-3.json');
        expect(e.message).toBe(`part-3.json: ${key}: ${message}`);
      }
    }
  });

  it('refuses to merge selectors with different rules', () => {
    const a = new TargetSelector(selectionRuleFor(economics()));
    const b = new TargetSelector(selectionRuleFor(economics({ budget: { maxContacts: 2 } })));
    expect(() => a.merge(b)).toThrow(ConfigError);
    try {
      a.merge(b);
    } catch (error) {
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
      expect((error as ConfigError).key).toBe('rule');
      expect((error as ConfigError).message).toContain('cannot merge selectors with different rules');
    }
  });
});

describe('TargetSelector.targets', () => {
  it('streams the same list as result()', () => {
    const selector = new TargetSelector(selectionRuleFor(economics()));
    for (const c of arrival) selector.offer(c.id, c.line, c.p, 100);
    expect([...selector.targets()]).toEqual(selector.result());
    expect([...selector.targets()].map((t) => t.id)).toEqual(['C01', 'C02', 'C03', 'C04', 'C05', 'C06', 'C07', 'C08']);
  });
});
