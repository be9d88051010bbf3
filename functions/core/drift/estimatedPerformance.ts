import { MICROS, type RunProfile } from './runProfile.js';

/**
 * Performance without labels, in the spirit of NannyML's CBPE (confidence-based performance
 * estimation): when probabilities are calibrated, a customer scored p responds with probability p,
 * so the expected confusion matrix of any selection follows from the scores alone.
 */
export interface EstimatedPerformance {
  /** Rows with a score. */
  readonly rows: number;
  /** Σp over all scored rows: the responses expected if everyone were contacted. */
  readonly expectedResponses: number;
  readonly expectedResponseRate: number;
  /** The run's selection (target list); null when the run recorded none. */
  readonly selection: {
    readonly contacts: number;
    readonly expectedResponses: number;
    /** Expected share of responders among the contacted (Σp / contacts). */
    readonly expectedPrecision: number;
    /** Expected share of all responders that the selection reaches (Σp selected / Σp all). */
    readonly expectedRecall: number;
    /** Expected precision ÷ expected response rate: how much better than contacting at random. */
    readonly expectedLift: number;
  } | null;
  /**
   * ROC AUC expected from the score histogram: each bin holds Σp expected positives and
   * n − Σp expected negatives; ties within a bin count one half. Null without both classes.
   */
  readonly estimatedAuc: number | null;
}

/**
 * Estimates response rate, the selection's precision and recall, and AUC from a (merged) run profile.
 *
 * @example
 * const estimate = estimatePerformance(profile);
 * estimate.selection?.expectedPrecision; // e.g. 0.31: about 31 % of the contacted are expected to respond
 */
export function estimatePerformance(profile: RunProfile): EstimatedPerformance {
  const { counts, sumMicros } = profile.score.histogram;
  let rows = 0;
  let totalMicros = 0;
  for (let i = 0; i < counts.length; i++) {
    rows += counts[i]!;
    totalMicros += sumMicros[i]!;
  }
  const expectedResponses = totalMicros / MICROS;
  const { contacts } = profile.selection;
  const selectedResponses = profile.selection.sumMicros / MICROS;
  const expectedResponseRate = rows > 0 ? expectedResponses / rows : 0;
  const expectedPrecision = contacts > 0 ? selectedResponses / contacts : 0;
  return {
    rows,
    expectedResponses,
    expectedResponseRate,
    selection:
      contacts > 0
        ? {
            contacts,
            expectedResponses: selectedResponses,
            expectedPrecision,
            expectedRecall: expectedResponses > 0 ? selectedResponses / expectedResponses : 0,
            expectedLift: expectedResponseRate > 0 ? expectedPrecision / expectedResponseRate : 0,
          }
        : null,
    estimatedAuc: histogramAuc(counts, sumMicros),
  };
}

function histogramAuc(counts: readonly number[], sumMicros: readonly number[]): number | null {
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < counts.length; i++) {
    positives += sumMicros[i]! / MICROS;
    negatives += counts[i]! - sumMicros[i]! / MICROS;
  }
  if (positives <= 0 || negatives <= 0) return null;
  // Walk from the highest bin down: each negative outranks nothing above it, ties count half.
  let positivesAbove = 0;
  let pairs = 0;
  for (let i = counts.length - 1; i >= 0; i--) {
    const p = sumMicros[i]! / MICROS;
    const n = counts[i]! - p;
    pairs += n * (positivesAbove + p / 2);
    positivesAbove += p;
  }
  return pairs / (positives * negatives);
}
