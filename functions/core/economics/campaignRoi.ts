import type { CampaignEconomics } from './campaignEconomics.js';
import { MONEY_SCALE, PROBABILITY_SCALE, fromUnits, moneyUnits, ratio } from './fixedPoint.js';

/** What a campaign costs: the part of {@link CampaignEconomics} the money figures need. */
export type CampaignCosts = Pick<CampaignEconomics, 'costPerContact' | 'fixedCost'>;

/**
 * Exact totals over a set of contacted customers, in fixed units (see `fixedPoint.ts`), so that
 * figures built from merged parts equal figures built from the whole extract.
 */
export interface ContactTotals {
  readonly contacts: number;
  /** Σ p in 1e-12 units. */
  readonly probabilityUnits: bigint;
  /** Σ p·v in micro-units of the currency. */
  readonly gainMicros: bigint;
}

/** The money figures of contacting one set of customers. */
export interface CampaignFigures {
  readonly contacts: number;
  /** Σ p: how many responses to expect. */
  readonly expectedResponders: number;
  /** expectedResponders / contacts; null when no one is contacted. */
  readonly responseRate: number | null;
  /** fixedCost + contacts·costPerContact; 0 when no one is contacted (the campaign does not run). */
  readonly cost: number;
  /** Σ p·v: expected revenue from responses. */
  readonly gain: number;
  /** gain − cost. */
  readonly profit: number;
  /** (gain − cost) / cost; null when the cost is 0. */
  readonly roi: number | null;
}

/** ROI of the chosen selection against the three reference campaigns. */
export interface CampaignRoi {
  readonly currency: string;
  readonly policy: CampaignEconomics['policy'];
  /** How many contacts the budget allows; null when there is no budget. */
  readonly budgetContacts: number | null;
  /** Customers scored (the population every figure below is drawn from). */
  readonly scored: number;
  /** The target list the policy chose. */
  readonly selection: CampaignFigures;
  /** Contacting every scored customer, ignoring the budget. */
  readonly everyone: CampaignFigures;
  /** Not running the campaign: all zeros, ROI null. */
  readonly noOne: CampaignFigures;
  /**
   * The best selection this extract allows: the argmax of expected profit over every cut-off of the
   * ranking (every customer with p·value·saveRate > cost, no budget; see `bestSelectionRuleFor`). Its profit
   * can still be below 0 when the fixed cost exceeds what the profitable customers bring; then
   * `noOne` is the better choice.
   */
  readonly best: CampaignFigures;
}

/** Totals of contacting no one. */
export const NO_CONTACTS: ContactTotals = { contacts: 0, probabilityUnits: 0n, gainMicros: 0n };

/**
 * Money figures for contacting a set of customers. Cost and profit are computed in micro-units
 * and converted once, so hand-checkable inputs give exact decimal outputs.
 * @example campaignFigures({ contacts: 2, probabilityUnits: 1_500_000_000_000n, gainMicros: 150_000_000n },
 *   { costPerContact: 10, fixedCost: 50 }) // cost 70, gain 150, profit 80, roi 80/70
 */
export function campaignFigures(totals: ContactTotals, costs: CampaignCosts): CampaignFigures {
  const { contacts } = totals;
  const costMicros = contacts === 0 ? 0n : BigInt(moneyUnits(costs.fixedCost)) + BigInt(contacts) * BigInt(moneyUnits(costs.costPerContact));
  const profitMicros = totals.gainMicros - costMicros;
  return {
    contacts,
    expectedResponders: fromUnits(totals.probabilityUnits, PROBABILITY_SCALE),
    responseRate: ratio(totals.probabilityUnits, BigInt(contacts) * BigInt(PROBABILITY_SCALE)),
    cost: fromUnits(costMicros, MONEY_SCALE),
    gain: fromUnits(totals.gainMicros, MONEY_SCALE),
    profit: fromUnits(profitMicros, MONEY_SCALE),
    roi: ratio(profitMicros, costMicros),
  };
}

/**
 * Campaign ROI for the selection, everyone, no one and the best selection.
 * `budgetContacts` is what {@link budgetContacts} gives for the same economics.
 */
export function campaignRoi(
  economics: CampaignEconomics,
  totals: { readonly scored: number; readonly selection: ContactTotals; readonly everyone: ContactTotals; readonly best: ContactTotals },
  budgetContacts: number | null,
): CampaignRoi {
  return {
    currency: economics.currency,
    policy: economics.policy,
    budgetContacts,
    scored: totals.scored,
    selection: campaignFigures(totals.selection, economics),
    everyone: campaignFigures(totals.everyone, economics),
    noOne: campaignFigures(NO_CONTACTS, economics),
    best: campaignFigures(totals.best, economics),
  };
}
