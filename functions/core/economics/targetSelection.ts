import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseWith } from '../validation.js';
import type { CampaignEconomics } from './campaignEconomics.js';
import type { ContactTotals } from './campaignRoi.js';
import { LimbSums, MAX_VALUE_PER_RESPONSE, MONEY_SCALE, moneyUnits, probabilityUnits } from './fixedPoint.js';
import { RankedRows } from './rankedRows.js';

/**
 * Which scored customers a selector keeps. Every rule ranks by expected value p·v − cost (the
 * campaign's goal) and keeps at most `maxContacts` of the best.
 */
export interface SelectionRule {
  /** Most customers selected; null = no limit. */
  readonly maxContacts: number | null;
  /** Keep only customers with p ≥ this (threshold policy); null = any probability. */
  readonly minProbability: number | null;
  /** Keep only customers with p·v > costPerContact (max-expected-profit). */
  readonly profitableOnly: boolean;
  readonly costPerContact: number;
}

/** One customer on the target list. */
export interface Target {
  /** 1-based position on the list. */
  readonly rank: number;
  readonly id: string;
  /** 1-based physical line of the customer's record in the extract. */
  readonly line: number;
  readonly probability: number;
  /** Value per response used for this customer. */
  readonly value: number;
  /** p·value − costPerContact (rounded to micro-units, like every money figure). */
  readonly expectedValue: number;
}

export const selectionRuleSchema = z
  .object({
    maxContacts: z.number().int().nonnegative().nullable(),
    minProbability: z.number().min(0).max(1).nullable(),
    profitableOnly: z.boolean(),
    costPerContact: z.number().nonnegative(),
  })
  .strict();

/**
 * The serialized form of a {@link TargetSelector}: the rule and the kept rows in rank order, as
 * columns (compact, and quick to parse for selections of millions).
 */
export interface TargetSelectorJson {
  readonly rule: SelectionRule;
  readonly ids: string[];
  readonly lines: number[];
  readonly probabilities: number[];
  readonly values: number[];
}

/**
 * How many customers the budget allows: `maxContacts`, and/or
 * ⌊(maxSpend − fixedCost) / costPerContact⌋ (0 when the spend does not cover the fixed cost);
 * the smaller of the two. Null when there is no budget (or contacts are free).
 * Computed in micro-units so that e.g. maxSpend 0.3, cost 0.1 allows 3 contacts, not 2.
 */
export function budgetContacts(economics: CampaignEconomics): number | null {
  let limit: number | null = economics.budget.maxContacts ?? null;
  if (economics.budget.maxSpend !== undefined) {
    const room = moneyUnits(economics.budget.maxSpend) - moneyUnits(economics.fixedCost);
    const perContact = moneyUnits(economics.costPerContact);
    const bySpend = room < 0 ? 0 : perContact === 0 ? null : Math.floor(room / perContact);
    if (bySpend !== null) limit = limit === null ? bySpend : Math.min(limit, bySpend);
  }
  return limit;
}

/**
 * Whether a rule can take a customer with probability p and expected value `evMicros`
 * (p·v − cost in micro-units): its probability floor and its profit test. The budget (how many it
 * takes) is the ranking's business, not the customer's.
 */
export function ruleTakes(rule: SelectionRule, p: number, evMicros: number): boolean {
  return rule.maxContacts !== 0 && (rule.minProbability === null || p >= rule.minProbability) && (!rule.profitableOnly || evMicros > 0);
}

/**
 * The selection rule of the economics' policy:
 * - `top-k`: the k best by expected value (even unprofitable ones), within budget;
 * - `max-expected-profit`: every customer with p·v > cost, best first, within budget;
 * - `threshold`: every customer with p ≥ threshold, best first, within budget.
 */
export function selectionRuleFor(economics: CampaignEconomics): SelectionRule {
  const budget = budgetContacts(economics);
  const base = { costPerContact: economics.costPerContact, minProbability: null, profitableOnly: false, maxContacts: budget };
  switch (economics.policy) {
    case 'top-k': {
      const k = economics.k!;
      return { ...base, maxContacts: budget === null ? k : Math.min(k, budget) };
    }
    case 'threshold':
      return { ...base, minProbability: economics.threshold! };
    case 'max-expected-profit':
      return { ...base, profitableOnly: true };
  }
}

