import type { DriftBaseline } from './driftBaseline.js';
import type { RunProfile } from './runProfile.js';
import { toProportions } from './divergence.js';

/** A feature's (or the score's) distribution on its baseline bins: shares of the non-missing values. */
export interface BinnedDistribution {
  /** A readable name per bin: `≤ 30`, `(30, 45]`, `> 60`, or the category. */
  readonly bins: readonly string[];
  readonly baseline: readonly number[];
  /** Shares of the runs' non-missing values; all zero when the runs had none. */
  readonly current: readonly number[];
}

/** Baseline against current distributions, for the drift report's charts (`report.distributions`). */
export interface DriftDistributions {
  readonly features: ReadonlyArray<BinnedDistribution & { readonly name: string; readonly kind: 'numeric' | 'categorical' }>;
  /** Null when the baseline has no score distribution. */
  readonly score: BinnedDistribution | null;
}

const edge = (x: number) => String(Number(x.toPrecision(4)));

/** Names of right-closed bins between `edges`: `≤ e0`, `(e0, e1]`, …, `> eLast`. */
export function binLabels(edges: readonly number[]): string[] {
  if (edges.length === 0) return ['all'];
  return [`≤ ${edge(edges[0]!)}`, ...edges.slice(1).map((e, i) => `(${edge(edges[i]!)}, ${edge(e)}]`), `> ${edge(edges.at(-1)!)}`];
}

/**
 * The runs' distribution beside the baseline's, per feature and for the score, on the bins the drift
 * check compared (so the chart shows exactly what the PSI measured). A few KB per model.
 */
export function driftDistributions(baseline: DriftBaseline, profile: RunProfile): DriftDistributions {
  const features = baseline.features.map((f, i) => {
    const counts = profile.features[i]!.counts;
    return {
      name: f.name,
      kind: f.kind,
      bins: f.kind === 'numeric' ? binLabels(f.edges) : [...f.categories],
      baseline: [...f.proportions],
      current: toProportions(counts),
    };
  });
  const score = baseline.score ? { bins: binLabels(baseline.score.edges), baseline: [...baseline.score.proportions], current: toProportions(profile.score.counts) } : null;
  return { features, score };
}
