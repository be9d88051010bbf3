import { existsSync, readFileSync } from 'node:fs';
import { dataset } from '../../helpers/datasets.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/core/errors.js';
import { resolveEconomics, type CampaignEconomics } from '../../../functions/core/economics/campaignEconomics.js';
import { CampaignAccumulator } from '../../../functions/core/economics/campaignAccumulator.js';

interface Customer {
  readonly id: string;
  readonly line: number;
  readonly p: number;
  readonly v: number;
}

/** A part of the extract as a Lambda would store it: JSON text on S3, parsed back. */
function viaJson(acc: CampaignAccumulator): CampaignAccumulator {
  return CampaignAccumulator.fromJSON(JSON.parse(JSON.stringify(acc.toJSON())));
}

function accumulate(economics: CampaignEconomics, customers: readonly Customer[], bins?: number): CampaignAccumulator {
  const acc = new CampaignAccumulator(economics, bins === undefined ? {} : { bins });
  for (const c of customers) acc.offer(c.id, c.line, c.p, c.v);
  return acc;
}

const economicsArb = fc
  .record({
    costPerContact: fc.constantFrom(0, 0.35, 10, 12.5),
    fixedCost: fc.constantFrom(0, 50, 1000),
    policy: fc.constantFrom('max-expected-profit', 'top-k', 'threshold'),
    k: fc.integer({ min: 1, max: 40 }),
    threshold: fc.constantFrom(0, 0.2, 0.5, 0.73),
    maxContacts: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    maxSpend: fc.option(fc.constantFrom(100, 333.3, 5000), { nil: undefined }),
  })
  .map((e) =>
    resolveEconomics({
      costPerContact: e.costPerContact,
      valuePerResponse: { column: 'value' },
      fixedCost: e.fixedCost,
      policy: e.policy,
      k: e.k,
      threshold: e.threshold,
      budget: { maxContacts: e.maxContacts, maxSpend: e.maxSpend },
    }),
  );

// Coarse probabilities and a few values make ties (same expected value, same bin) common.
const customerArb = fc.record({
  p: fc.oneof(fc.integer({ min: 0, max: 20 }).map((i) => i / 20), fc.double({ min: 0, max: 1, noNaN: true }), fc.float({ min: 0, max: 1, noNaN: true }).map(Number)),
  v: fc.oneof(fc.constantFrom(0, 1, 37.5, 100, 250.25), fc.double({ min: 0, max: 1e6, noNaN: true })),
  id: fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F'),
});

