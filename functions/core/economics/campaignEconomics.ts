import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseWith } from '../validation.js';
import { parseDecimal } from '../spec/cellParsers.js';
import { MAX_VALUE_PER_RESPONSE } from './fixedPoint.js';

/** Largest campaign-level amount (fixed cost, spend cap): far above any campaign, far below float trouble. */
const MAX_CAMPAIGN_AMOUNT = 1e12;

/**
 * Campaign economics: what a contact costs, what a response is worth, and how many customers
 * the campaign may contact. The bundle carries defaults; a JSON file overrides them per run.
 */
export const campaignEconomicsSchema = z
  .object({
    currency: z.string().default('EUR'),
    /** Cost of contacting one customer (call, mail, voucher). */
    costPerContact: z.number().nonnegative().max(MAX_VALUE_PER_RESPONSE),
    /** Gain from one response: a constant, or the name of an extract column (e.g. expected order value). */
    valuePerResponse: z.union([z.number().nonnegative().max(MAX_VALUE_PER_RESPONSE), z.object({ column: z.string().min(1) }).strict()]),
    /**
     * Share (0–1) of responders the contact actually wins, for retention and churn campaigns where a
     * "response" is a customer at risk and only some are saved: every expected gain is
     * p × saveRate × valuePerResponse. Absent: 1 (every response is won).
     */
    saveRate: z.number().min(0).max(1).optional(),
    /** Set-up cost of running the campaign at all (creative, list rental). */
    fixedCost: z.number().nonnegative().max(MAX_CAMPAIGN_AMOUNT).default(0),
    budget: z
      .object({
        maxContacts: z.number().int().positive().max(1e9).optional(),
        maxSpend: z.number().positive().max(MAX_CAMPAIGN_AMOUNT).optional(),
      })
      .strict()
      .default({}),
    /**
     * - `max-expected-profit`: contact, best first, while p·value > cost, within budget;
     * - `top-k`: the k customers with the highest expected profit;
     * - `threshold`: every customer with probability ≥ threshold, within budget.
     */
    policy: z.enum(['max-expected-profit', 'top-k', 'threshold']).default('max-expected-profit'),
    k: z.number().int().positive().max(1e9).optional(),
    threshold: z.number().min(0).max(1).optional(),
    /**
     * Share of the selection held out as a control group (control.csv), chosen by a hash of the id
     * and `controlSalt` (see `policy/controlGroup.ts`). Absent: 0, no control group.
     */
    controlFraction: z.number().min(0).max(0.5).optional(),
    /** The campaign's salt for the control draw: same salt, same control group. Absent: the empty salt. */
    controlSalt: z.string().max(200).optional(),
    /**
     * At most `maxContacts` contacts per customer in any `days` days, counted from the contact
     * history of earlier runs (see `policy/contactHistory.ts`). Absent: no cap.
     */
    frequencyCap: z
      .object({ maxContacts: z.number().int().positive().max(1000), days: z.number().int().positive().max(3660) })
      .strict()
      .optional(),
    /**
     * True when no person set these figures (a spec from `infer-spec`, an imported model): every
     * report then says its money figures are placeholders.
     */
    placeholder: z.boolean().optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.policy === 'top-k' && e.k === undefined) ctx.addIssue({ code: 'custom', path: ['k'], message: 'policy top-k needs k' });
    if (e.policy === 'threshold' && e.threshold === undefined) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'policy threshold needs threshold' });
    }
  });

/** The settings each object of the economics takes, for an unknown-key error that cannot quote the key. */
const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '(root)': Object.keys(campaignEconomicsSchema.shape),
  budget: ['maxContacts', 'maxSpend'],
  valuePerResponse: ['column'],
  frequencyCap: ['maxContacts', 'days'],
};

export type CampaignEconomics = z.infer<typeof campaignEconomicsSchema>;
export type CampaignEconomicsInput = z.input<typeof campaignEconomicsSchema>;

/**
 * Validates economics; `overrides` (a per-run file) are laid over `defaults` (from the bundle) key by key.
 * Every amount is bounded (a contact's cost and a response's value by `MAX_VALUE_PER_RESPONSE`).
 * @throws ConfigError naming the key and the source; also for overrides that are not a JSON object
 *   (`42`, `null`, `"x"`, an array), which would otherwise be silently ignored.
 */
export function resolveEconomics(defaults: unknown, overrides?: unknown, source = 'economics'): CampaignEconomics {
  if (overrides !== undefined && (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides))) {
    throw new ConfigError('ECONOMICS_INVALID', 'must be a JSON object like {"costPerContact": 8, "valuePerResponse": 120}', { key: '(root)', source });
  }
  const merged = overrides === undefined ? defaults : withoutSettledPlaceholder({ ...(defaults as object), ...overrides }, overrides as Record<string, unknown>);
  // An unknown key is not quoted: a per-run file is written outside Propensity and may hold anything.
  return parseWith(campaignEconomicsSchema, merged, ({ path, message, code }) =>
    new ConfigError('ECONOMICS_INVALID', code === 'unrecognized_keys' ? `has a key that is not an economics setting (not quoted); the settings here are ${(KNOWN_KEYS[path] ?? []).join(', ')}` : message, { key: path, source }),
  );
}

/**
 * A customer's value per response read from the economics' value column (`valuePerResponse: {column}`):
 * a decimal in [0, MAX_VALUE_PER_RESPONSE], else null (the batch rejects the row as
 * MISSING_VALUE_COLUMN, the online predict refuses the request).
 * @example responseValueOf(' 120.5 ') // 120.5
 * @example responseValueOf('-3') // null
 */
export function responseValueOf(cell: string): number | null {
  const value = parseDecimal(cell.trim());
  return value >= 0 && value <= MAX_VALUE_PER_RESPONSE ? value : null;
}

/**
 * A per-run file that sets both money figures (cost per contact and value per response) settles
 * the economics: the bundle's `placeholder` flag is dropped, unless the file itself sets it.
 */
function withoutSettledPlaceholder(merged: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  if (!('placeholder' in merged) || 'placeholder' in overrides || !('costPerContact' in overrides && 'valuePerResponse' in overrides)) return merged;
  const { placeholder: _dropped, ...settled } = merged;
  return settled;
}

/**
 * What one response is worth to the campaign: the value per response times the save rate.
 * @example responseGain({ saveRate: 0.3 }, 100) // 30
 */
export function responseGain(economics: Pick<CampaignEconomics, 'saveRate'>, value: number): number {
  return economics.saveRate === undefined ? value : value * economics.saveRate;
}

/**
 * The one line every command prints for economics no person set, or null when someone set them.
 * @example placeholderNotice({ placeholder: true, currency: 'EUR', costPerContact: 1, valuePerResponse: 10 })
 * // 'placeholder economics: EUR 1 per contact, 10 per response — set them with --economics FILE or in spec.json'
 */
export function placeholderNotice(economics: Pick<CampaignEconomics, 'placeholder' | 'currency' | 'costPerContact' | 'valuePerResponse'>): string | null {
  if (economics.placeholder !== true) return null;
  const value = typeof economics.valuePerResponse === 'number' ? String(economics.valuePerResponse) : `column "${economics.valuePerResponse.column}"`;
  return `placeholder economics: ${economics.currency} ${economics.costPerContact} per contact, ${value} per response — set them with --economics FILE or in spec.json`;
}
