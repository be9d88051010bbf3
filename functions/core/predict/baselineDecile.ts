import { binIndex, type DriftBaseline } from '../drift/driftBaseline.js';
import { decileOfRank } from '../economics/scoreHistogram.js';

/**
 * A customer's decile against the bundle's baseline score distribution (the validation scores the
 * model was trained with, `baseline.score` in the manifest), with the batch's decile rule
 * ({@link decileOfRank}): a score whose baseline bin has `above` of the `n` baseline scores in
 * higher bins is in decile ⌈(above + 1)·10 / n⌉, 1 = the highest scores.
 *
 * A batch run ranks its customers against each other (decile 1 = the run's top tenth); one online
 * request has no population of its own, so it ranks against the training-time population. The
 * baseline's bins are the same right-closed bins a run profile counts scores on (`binIndex`), so
 * the online deciles of a batch's customers are exactly its `profile.json` score counts.
 *
 * Returns null when the bundle has no baseline score distribution (then no decile is given).
 * @example baselineDecileOf(bundle.baseline)?.(0.31) // 2 for bank-marketing (its top edge is 0.3256)
 */
export function baselineDecileOf(baseline: DriftBaseline | null): ((score: number) => number) | null {
  const score = baseline?.score;
  if (!score) return null;
  // Proportions were taken from whole rows: back to counts, so the rule sees integers as a run does.
  const counts = score.proportions.map((share) => Math.round(share * score.rows));
  const n = counts.reduce((sum, count) => sum + count, 0);
  const decileByBin = new Uint8Array(counts.length);
  let above = 0;
  for (let bin = counts.length - 1; bin >= 0; bin--) {
    decileByBin[bin] = decileOfRank(above, n);
    above += counts[bin]!;
  }
  const { edges } = score;
  return (p) => decileByBin[binIndex(edges, p)]!;
}
