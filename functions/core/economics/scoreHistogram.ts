import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseWith } from '../validation.js';
import { campaignFigures, type CampaignCosts } from './campaignRoi.js';
import {
  LimbSums,
  MAX_VALUE_PER_RESPONSE,
  MONEY_SCALE,
  PROBABILITY_SCALE,
  fromUnits,
  moneyUnits,
  parseUnits,
  probabilityUnits,
  ratio,
} from './fixedPoint.js';

/** Default number of fine bins over [0, 1]: deciles and quantiles are exact to 1e-4. */
export const DEFAULT_HISTOGRAM_BINS = 10_000;
/** Bins of the coarse histogram in the report. */
export const COARSE_BINS = 20;

/** One row of the gains table. Decile 1 holds the highest scores. */
export interface DecileRow {
  readonly decile: number;
  readonly customers: number;
  /** Lower edge of the lowest bin in the decile. */
  readonly minScore: number;
  /** Upper edge of the highest bin in the decile. */
  readonly maxScore: number;
  readonly meanProbability: number;
  /** Mean value per response of the decile's customers (constant economics: that constant). */
  readonly meanValue: number;
  /** Σ p over the decile. */
  readonly expectedResponders: number;
  readonly cumulativeCustomers: number;
  readonly cumulativeExpectedResponders: number;
  /** Share (0–100) of all expected responders captured by contacting deciles 1..this one. */
  readonly cumulativeGainPct: number;
  /** Decile mean p / overall mean p; null when the overall mean is 0. */
  readonly lift: number | null;
  /** Mean p of deciles 1..this one / overall mean p; null when the overall mean is 0. */
  readonly cumulativeLift: number | null;
  /** Contacting every customer down to this decile: fixedCost + cumulativeCustomers·costPerContact. */
  readonly cost: number;
  /** Σ p·v down to this decile. */
  readonly gain: number;
  readonly profit: number;
  /** profit / cost; null when the cost is 0. */
  readonly roi: number | null;
}

export interface CoarseBin {
  readonly from: number;
  readonly to: number;
  readonly customers: number;
}

/** Score distribution summary for the report. Figures are null when nothing was scored. */
export interface ScoreDistribution {
  readonly customers: number;
  /** Exact smallest and largest probability seen. */
  readonly min: number | null;
  readonly max: number | null;
  /** Exact mean (from fixed-unit sums). */
  readonly mean: number | null;
  /**
   * Nearest-rank quantiles read from the fine histogram: the lower edge of the bin holding the
   * ⌈q·N⌉-th smallest score, clamped to `min` — within one bin width (1/bins) below the true value.
   */
  readonly quantiles: { readonly p10: number; readonly p25: number; readonly p50: number; readonly p75: number; readonly p90: number } | null;
  /** {@link COARSE_BINS} equal-width bins over [0, 1]; the last one includes 1. */
  readonly histogram: readonly CoarseBin[];
}

const occupiedBinSchema = z.tuple([z.number().int().nonnegative(), z.number().int().positive(), z.string(), z.string(), z.string()]);

export const scoreHistogramJsonSchema = z
  .object({
    bins: z.number().int().positive(),
    customers: z.number().int().nonnegative(),
    min: z.number().min(0).max(1).nullable(),
    max: z.number().min(0).max(1).nullable(),
    /** [bin, customers, Σp (1e-12 units), Σp·v (micro-units), Σv (micro-units)], bins ascending. */
    occupied: z.array(occupiedBinSchema),
  })
  .strict();

/** The serialized form of a {@link ScoreHistogram}: plain JSON, exact sums as decimal strings. */
export type ScoreHistogramJson = z.infer<typeof scoreHistogramJsonSchema>;

const QUANTILE_PERCENTS = [10, 25, 50, 75, 90] as const;

function checkBins(bins: number, source: string): void {
  if (!Number.isInteger(bins) || bins < COARSE_BINS || bins % COARSE_BINS !== 0 || bins > 1_000_000) {
    throw new ConfigError('CONFIG_INVALID', `bins must be a multiple of ${COARSE_BINS} between ${COARSE_BINS} and 1000000, got ${bins}`, {
      key: 'bins',
      source,
    });
  }
}

/**
 * The decile rule of every gains table (1 = highest scores … 10): a customer with `above` of `n`
 * customers scored higher is in decile ⌈(above + 1)·10 / n⌉. An empty population puts everyone in 1.
 * @example decileOfRank(0, 1000) // 1
 * @example decileOfRank(100, 1000) // 2 (the 101st best of 1,000)
 */