/**
 * Whether a customer is worth contacting at these economics, before any budget, suppression, cap
 * or control split: p ≥ threshold for the threshold policy, else an expected gain above the cost
 * of a contact (p·value·saveRate − cost > 0, `evMicros` in micro-units). It is scores.csv's
 * `predicted`: with max-expected-profit and nothing else binding, exactly the rows of targets.csv.
 * @example worthContacting(economics)(0.3, 2_000_000) // true under max-expected-profit
 */
export function worthContacting(economics: CampaignEconomics): (p: number, evMicros: number) => boolean {
  if (economics.policy === 'threshold') {
    const threshold = economics.threshold!;
    return (p) => p >= threshold;
  }
  return (_p, evMicros) => evMicros > 0;
}

/**
 * The rule of the best selection the extract allows: the top of the expected-profit curve over every
 * cut-off of the ranking, i.e. every customer whose expected gain exceeds the cost of a contact, with
 * no budget. It differs from the policy's selection when a budget, top-k or threshold binds.
 */
export function bestSelectionRuleFor(economics: CampaignEconomics): SelectionRule {
  return selectionRuleFor({ ...economics, policy: 'max-expected-profit', budget: {} });
}

/** Same rule, field by field (merging parts built with different rules is a configuration error). */
export function sameRule(a: SelectionRule, b: SelectionRule): boolean {
  return (
    a.maxContacts === b.maxContacts &&
    a.minProbability === b.minProbability &&
    a.profitableOnly === b.profitableOnly &&
    a.costPerContact === b.costPerContact
  );
}

/**
 * Sees every scored customer once and keeps only those the rule can select.
 *
 * Memory: with `maxContacts` set, a bounded heap of that many rows; without it (max-expected-profit
 * or threshold and no budget) every qualifying row is kept, so memory is bounded by the selection,
 * not by the file — in the worst case (everyone qualifies) one small record per customer.
 *
 * Mergeable and JSON-serializable: the kept set and `result()` are the same whatever the row
 * order or the split into parts, because ties are broken by line, then id.
 */
export class TargetSelector {
  readonly rule: SelectionRule;
  private readonly rows: RankedRows;
  private readonly costMicros: number;

  constructor(rule: SelectionRule) {
    this.rule = rule;
    this.rows = new RankedRows(rule.maxContacts);
    this.costMicros = moneyUnits(rule.costPerContact);
  }

  /** Customers currently kept. */
  get size(): number {
    return this.rows.size;
  }

  /**
   * Offers one scored customer. No allocation when the customer is not kept.
   * @param line 1-based line of the record in the whole extract (unique; breaks ties)
   * @throws RangeError when p is not in [0, 1] or v not in [0, MAX_VALUE_PER_RESPONSE]
   */
  offer(id: string, line: number, p: number, v: number): void {
    if (!(p >= 0 && p <= 1 && v >= 0 && v <= MAX_VALUE_PER_RESPONSE)) {
      throw new RangeError(`line ${line}: probability ${p} must be in [0, 1] and the value in [0, ${MAX_VALUE_PER_RESPONSE}] (not quoted: it is a customer's)`);
    }
    const { rule } = this;
    if (rule.minProbability !== null && p < rule.minProbability) return;
    const evMicros = moneyUnits(p * v) - this.costMicros;
    if (rule.profitableOnly && evMicros <= 0) return;
    this.rows.offer(id, line, evMicros, p, v);
  }

  /** Adds the customers kept by `other` (a selector with the same rule over another part). */
  merge(other: TargetSelector): this {
    if (!sameRule(this.rule, other.rule)) {
      throw new ConfigError('CONFIG_INVALID', `cannot merge selectors with different rules: ${JSON.stringify(other.rule)} into ${JSON.stringify(this.rule)}`, {
        key: 'rule',
        source: 'target selector merge',
      });
    }
    this.rows.offerAll(other.rows);
    return this;
  }