describe('CampaignAccumulator merge (property)', () => {
  it('merging JSON round-tripped parts, in any order, equals accumulating the whole extract', () => {
    fc.assert(
      fc.property(
        economicsArb,
        fc.array(customerArb, { maxLength: 120 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.constantFrom(20, 100, 10_000),
        fc.boolean(),
        (economics, drawn, cuts, bins, reverse) => {
          const customers = drawn.map((c, i): Customer => ({ ...c, id: `${c.id}${i % 7}`, line: i + 2 }));
          const whole = accumulate(economics, customers, bins);

          const points = [...new Set(cuts.map((c) => c % (customers.length + 1)))].sort((a, b) => a - b);
          const bounds = [0, ...points, customers.length];
          const parts = bounds.slice(1).map((end, i) => viaJson(accumulate(economics, customers.slice(bounds[i], end), bins)));
          if (reverse) parts.reverse();
          const merged = parts.reduce((acc, part) => acc.merge(part), new CampaignAccumulator(economics, { bins }));

          expect(merged.toJSON()).toEqual(whole.toJSON());
          expect(merged.finish()).toEqual(whole.finish());
          for (const c of customers) expect(merged.decileOf(c.p)).toBe(whole.decileOf(c.p));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('CampaignAccumulator', () => {
  const economics = resolveEconomics({ costPerContact: 10, valuePerResponse: 100, fixedCost: 50, policy: 'top-k', k: 3 });

  it('finish() gives the target list, deciles, distribution and ROI of one pass', () => {
    const acc = new CampaignAccumulator(economics);
    [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05].forEach((p, i) => acc.offer(`C${i + 1}`, i + 2, p, 100));
    const outcome = acc.finish();
    expect(outcome.scored).toBe(10);
    expect(outcome.targets.map((t) => [t.rank, t.id, t.expectedValue])).toEqual([
      [1, 'C1', 80],
      [2, 'C2', 70],
      [3, 'C3', 60],
    ]);
    // One customer per decile; decile 1 = the 0.9 customer.
    expect(outcome.deciles.map((d) => d.customers)).toEqual(Array(10).fill(1));
    expect(outcome.deciles[0]).toMatchObject({ decile: 1, minScore: 0.9, expectedResponders: 0.9, cost: 60, gain: 90, profit: 30 });
    expect(acc.decileOf(0.9)).toBe(1);
    expect(acc.decileOf(0.05)).toBe(10);
    expect(outcome.distribution).toMatchObject({ customers: 10, min: 0.05, max: 0.9, mean: 0.455 });
    // top 3: Σp = 2.4, gain 240, cost 50 + 30 = 80; best = the 8 profitable (profit 310).
    expect(outcome.roi.selection).toMatchObject({ contacts: 3, gain: 240, cost: 80, profit: 160, roi: 2 });
    expect(outcome.roi.best).toMatchObject({ contacts: 8, profit: 310 });
    expect(outcome.roi.everyone).toMatchObject({ contacts: 10, profit: 305 });
  });

  it('stores the best selector only when the policy differs from max-expected-profit', () => {
    expect(new CampaignAccumulator(economics).toJSON().best).not.toBeNull();
    const maxProfit = resolveEconomics({ costPerContact: 10, valuePerResponse: 100 });
    expect(new CampaignAccumulator(maxProfit).toJSON().best).toBeNull();
  });

  it('leaves nothing behind when offer rejects a row', () => {
    const acc = new CampaignAccumulator(economics);
    expect(() => acc.offer('X1', 42, 0.5, Number.NaN)).toThrow('line 42: probability 0.5 must be in [0, 1] and the value in [0, 1000000000] (not quoted: it is a customer\'s)');
    expect(acc.scored).toBe(0);
    expect(acc.finish().targets).toEqual([]);
  });

  it('refuses to merge parts scored with different economics', () => {
    const other = resolveEconomics({ costPerContact: 11, valuePerResponse: 100, fixedCost: 50, policy: 'top-k', k: 3 });
    try {
      new CampaignAccumulator(economics).merge(new CampaignAccumulator(other));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
      expect((error as ConfigError).key).toBe('economics');
      expect((error as ConfigError).message).toBe('campaign accumulator merge: economics: cannot merge parts scored with different campaign economics');
    }
  });

  it('merges economics written with keys in another order', () => {
    const json = JSON.parse(JSON.stringify(new CampaignAccumulator(economics).toJSON())) as { economics: Record<string, unknown> };
    json.economics = Object.fromEntries(Object.entries(json.economics).reverse());
    expect(() => new CampaignAccumulator(economics).merge(CampaignAccumulator.fromJSON(json))).not.toThrow();
  });

  it('fromJSON names the offending part and key', () => {
    const json = new CampaignAccumulator(economics).toJSON();
    const cases: Array<[unknown, string, string]> = [
      [{ ...json, kind: 'something-else' }, 'CONFIG_INVALID', 'kind'],
      [{ ...json, economics: { ...json.economics, costPerContact: -1 } }, 'ECONOMICS_INVALID', 'costPerContact'],
      [{ ...json, histogram: { ...json.histogram, customers: 3 } }, 'CONFIG_INVALID', 'customers'],
      [{ ...json, best: null }, 'CONFIG_INVALID', 'selection.rule'],
    ];
    for (const [bad, code, key] of cases) {
      try {
        CampaignAccumulator.fromJSON(bad, 's3://bucket/parts/0003.json');
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).code).toBe(code);
        expect((error as ConfigError).key).toBe(key);
        expect((error as ConfigError).message).toContain('s3://bucket/parts/0003.json');
      }
    }
  });
});

// Real data: bank-marketing (45,211 rows, `;`-separated, quoted strings). p is a fixed logistic of
// the call duration (no model needed) and the value column is the account balance, which is
// negative for some customers: those rows are rejected before the economics, as the engine does.
const BANK = dataset('bank-marketing/bank-full.csv');

describe.runIf(existsSync(BANK))('CampaignAccumulator on bank-marketing', () => {
  const lines = readFileSync(BANK, 'utf8').split('\n');
  const header = lines[0]!.split(';').map((h) => h.replaceAll('"', ''));
  const balance = header.indexOf('balance');
  const duration = header.indexOf('duration');
  const customers: Customer[] = [];
  let negative = 0;
  lines.slice(1).forEach((text, i) => {
    if (text === '') return;
    const fields = text.split(';');
    const v = Number(fields[balance]);
    if (v < 0) {
      negative++;
      return;
    }
    const p = 1 / (1 + Math.exp(-(Number(fields[duration]) - 600) / 150));
    customers.push({ id: `bank-${i + 1}`, line: i + 2, p, v });
  });
  const economics = resolveEconomics({ costPerContact: 5, valuePerResponse: { column: 'balance' }, fixedCost: 2000, budget: { maxSpend: 25_000 } });

  it('seven parts merged through JSON equal the whole file', () => {
    expect(customers.length + negative).toBe(45_211);
    const whole = accumulate(economics, customers);
    const cuts = [0, 4000, 4001, 17_000, 23_456, 30_000, 44_000, customers.length];
    const merged = cuts
      .slice(1)
      .map((end, i) => viaJson(accumulate(economics, customers.slice(cuts[i], end))))
      .reverse()
      .reduce((acc, part) => acc.merge(part), new CampaignAccumulator(economics));
    const outcome = merged.finish();
    expect(outcome).toEqual(whole.finish());
    // (25 000 − 2 000) / 5 = 4 600 contacts allowed; best ignores the budget: every profitable customer.
    expect(outcome.roi.budgetContacts).toBe(4600);
    expect(outcome.targets).toHaveLength(4600);
    expect(outcome.roi.best.contacts).toBe(customers.filter((c) => c.p * c.v > 5).length);
    expect(outcome.roi.best.profit).toBeGreaterThan(outcome.roi.selection.profit);
    expect(outcome.scored).toBe(customers.length);
    expect(outcome.deciles.reduce((n, d) => n + d.customers, 0)).toBe(customers.length);
    // Ranked by p·balance − 5, never increasing.
    for (let i = 1; i < outcome.targets.length; i++) {
      expect(outcome.targets[i]!.expectedValue).toBeLessThanOrEqual(outcome.targets[i - 1]!.expectedValue);
    }
  });
});
