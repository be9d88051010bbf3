import { campaignFigures, type CampaignCosts, type CampaignFigures } from './campaignRoi.js';
import type { ScoreHistogram } from './scoreHistogram.js';

/** Expected profit of contacting the `contacts` best-scored customers. */
export interface ProfitPoint {
  readonly contacts: number;
  readonly profit: number;
}

/** Points kept from the histogram's thousands of bins: enough for a smooth curve, a few KB of summary.json. */
export const PROFIT_CURVE_POINTS = 120;

/**
 * The profit curve of a binary run: expected profit (Σp·v − fixed cost − contacts·cost) against the
 * number contacted, customers taken best score first. Every point is exact: the histogram's bins hold
 * exact sums, and a point is taken at a bin boundary (about every n/{@link PROFIT_CURVE_POINTS}
 * customers, the last bin always). Contacting no one earns 0: the campaign does not run.
 *
 * `marks` (the selection and the best selection) are added as points of their own when the value per
 * response is one constant: then ranking by score is ranking by expected profit, and a selection is
 * a prefix of the same order, so its point lies on this curve (and, with no budget, the
 * max-expected-profit selection is the curve's maximum). With a value column they rank differently,
 * and the report marks them beside the curve instead.
 * @example profitCurve(histogram, economics, [campaign.selection]).at(-1) // contacting everyone
 */
export function profitCurve(histogram: ScoreHistogram, economics: CampaignCosts & { readonly valuePerResponse: unknown }, marks: readonly CampaignFigures[] = []): ProfitPoint[] {
  const step = Math.max(1, Math.ceil(histogram.customers / PROFIT_CURVE_POINTS));
  const points: ProfitPoint[] = [{ contacts: 0, profit: 0 }];
  let next = step;
  let last: ProfitPoint | null = null;
  for (const totals of histogram.topDownTotals()) {
    last = { contacts: totals.contacts, profit: campaignFigures(totals, economics).profit };
    if (totals.contacts >= next) {
      points.push(last);
      next = totals.contacts + step;
    }
  }
  if (last && points.at(-1)!.contacts !== last.contacts) points.push(last);
  if (typeof economics.valuePerResponse === 'number') {
    for (const mark of marks) if (mark.contacts > 0 && !points.some((p) => p.contacts === mark.contacts)) points.push({ contacts: mark.contacts, profit: mark.profit });
    points.sort((a, b) => a.contacts - b.contacts);
  }
  return points;
}