  /** The target list, best expected value first (ties: line ascending). */
  result(): Target[] {
    const slots = this.rows.rankedSlots();
    const list = new Array<Target>(slots.length);
    for (let i = 0; i < slots.length; i++) list[i] = this.target(i, slots[i]!);
    return list;
  }

  /** The target list one row at a time (streaming a large list to a file without an array of it). */
  *targets(): IterableIterator<Target> {
    const slots = this.rows.rankedSlots();
    for (let i = 0; i < slots.length; i++) yield this.target(i, slots[i]!);
  }

  private target(index: number, slot: number): Target {
    const rows = this.rows;
    return {
      rank: index + 1,
      id: rows.id(slot),
      line: rows.line(slot),
      probability: rows.a(slot),
      value: rows.b(slot),
      expectedValue: rows.key(slot) / MONEY_SCALE,
    };
  }

  /** Exact totals over the kept customers, for `campaignFigures`. */
  totals(): ContactTotals {
    const rows = this.rows;
    const sums = new LimbSums(2);
    for (let s = 0; s < rows.size; s++) {
      const p = rows.a(s);
      sums.add(0, probabilityUnits(p));
      sums.add(1, moneyUnits(p * rows.b(s)));
    }
    return { contacts: rows.size, probabilityUnits: sums.total(0), gainMicros: sums.total(1) };
  }

  /** Plain JSON: the rule and the kept rows in rank order, as columns. */
  toJSON(): TargetSelectorJson {
    const rows = this.rows;
    const slots = rows.rankedSlots();
    return {
      rule: { ...this.rule },
      ids: slots.map((s) => rows.id(s)),
      lines: slots.map((s) => rows.line(s)),
      probabilities: slots.map((s) => rows.a(s)),
      values: slots.map((s) => rows.b(s)),
    };
  }

  /**
   * Rebuilds a selector from {@link toJSON} output.
   * @throws ConfigError CONFIG_INVALID naming the offending key when the JSON is not a selector
   */
  static fromJSON(json: unknown, source = 'target selector JSON'): TargetSelector {
    const fail = (key: string, message: string): never => {
      throw new ConfigError('CONFIG_INVALID', message, { key, source });
    };
    if (!json || typeof json !== 'object') fail('(root)', 'expected an object');
    const data = json as Record<string, unknown>;
    const rule = parseWith(selectionRuleSchema, data.rule, ({ path, message }) => new ConfigError('CONFIG_INVALID', message, { key: path, source }), {
      prefix: ['rule'],
    });
    // Columns are checked by hand: zod per element is slow for selections of millions.
    const column = (name: string): unknown[] => (Array.isArray(data[name]) ? (data[name] as unknown[]) : fail(name, 'expected an array'));
    const [ids, lines, probabilities, values] = [column('ids'), column('lines'), column('probabilities'), column('values')];
    const extra = Object.keys(data).find((k) => !['rule', 'ids', 'lines', 'probabilities', 'values'].includes(k));
    if (extra !== undefined) fail(extra, 'unexpected key');
    if (lines.length !== ids.length || probabilities.length !== ids.length || values.length !== ids.length) {
      fail('ids', 'columns ids, lines, probabilities and values must have the same length');
    }
    const selector = new TargetSelector(rule);
    for (let i = 0; i < ids.length; i++) {
      const [id, line, p, v] = [ids[i], lines[i], probabilities[i], values[i]];
      if (typeof id !== 'string') fail(`ids.${i}`, 'expected a string');
      if (typeof line !== 'number' || !Number.isFinite(line)) fail(`lines.${i}`, 'expected a number');
      if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail(`probabilities.${i}`, 'expected a probability in [0, 1]');
      if (typeof v !== 'number' || !(v >= 0 && v <= MAX_VALUE_PER_RESPONSE)) fail(`values.${i}`, `expected a value in [0, ${MAX_VALUE_PER_RESPONSE}]`);
      selector.offer(id as string, line as number, p as number, v as number);
    }
    return selector;
  }
}
