/**
 * Distances between two binned distributions: the population stability index (PSI) and the
 * Jensen–Shannon distance. Both take counts or proportions on the same bins, in the same order.
 */

/**
 * Proportion floor used by PSI: an empty bin would make `ln(a/e)` infinite. 1e-4 is the value most
 * credit-risk and monitoring tools use, so our PSI figures compare with theirs.
 */
export const PSI_EPSILON = 1e-4;

/** Counts (or weights) → proportions summing to 1; all zeros when the total is 0. */
export function toProportions(counts: readonly number[]): number[] {
  let total = 0;
  for (const c of counts) total += c;
  return counts.map((c) => (total > 0 ? c / total : 0));
}

function checkSameBins(expected: readonly number[], actual: readonly number[]): void {
  if (expected.length !== actual.length) {
    throw new RangeError(`distributions have ${expected.length} and ${actual.length} bins`);
  }
}

/**
 * Population stability index `Σ (a − e) · ln(a / e)` of `actual` against `expected`, with both
 * distributions normalised and floored at {@link PSI_EPSILON}. 0 means identical; ≥ 0.1 is usually
 * read as a moderate shift and ≥ 0.25 as a major one.
 *
 * @example
 * populationStabilityIndex([50, 50], [50, 50]); // 0
 * populationStabilityIndex([0.5, 0.5], [0.9, 0.1]); // ≈ 0.879
 */
export function populationStabilityIndex(expected: readonly number[], actual: readonly number[]): number {
  checkSameBins(expected, actual);
  const e = toProportions(expected);
  const a = toProportions(actual);
  let psi = 0;
  for (let i = 0; i < e.length; i++) {
    const ei = Math.max(e[i]!, PSI_EPSILON);
    const ai = Math.max(a[i]!, PSI_EPSILON);
    psi += (ai - ei) * Math.log(ai / ei);
  }
  return psi;
}

/**
 * Jensen–Shannon distance (the square root of the JS divergence, log base 2): symmetric, finite
 * with empty bins, and bounded by [0, 1] — a second view beside PSI, which is unbounded.
 *
 * @example
 * jensenShannonDistance([1, 0], [0, 1]); // 1
 */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  checkSameBins(p, q);
  const pp = toProportions(p);
  const qq = toProportions(q);
  let divergence = 0;
  for (let i = 0; i < pp.length; i++) {
    const pi = pp[i]!;
    const qi = qq[i]!;
    const mi = (pi + qi) / 2;
    if (pi > 0) divergence += 0.5 * pi * Math.log2(pi / mi);
    if (qi > 0) divergence += 0.5 * qi * Math.log2(qi / mi);
  }
  // Rounding can leave a tiny negative divergence for identical inputs.
  return Math.sqrt(Math.max(0, Math.min(1, divergence)));
}
