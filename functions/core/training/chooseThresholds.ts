import type { CampaignEconomics } from '../economics/campaignEconomics.js';

/** A threshold on P(positive) and what contacting everyone at or above it earns on held-out rows. */
export interface ThresholdPoint {
  readonly threshold: number;
  readonly contacts: number;
  /** Σ p·value − contacts·cost − fixed cost: what the model expects to earn. */
  readonly expectedProfit: number;
  /** Σ y·value − contacts·cost − fixed cost: what the held-out labels say it would have earned. */
  readonly realizedProfit: number;
  readonly f1: number;
}

export interface ThresholdChoice {
  /** Maximizes expected profit (calibrated probabilities, default economics): the bundle's default threshold. */
  readonly maxExpectedProfit: ThresholdPoint;
  /** Maximizes the realized profit on the held-out labels (reported, noisier). */
  readonly maxRealizedProfit: ThresholdPoint;
  readonly maxF1: ThresholdPoint;
  /** cost / value when the value per response is a constant: the break-even probability. */
  readonly breakEven?: number;
}

/**
 * Sweeps every distinct held-out probability as a threshold (contact rows with p ≥ t) and picks the
 * profit- and F1-optimal ones. `values` gives the per-row value when the economics name a value column.
 *
 * @param p calibrated P(positive) per held-out row. @param y 1 for responders, else 0.
 * @example
 * chooseThresholds(p, y, { costPerContact: 2, valuePerResponse: 40, ... }).maxExpectedProfit.threshold; // ≈ 0.05
 */
export function chooseThresholds(p: ArrayLike<number>, y: ArrayLike<number>, economics: CampaignEconomics, values?: ArrayLike<number>): ThresholdChoice {
  const n = p.length;
  if (n === 0) throw new RangeError('chooseThresholds needs at least one held-out row');
  const constant = typeof economics.valuePerResponse === 'number' ? economics.valuePerResponse : undefined;
  // A response's gain to the campaign: value × saveRate (retention: only the saved are won).
  const gainShare = economics.saveRate ?? 1;
  if (constant === undefined && (!values || values.length !== n)) {
    throw new RangeError('economics value per response is a column: pass one value per held-out row');
  }
  const valueOf = (i: number) => (constant ?? values![i]!) * gainShare;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
  let totalPositives = 0;
  for (let i = 0; i < n; i++) totalPositives += y[i] === 1 ? 1 : 0;

  const cost = economics.costPerContact;
  let expected = 0;
  let realized = 0;
  let truePositives = 0;
  // Contacting nobody (no campaign, no fixed cost) is the option to beat.
  const nobody: ThresholdPoint = { threshold: 1, contacts: 0, expectedProfit: 0, realizedProfit: 0, f1: 0 };
  const best: { expected: ThresholdPoint; realized: ThresholdPoint; f1?: ThresholdPoint } = { expected: nobody, realized: nobody };
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && p[order[j + 1]!] === p[order[i]!]) j++;
    for (let k = i; k <= j; k++) {
      const row = order[k]!;
      expected += p[row]! * valueOf(row) - cost;
      realized += (y[row] === 1 ? valueOf(row) : 0) - cost;
      truePositives += y[row] === 1 ? 1 : 0;
    }
    const contacts = j + 1;
    const precision = truePositives / contacts;
    const recall = totalPositives > 0 ? truePositives / totalPositives : 0;
    const point: ThresholdPoint = {
      threshold: p[order[j]!]!,
      contacts,
      expectedProfit: expected - economics.fixedCost,
      realizedProfit: realized - economics.fixedCost,
      f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    };
    if (point.expectedProfit > best.expected.expectedProfit) best.expected = point;
    if (point.realizedProfit > best.realized.realizedProfit) best.realized = point;
    if (!best.f1 || point.f1 > best.f1.f1) best.f1 = point;
    i = j + 1;
  }
  return {
    maxExpectedProfit: best.expected,
    maxRealizedProfit: best.realized,
    maxF1: best.f1!,
    ...(constant !== undefined && constant * gainShare > 0 ? { breakEven: cost / (constant * gainShare) } : {}),
  };
}
