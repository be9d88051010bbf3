import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/core/errors.js';
import { ScoreHistogram } from '../../../functions/core/economics/scoreHistogram.js';

const costs = { costPerContact: 10, fixedCost: 50 };

/** 100 customers with p = 0.00, 0.01, …, 0.99 and v = 100. */
function hundred(): ScoreHistogram {
  const h = new ScoreHistogram();
  for (let i = 99; i >= 0; i--) h.add(i / 100, 100);
  return h;
}

describe('ScoreHistogram.binOf', () => {
  it('puts a score equal to an edge in the bin starting there, even when p·bins rounds below it', () => {
    const h = new ScoreHistogram();
    // 0.57 · 10000 = 5699.999999999999 in floats.
    expect(h.binOf(0.57)).toBe(5700);
    expect(h.binOf(0.29)).toBe(2900);
    expect(h.binOf(0)).toBe(0);
    expect(h.binOf(1)).toBe(9999);
    expect(h.binOf(0.99999)).toBe(9999);
  });
});

describe('ScoreHistogram.deciles on p = 0.00 … 0.99 (hand-calculated)', () => {
  const rows = hundred().deciles(costs);

  it('has ten deciles of ten customers, decile 1 holding the highest scores', () => {
    expect(rows.map((r) => r.decile)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rows.map((r) => r.customers)).toEqual(Array(10).fill(10));
    expect(rows.map((r) => r.cumulativeCustomers)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  it('decile 1: p = 0.90 … 0.99', () => {
    // Σp = 9.45, overall mean p = 49.5 / 100 = 0.495.
    expect(rows[0]).toMatchObject({
      minScore: 0.9,
      maxScore: 0.9901, // upper edge of the bin holding 0.99
      expectedResponders: 9.45,
      meanProbability: 0.945,
      meanValue: 100,
      cumulativeExpectedResponders: 9.45,
      cost: 150, // 50 + 10·10
      gain: 945, // 9.45 · 100
      profit: 795,
      roi: 5.3, // 795 / 150
    });
    expect(rows[0]!.cumulativeGainPct).toBeCloseTo((9.45 / 49.5) * 100, 12); // 19.09 %
    expect(rows[0]!.lift).toBeCloseTo(0.945 / 0.495, 12); // 1.909
    expect(rows[0]!.cumulativeLift).toBeCloseTo(0.945 / 0.495, 12);
  });

  it('decile 2: p = 0.80 … 0.89, cumulative over deciles 1–2', () => {
    expect(rows[1]).toMatchObject({ minScore: 0.8, maxScore: 0.8901, expectedResponders: 8.45, cumulativeExpectedResponders: 17.9 });
    expect(rows[1]).toMatchObject({ cost: 250, gain: 1790, profit: 1540, roi: 6.16 }); // 50 + 200; 17.9·100
    expect(rows[1]!.cumulativeGainPct).toBeCloseTo((17.9 / 49.5) * 100, 12); // 36.16 %
    expect(rows[1]!.lift).toBeCloseTo(0.845 / 0.495, 12);
    expect(rows[1]!.cumulativeLift).toBeCloseTo(0.895 / 0.495, 12); // mean p of top 20 = 0.895
  });

  it('decile 5: p = 0.50 … 0.59', () => {
    // cumulative Σp = 9.45 + 8.45 + 7.45 + 6.45 + 5.45 = 37.25
    expect(rows[4]).toMatchObject({ minScore: 0.5, maxScore: 0.5901, expectedResponders: 5.45, cumulativeExpectedResponders: 37.25 });
    expect(rows[4]).toMatchObject({ cost: 550, gain: 3725, profit: 3175 });
    expect(rows[4]!.roi).toBeCloseTo(3175 / 550, 12);
  });

  it('decile 10: p = 0.00 … 0.09, everyone contacted', () => {
    expect(rows[9]).toMatchObject({
      minScore: 0,
      maxScore: 0.0901,
      expectedResponders: 0.45,
      meanProbability: 0.045,
      cumulativeExpectedResponders: 49.5,
      cumulativeGainPct: 100,
      cumulativeLift: 1,
      cost: 1050,
      gain: 4950,
      profit: 3900,
    });
    expect(rows[9]!.lift).toBeCloseTo(0.045 / 0.495, 12);
    expect(rows[9]!.roi).toBeCloseTo(3900 / 1050, 12);
  });

  it('decileOf agrees with the table for every customer', () => {
    const h = hundred();
    for (let i = 0; i < 100; i++) expect(h.decileOf(i / 100)).toBe(10 - Math.floor(i / 10));
  });
});

describe('ScoreHistogram deciles from whole bins', () => {
  it('gives a crowded bin the decile of its first customer and leaves skipped deciles out', () => {
    // 5 customers at 0.9, 15 at 0.2 (N = 20): the 0.9 bin starts at rank 1 → decile ⌈1·10/20⌉ = 1;
    // the 0.2 bin starts at rank 6 → decile ⌈6·10/20⌉ = 3.
    const h = new ScoreHistogram();
    for (let i = 0; i < 5; i++) h.add(0.9, 100);
    for (let i = 0; i < 15; i++) h.add(0.2, 100);
    const rows = h.deciles(costs);
    expect(rows.map((r) => [r.decile, r.customers])).toEqual([
      [1, 5],
      [3, 15],
    ]);
    expect(h.decileOf(0.9)).toBe(1);
    expect(h.decileOf(0.2)).toBe(3);
    expect(rows[1]).toMatchObject({ cumulativeCustomers: 20, cumulativeExpectedResponders: 7.5, cumulativeGainPct: 100 });
  });

  it('a constant model puts everyone in decile 1', () => {
    const h = new ScoreHistogram();
    for (let i = 0; i < 10; i++) h.add(0.3, 100);
    expect(h.deciles(costs).map((r) => [r.decile, r.customers, r.lift])).toEqual([[1, 10, 1]]);
    expect(h.decileOf(0.3)).toBe(1);
  });

  it('lift is null when every score is 0, and the table is empty when nothing was scored', () => {
    const zero = new ScoreHistogram();
    zero.add(0, 100);
    expect(zero.deciles(costs)[0]).toMatchObject({ lift: null, cumulativeLift: null, cumulativeGainPct: 0, gain: 0, profit: -60 });
    expect(new ScoreHistogram().deciles(costs)).toEqual([]);
  });
});

describe('ScoreHistogram.distribution', () => {
  it('summarises p = 0.00 … 0.99 (nearest-rank quantiles at bin lower edges)', () => {
    const d = hundred().distribution();
    expect(d).toMatchObject({ customers: 100, min: 0, max: 0.99, mean: 0.495 });
    // ⌈q·100⌉-th smallest: 10th = 0.09, 25th = 0.24, 50th = 0.49, 75th = 0.74, 90th = 0.89.
    expect(d.quantiles).toEqual({ p10: 0.09, p25: 0.24, p50: 0.49, p75: 0.74, p90: 0.89 });
    expect(d.histogram).toHaveLength(20);
    expect(d.histogram.map((b) => b.customers)).toEqual(Array(20).fill(5));
    expect(d.histogram[0]).toEqual({ from: 0, to: 0.05, customers: 5 });
    expect(d.histogram[19]).toEqual({ from: 0.95, to: 1, customers: 5 });
  });

  it('clamps quantiles to the exact minimum and counts p = 1 in the last coarse bin', () => {
    const h = new ScoreHistogram();
    h.add(0.123456, 1);
    h.add(1, 1);
    const d = h.distribution();
    expect(d.quantiles).toEqual({ p10: 0.123456, p25: 0.123456, p50: 0.123456, p75: 0.9999, p90: 0.9999 });
    expect(d.histogram[2]!.customers).toBe(1);
    expect(d.histogram[19]!.customers).toBe(1);
    expect(d.mean).toBe(0.561728);
  });

  it('is all null on an empty histogram', () => {
    expect(new ScoreHistogram().distribution()).toMatchObject({ customers: 0, min: null, max: null, mean: null, quantiles: null });
  });
});

describe('ScoreHistogram merge and JSON', () => {
  it('merged halves equal the whole, through JSON text', () => {
    const whole = hundred();
    const high = new ScoreHistogram();
    const low = new ScoreHistogram();
    for (let i = 0; i < 100; i++) (i % 3 === 0 ? high : low).add(i / 100, 100);
    const merged = ScoreHistogram.fromJSON(JSON.parse(JSON.stringify(low))).merge(ScoreHistogram.fromJSON(JSON.parse(JSON.stringify(high))));
    expect(merged.toJSON()).toEqual(whole.toJSON());
    expect(merged.deciles(costs)).toEqual(whole.deciles(costs));
    expect(merged.distribution()).toEqual(whole.distribution());
  });

  it('stores only occupied bins with exact sums as decimal strings', () => {
    const h = new ScoreHistogram(20);
    h.add(0.5, 100);
    h.add(0.52, 37.5);
    // bin 10 = [0.50, 0.55): Σp = 1.02 → 1 020 000 000 000 units; Σp·v = 50 + 19.5 = 69.5 → 69 500 000 µ; Σv = 137.5.
    expect(h.toJSON()).toEqual({ bins: 20, customers: 2, min: 0.5, max: 0.52, occupied: [[10, 2, '1020000000000', '69500000', '137500000']] });
  });

  it('refuses to merge histograms with different bins', () => {
    try {
      new ScoreHistogram(100).merge(new ScoreHistogram(20));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
      expect((error as ConfigError).key).toBe('bins');
      expect((error as ConfigError).message).toBe('score histogram merge: bins: cannot merge a histogram of 20 bins into one of 100');
    }
  });

  it('rejects bins that are not a multiple of 20', () => {
    expect(() => new ScoreHistogram(30)).toThrow('score histogram: bins: bins must be a multiple of 20 between 20 and 1000000, got 30');
  });

  it('fromJSON names the offending key for malformed or inconsistent JSON', () => {
    const good = { bins: 20, customers: 1, min: 0.5, max: 0.5, occupied: [[10, 1, '500000000000', '50000000', '100000000']] };
    expect(ScoreHistogram.fromJSON(good).customers).toBe(1);
    const cases: Array<[unknown, string]> = [
      [{ ...good, occupied: [[10, 1, '-5', '0', '0']] }, 'occupied.0'],
      [{ ...good, occupied: [[25, 1, '5', '0', '0']] }, 'occupied.0'],
      [{ ...good, customers: 2 }, 'customers'],
      [{ ...good, bins: 'many' }, 'bins'],
    ];
    for (const [json, key] of cases) {
      try {
        ScoreHistogram.fromJSON(json, 'part-1.json');
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).code).toBe('CONFIG_INVALID');
        expect((error as ConfigError).key).toBe(key);
        expect((error as ConfigError).message.startsWith(`part-1.json: ${key}: `)).toBe(true);
      }
    }
  });

  it('add rejects a probability outside [0, 1] and a value above the maximum', () => {
    const h = new ScoreHistogram();
    expect(() => h.add(-0.1, 1)).toThrow('probability -0.1 is not in [0, 1]');
    expect(() => h.add(0.5, 2e9)).toThrow('value per response 2000000000 is not in [0, 1000000000]');
    expect(h.customers).toBe(0);
  });
});