export function decileOfRank(above: number, n: number): number {
  return n <= 0 ? 1 : Math.min(10, Math.ceil(((above + 1) * 10) / n));
}

/** Throws a RangeError unless p is a probability and v a usable value per response. */
export function assertScorable(p: number, v: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} is not in [0, 1]`);
  if (!(v >= 0 && v <= MAX_VALUE_PER_RESPONSE)) throw new RangeError(`value per response ${v} is not in [0, ${MAX_VALUE_PER_RESPONSE}]`);
}

/**
 * Fine histogram of scores over [0, 1] with exact per-bin sums of p, p·v and v.
 *
 * Mergeable: parts of an extract build their own histograms, and `merge` + `toJSON`/`fromJSON`
 * give exactly what the whole extract gives (see `fixedPoint.ts` for why the sums are exact).
 * Deciles are built from whole bins, so a customer's decile depends only on its score's bin:
 * {@link decileOf} agrees with {@link deciles} for every scored row.
 */
export class ScoreHistogram {
  readonly bins: number;
  private readonly counts: Float64Array;
  private readonly sums: { readonly probability: LimbSums; readonly gain: LimbSums; readonly value: LimbSums };
  /** edges[i] = i / bins, the exact doubles that bin lookups compare against. */
  private readonly edges: Float64Array;
  private customerCount = 0;
  private minScore = Infinity;
  private maxScore = -Infinity;
  /** Bin → decile, built on first use after the last change. */
  private decileByBin: Uint8Array | undefined;

  constructor(bins: number = DEFAULT_HISTOGRAM_BINS) {
    checkBins(bins, 'score histogram');
    this.bins = bins;
    this.counts = new Float64Array(bins);
    this.sums = { probability: new LimbSums(bins), gain: new LimbSums(bins), value: new LimbSums(bins) };
    this.edges = new Float64Array(bins + 1);
    for (let i = 0; i <= bins; i++) this.edges[i] = i / bins;
  }

  /** Customers added so far. */
  get customers(): number {
    return this.customerCount;
  }

  /**
   * The bin holding score p: [i/bins, (i+1)/bins), the last bin also holds 1. Corrects the
   * float product p·bins against the stored edges so that a score equal to an edge (0.29) lands
   * in the bin that starts there.
   */
  binOf(p: number): number {
    const { bins, edges } = this;
    let i = Math.floor(p * bins);
    if (i >= bins) return bins - 1;
    if (i < 0) i = 0;
    if (edges[i]! > p) i--;
    else if (i + 1 < bins && edges[i + 1]! <= p) i++;
    return i;
  }

  /**
   * Adds one scored customer with probability p and value per response v; returns its bin.
   * @throws RangeError when p is not in [0, 1] or v not in [0, MAX_VALUE_PER_RESPONSE]
   */
  add(p: number, v: number): number {
    assertScorable(p, v);
    const bin = this.binOf(p);
    this.counts[bin]! += 1;
    this.sums.probability.add(bin, probabilityUnits(p));
    this.sums.gain.add(bin, moneyUnits(p * v));
    this.sums.value.add(bin, moneyUnits(v));
    this.customerCount++;
    if (p < this.minScore) this.minScore = p;
    if (p > this.maxScore) this.maxScore = p;
    this.decileByBin = undefined;
    return bin;
  }

  /** Adds every customer of `other` (built with the same number of bins) into this histogram. */
  merge(other: ScoreHistogram): this {
    if (other.bins !== this.bins) {
      throw new ConfigError('CONFIG_INVALID', `cannot merge a histogram of ${other.bins} bins into one of ${this.bins}`, {
        key: 'bins',
        source: 'score histogram merge',
      });
    }
    for (let i = 0; i < this.bins; i++) this.counts[i]! += other.counts[i]!;
    this.sums.probability.addAll(other.sums.probability);
    this.sums.gain.addAll(other.sums.gain);
    this.sums.value.addAll(other.sums.value);
    this.customerCount += other.customerCount;
    this.minScore = Math.min(this.minScore, other.minScore);
    this.maxScore = Math.max(this.maxScore, other.maxScore);
    this.decileByBin = undefined;
    return this;
  }

  /** Exact Σp (1e-12 units), Σp·v and Σv (micro-units) over every customer added. */
  totals(): { readonly customers: number; readonly probabilityUnits: bigint; readonly gainMicros: bigint; readonly valueMicros: bigint } {
    let probability = 0n;
    let gain = 0n;
    let value = 0n;
    for (let i = 0; i < this.bins; i++) {
      if (this.counts[i] === 0) continue;
      probability += this.sums.probability.total(i);
      gain += this.sums.gain.total(i);
      value += this.sums.value.total(i);
    }
    return { customers: this.customerCount, probabilityUnits: probability, gainMicros: gain, valueMicros: value };
  }

  /**
   * Contacting customers best score first, whole bins at a time: the exact totals after each
   * occupied bin, highest bin first (what the profit curve is drawn from).
   */
  *topDownTotals(): Generator<{ readonly contacts: number; readonly probabilityUnits: bigint; readonly gainMicros: bigint }> {
    let contacts = 0;
    let probability = 0n;
    let gain = 0n;
    for (let b = this.bins - 1; b >= 0; b--) {
      if (this.counts[b] === 0) continue;
      contacts += this.counts[b]!;
      probability += this.sums.probability.total(b);
      gain += this.sums.gain.total(b);
      yield { contacts, probabilityUnits: probability, gainMicros: gain };
    }
  }

  private decileTable(): Uint8Array {
    if (this.decileByBin) return this.decileByBin;
    const table = new Uint8Array(this.bins);
    const n = this.customerCount;
    let above = 0;
    for (let b = this.bins - 1; b >= 0; b--) {
      // Whole bins, walking down: a bin takes the decile of its first (highest-ranked) customer.
      table[b] = decileOfRank(above, n);
      above += this.counts[b]!;
    }
    this.decileByBin = table;
    return table;
  }

  /**
   * The decile (1 = highest scores … 10) of a customer with score p, consistent with
   * {@link deciles}. Call it after every customer was added (i.e. on the merged histogram).
   * An empty histogram puts everyone in decile 1.
   * @throws RangeError when p is not in [0, 1]
   */
  decileOf(p: number): number {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} is not in [0, 1]`);
    return this.decileTable()[this.binOf(p)]!;
  }

  /** Bin → decile (1 = highest scores), as {@link decileOf} gives for a score in that bin. */
  decilesByBin(): Readonly<Uint8Array> {
    return this.decileTable();
  }

  /**
   * The gains table, decile 1 first. Deciles that receive no bin are left out: that happens when
   * one bin holds more than a tenth of the customers (a near-constant model), because bins are
   * never split.
   * @param costs cost per contact and fixed cost, for the campaign figures of each row
   */
  deciles(costs: CampaignCosts): DecileRow[] {
    const table = this.decileTable();
    const n = this.customerCount;
    const acc = Array.from({ length: 11 }, () => ({ customers: 0, probability: 0n, gain: 0n, value: 0n, lowBin: -1, highBin: -1 }));
    for (let b = this.bins - 1; b >= 0; b--) {
      const count = this.counts[b]!;
      if (count === 0) continue;
      const d = acc[table[b]!]!;
      if (d.highBin < 0) d.highBin = b;
      d.lowBin = b;
      d.customers += count;
      d.probability += this.sums.probability.total(b);
      d.gain += this.sums.gain.total(b);
      d.value += this.sums.value.total(b);
    }
    // Ratios are taken between exact integer totals (see `ratio`), so hand-checkable inputs give exact outputs.
    const total = this.totals();
    const allUnits = total.probabilityUnits;
    const scale = BigInt(PROBABILITY_SCALE);
    const rows: DecileRow[] = [];
    let cumCustomers = 0;
    let cumProbability = 0n;
    let cumGain = 0n;
    for (let decile = 1; decile <= 10; decile++) {
      const d = acc[decile]!;
      if (d.customers === 0) continue;
      cumCustomers += d.customers;
      cumProbability += d.probability;
      cumGain += d.gain;
      const campaign = campaignFigures({ contacts: cumCustomers, probabilityUnits: cumProbability, gainMicros: cumGain }, costs);
      rows.push({
        decile,
        customers: d.customers,
        minScore: this.edges[d.lowBin]!,
        maxScore: this.edges[d.highBin + 1]!,
        meanProbability: ratio(d.probability, BigInt(d.customers) * scale)!,
        meanValue: ratio(d.value, BigInt(d.customers) * BigInt(MONEY_SCALE))!,
        expectedResponders: fromUnits(d.probability, PROBABILITY_SCALE),
        cumulativeCustomers: cumCustomers,
        cumulativeExpectedResponders: campaign.expectedResponders,
        cumulativeGainPct: ratio(cumProbability * 100n, allUnits) ?? 0,
        // lift = (Σp_d / n_d) / (Σp / N) = Σp_d·N / (n_d·Σp)
        lift: ratio(d.probability * BigInt(n), BigInt(d.customers) * allUnits),
        cumulativeLift: ratio(cumProbability * BigInt(n), BigInt(cumCustomers) * allUnits),
        cost: campaign.cost,
        gain: campaign.gain,
        profit: campaign.profit,
        roi: campaign.roi,
      });
    }
    return rows;
  }

  /** Min, max, mean, quantiles and a coarse histogram of the scores, for the report. */
  distribution(): ScoreDistribution {
    const n = this.customerCount;
    const perCoarse = this.bins / COARSE_BINS;
    const histogram: CoarseBin[] = [];
    for (let c = 0; c < COARSE_BINS; c++) {
      let customers = 0;
      for (let b = c * perCoarse; b < (c + 1) * perCoarse; b++) customers += this.counts[b]!;
      histogram.push({ from: c / COARSE_BINS, to: (c + 1) / COARSE_BINS, customers });
    }
    if (n === 0) return { customers: 0, min: null, max: null, mean: null, quantiles: null, histogram };

    const ranks = QUANTILE_PERCENTS.map((pct) => Math.max(1, Math.ceil((pct * n) / 100)));
    const found: number[] = [];
    let below = 0;
    for (let b = 0, q = 0; b < this.bins && q < ranks.length; b++) {
      below += this.counts[b]!;
      while (q < ranks.length && ranks[q]! <= below) {
        found.push(Math.max(this.minScore, this.edges[b]!));
        q++;
      }
    }
    const [p10, p25, p50, p75, p90] = found as [number, number, number, number, number];
    return {
      customers: n,
      min: this.minScore,
      max: this.maxScore,
      mean: ratio(this.totals().probabilityUnits, BigInt(n) * BigInt(PROBABILITY_SCALE)),
      quantiles: { p10, p25, p50, p75, p90 },
      histogram,
    };
  }

  /** Plain JSON (only occupied bins; exact sums as decimal strings), for merging parts from S3. */
  toJSON(): ScoreHistogramJson {
    const occupied: ScoreHistogramJson['occupied'] = [];
    for (let b = 0; b < this.bins; b++) {
      const count = this.counts[b]!;
      if (count === 0) continue;
      occupied.push([
        b,
        count,
        this.sums.probability.total(b).toString(),
        this.sums.gain.total(b).toString(),
        this.sums.value.total(b).toString(),
      ]);
    }
    const empty = this.customerCount === 0;
    return { bins: this.bins, customers: this.customerCount, min: empty ? null : this.minScore, max: empty ? null : this.maxScore, occupied };
  }

  /**
   * Rebuilds a histogram from {@link toJSON} output.
   * @throws ConfigError CONFIG_INVALID naming the offending key when the JSON is not a histogram
   */
  static fromJSON(json: unknown, source = 'score histogram JSON'): ScoreHistogram {
    const data = parseWith(scoreHistogramJsonSchema, json, ({ path, message }) => new ConfigError('CONFIG_INVALID', message, { key: path, source }));
    checkBins(data.bins, source);
    const h = new ScoreHistogram(data.bins);
    let previous = -1;
    data.occupied.forEach(([bin, count, p, gain, value], index) => {
      const units = [parseUnits(p), parseUnits(gain), parseUnits(value)];
      if (bin <= previous || bin >= data.bins || units.includes(undefined)) {
        throw new ConfigError('CONFIG_INVALID', 'bins must ascend within range and sums must be non-negative integers', {
          key: `occupied.${index}`,
          source,
        });
      }
      previous = bin;
      h.counts[bin] = count;
      h.sums.probability.set(bin, units[0]!);
      h.sums.gain.set(bin, units[1]!);
      h.sums.value.set(bin, units[2]!);
      h.customerCount += count;
    });
    if (h.customerCount !== data.customers || (data.customers > 0) !== (data.min !== null && data.max !== null)) {
      throw new ConfigError('CONFIG_INVALID', `customers ${data.customers} does not match the occupied bins (${h.customerCount}) or min/max`, {
        key: 'customers',
        source,
      });
    }
    if (data.min !== null) h.minScore = data.min;
    if (data.max !== null) h.maxScore = data.max;
    return h;
  }
}
