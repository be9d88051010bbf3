import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseWith } from '../validation.js';
import { resolveEconomics, type CampaignEconomics } from './campaignEconomics.js';
import { campaignRoi, type CampaignRoi } from './campaignRoi.js';
import { DEFAULT_HISTOGRAM_BINS, ScoreHistogram, type DecileRow, type ScoreDistribution } from './scoreHistogram.js';
import { TargetSelector, bestSelectionRuleFor, budgetContacts, sameRule, selectionRuleFor, type Target } from './targetSelection.js';

/** Everything the economics produce for one (binary) extract. */
export interface CampaignOutcome {
  readonly scored: number;
  /** The policy's target list, best expected value first. */
  readonly targets: Target[];
  /** Gains table, decile 1 = highest scores. */
  readonly deciles: DecileRow[];
  readonly distribution: ScoreDistribution;
  readonly roi: CampaignRoi;
}

const JSON_KIND = 'propensity.campaign-accumulator';

export const campaignAccumulatorJsonSchema = z
  .object({
    kind: z.literal(JSON_KIND),
    version: z.literal(1),
    economics: z.unknown(),
    histogram: z.unknown(),
    selection: z.unknown(),
    /** Null when the policy already is the best selection (max-expected-profit). */
    best: z.unknown().nullable(),
  })
  .strict();

/** The serialized form of a {@link CampaignAccumulator} (plain JSON, e.g. a part's result on S3). */
export interface CampaignAccumulatorJson {
  readonly kind: typeof JSON_KIND;
  readonly version: 1;
  readonly economics: CampaignEconomics;
  readonly histogram: ReturnType<ScoreHistogram['toJSON']>;
  readonly selection: ReturnType<TargetSelector['toJSON']>;
  readonly best: ReturnType<TargetSelector['toJSON']> | null;
}

/** JSON with object keys sorted, so that equal economics compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/**
 * The in-memory form of a binary run's economics: the score histogram, the policy's target
 * selector and the best-selection selector (max-expected-profit under the same budget), every
 * figure of the ROI summary from a single pass. Its memory grows with the selection, so the
 * scoring engine does not use it: it spills candidates as sorted runs and streams the same lists
 * (`engine/targetLists.ts`, checked against these selectors row for row).
 *
 * Parts of an extract (worker threads, Lambdas) each fill their own accumulator; `merge` of the
 * parts — directly or through `toJSON`/`fromJSON` — equals the accumulator of the whole extract,
 * deep-equal, including targets and deciles.
 *
 * @example
 * const acc = new CampaignAccumulator(economics);
 * for (const row of scored) acc.offer(row.id, row.line, row.p, row.value);
 * const { targets, deciles, roi } = acc.finish();
 */
export class CampaignAccumulator {
  readonly economics: CampaignEconomics;
  readonly histogram: ScoreHistogram;
  readonly selection: TargetSelector;
  /** Null when the policy's selection is itself the best one. */
  private readonly best: TargetSelector | null;

  constructor(economics: CampaignEconomics, options: { readonly bins?: number } = {}) {
    this.economics = economics;
    this.histogram = new ScoreHistogram(options.bins ?? DEFAULT_HISTOGRAM_BINS);
    const policyRule = selectionRuleFor(economics);
    const bestRule = bestSelectionRuleFor(economics);
    this.selection = new TargetSelector(policyRule);
    this.best = sameRule(policyRule, bestRule) ? null : new TargetSelector(bestRule);
  }

  /** Customers offered so far. */
  get scored(): number {
    return this.histogram.customers;
  }

  /**
   * Offers one scored customer: probability p of the positive class, value per response v (the
   * economics' constant or the customer's value-column cell). Rows with an unusable value must be
   * rejected (MISSING_VALUE_COLUMN) before they get here.
   * @param line 1-based line of the record in the whole extract (unique; breaks ties)
   * @throws RangeError when p is not in [0, 1] or v not in [0, MAX_VALUE_PER_RESPONSE]
   */
  offer(id: string, line: number, p: number, v: number): void {
    this.selection.offer(id, line, p, v); // validates p and v, naming the line
    this.histogram.add(p, v);
    this.best?.offer(id, line, p, v);
  }

  /** Adds another part's customers. Both must have been built with the same economics and bins. */
  merge(other: CampaignAccumulator): this {
    if (canonical(this.economics) !== canonical(other.economics)) {
      throw new ConfigError('CONFIG_INVALID', 'cannot merge parts scored with different campaign economics', {
        key: 'economics',
        source: 'campaign accumulator merge',
      });
    }
    this.histogram.merge(other.histogram);
    this.selection.merge(other.selection);
    if (this.best && other.best) this.best.merge(other.best);
    return this;
  }

  /** The decile (1 = highest scores) of score p, as in `finish().deciles`. Call after the last offer/merge. */
  decileOf(p: number): number {
    return this.histogram.decileOf(p);
  }

  /** Target list, gains table, score distribution and ROI summary. Does not change the accumulator. */
  finish(): CampaignOutcome {
    const everyone = this.histogram.totals();
    const selection = this.selection.totals();
    return {
      scored: everyone.customers,
      targets: this.selection.result(),
      deciles: this.histogram.deciles(this.economics),
      distribution: this.histogram.distribution(),
      roi: campaignRoi(
        this.economics,
        {
          scored: everyone.customers,
          selection,
          everyone: { contacts: everyone.customers, probabilityUnits: everyone.probabilityUnits, gainMicros: everyone.gainMicros },
          best: this.best ? this.best.totals() : selection,
        },
        budgetContacts(this.economics),
      ),
    };
  }

  /** Plain JSON for storing a part (e.g. on S3) and merging it later with {@link fromJSON}. */
  toJSON(): CampaignAccumulatorJson {
    return {
      kind: JSON_KIND,
      version: 1,
      economics: this.economics,
      histogram: this.histogram.toJSON(),
      selection: this.selection.toJSON(),
      best: this.best ? this.best.toJSON() : null,
    };
  }

  /**
   * Rebuilds an accumulator from {@link toJSON} output (after `JSON.parse`).
   * @throws ConfigError CONFIG_INVALID (or ECONOMICS_INVALID) naming the offending key
   */
  static fromJSON(json: unknown, source = 'campaign accumulator JSON'): CampaignAccumulator {
    const data = parseWith(campaignAccumulatorJsonSchema, json, ({ path, message }) => new ConfigError('CONFIG_INVALID', message, { key: path, source }));
    const economics = resolveEconomics(data.economics, undefined, `${source} (economics)`);
    const histogram = ScoreHistogram.fromJSON(data.histogram, `${source} (histogram)`);
    const selection = TargetSelector.fromJSON(data.selection, `${source} (selection)`);
    const acc = new CampaignAccumulator(economics, { bins: histogram.bins });
    if (!sameRule(selection.rule, acc.selection.rule) || (data.best === null) !== (acc.best === null)) {
      throw new ConfigError('CONFIG_INVALID', 'selection rules do not match the economics', { key: 'selection.rule', source });
    }
    acc.histogram.merge(histogram);
    acc.selection.merge(selection);
    if (acc.best) acc.best.merge(TargetSelector.fromJSON(data.best, `${source} (best)`));
    return acc;
  }
}
