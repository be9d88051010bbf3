import type { CampaignCosts } from '../economics/campaignRoi.js';
import type { LabelledScore } from '../drift/realizedPerformance.js';

/**
 * Realized incremental response of a campaign with a control group: the response rate of treated
 * (contacted) customers against the held-out control. The interval is the normal approximation
 * (Wald) for the difference of two independent proportions:
 *
 *   d = p_t − p_c,  se = √(p_t(1−p_t)/n_t + p_c(1−p_c)/n_c),  d ± z·se  (z = 1.959964 for 95 %).
 *
 * Incremental responders = d·n_t (responses the contact caused among the treated); incremental ROI
 * = (d·n_t·value − n_t·costPerContact − fixedCost) / (n_t·costPerContact + fixedCost), its interval
 * the same affine map of d's. Needs at least one treated and one control customer.
 */
export interface IncrementalResponse {
  readonly treated: { readonly customers: number; readonly responders: number; readonly rate: number };
  readonly control: { readonly customers: number; readonly responders: number; readonly rate: number };
  /** p_t − p_c and its interval. */
  readonly uplift: Interval;
  /** uplift · treated customers. */
  readonly incrementalResponders: Interval;
  /** Null without a cost (nothing to divide by). */
  readonly incrementalRoi: Interval | null;
  readonly confidence: number;
}

export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/** z of the two-sided normal interval at 95 %. */
export const Z_95 = 1.959963984540054;

export function incrementalResponse(
  counts: { treated: number; treatedResponders: number; control: number; controlResponders: number },
  money: { costPerContact: number; fixedCost: number; valuePerResponse: number },
  z = Z_95,
): IncrementalResponse | null {
  const { treated: nt, control: nc } = counts;
  if (nt === 0 || nc === 0) return null;
  const pt = counts.treatedResponders / nt;
  const pc = counts.controlResponders / nc;
  const d = pt - pc;
  const se = Math.sqrt((pt * (1 - pt)) / nt + (pc * (1 - pc)) / nc);
  const uplift = { estimate: d, low: d - z * se, high: d + z * se };
  const scale = (i: Interval, k: number, c = 0): Interval => ({ estimate: i.estimate * k + c, low: i.low * k + c, high: i.high * k + c });
  const cost = nt * money.costPerContact + money.fixedCost;
  return {
    treated: { customers: nt, responders: counts.treatedResponders, rate: pt },
    control: { customers: nc, responders: counts.controlResponders, rate: pc },
    uplift,
    incrementalResponders: scale(uplift, nt),
    incrementalRoi: cost > 0 ? scale(uplift, (nt * money.valuePerResponse) / cost, -1) : null,
    confidence: 0.95,
  };
}

/**
 * The realized incremental response of a run with a control group, from its labelled customers:
 * treated = on targets.csv, control = on control.csv (see `claimIndexedOutcomes`). The value of a
 * response is the economics' constant, or for a value column the mean value of the treated.
 */
export function incrementalFromOutcomes(rows: readonly LabelledScore[], costs: CampaignCosts, constantValue: number | null): IncrementalResponse | null {
  const counts = { treated: 0, treatedResponders: 0, control: 0, controlResponders: 0 };
  let treatedValue = 0;
  for (const row of rows) {
    if (row.selected) {
      counts.treated++;
      treatedValue += row.value;
      if (row.responded) counts.treatedResponders++;
    } else if (row.control) {
      counts.control++;
      if (row.responded) counts.controlResponders++;
    }
  }
  const valuePerResponse = constantValue ?? (counts.treated > 0 ? treatedValue / counts.treated : 0);
  return incrementalResponse(counts, { costPerContact: costs.costPerContact, fixedCost: costs.fixedCost, valuePerResponse });
}
