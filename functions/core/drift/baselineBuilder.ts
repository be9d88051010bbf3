import { createHash } from 'node:crypto';
import { DriftError } from '../errors.js';
import { baselineCategories, featureColumns, type FittedSpec } from '../spec/featureSpec.js';
import type { EncodeObserver } from '../spec/rowEncoder.js';
import { ValueBuffer } from '../spec/valueBuffer.js';
import { binIndex, type DriftBaseline, type FeatureBaseline, type ScoreBaseline } from './driftBaseline.js';
import { rowScore } from './runProfile.js';

/** Deciles, as the issue and most monitoring tools use. */
export const DEFAULT_BASELINE_BINS = 10;

/**
 * Interior bin edges at the quantiles 1/bins … (bins−1)/bins of sorted values. Edges are taken from
 * the data (no interpolation) and ties merged, and an edge at the maximum is dropped, so every bin
 * holds at least one training value: a discrete column like `pdays` (82 % at −1) gets fewer, honest bins.
 */
export function quantileEdges(sorted: Float64Array, bins: number): number[] {
  const n = sorted.length;
  if (n === 0) return [];
  const max = sorted[n - 1]!;
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = sorted[Math.max(0, Math.ceil((k / bins) * n) - 1)]!;
    if (edge < max && (edges.length === 0 || edge > edges[edges.length - 1]!)) edges.push(edge);
  }
  return edges;
}

/** Shares of sorted values per right-closed bin. */
function binProportions(sorted: Float64Array, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of sorted) counts[binIndex(edges, v)]!++;
  return counts.map((c) => (sorted.length > 0 ? c / sorted.length : 0));
}

function meanAndStd(values: Float64Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = values.length > 0 ? sum / values.length : 0;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { mean, std: values.length > 0 ? Math.sqrt(squares / values.length) : 0 };
}

/** A short, stable id of a baseline's bins (the parts a run profile is counted on). */
export function baselineIdOf(features: readonly FeatureBaseline[], score: ScoreBaseline | undefined): string {
  const shape = {
    features: features.map((f) => (f.kind === 'numeric' ? [f.name, f.edges] : [f.name, f.categories])),
    score: score?.edges ?? null,
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}

type Collector =
  | { kind: 'numeric'; name: string; values: ValueBuffer; missing: number }
  | { kind: 'categorical'; name: string; categories: string[]; otherIndex: number; counts: number[]; missing: number };

/**
 * Collects the training distributions of every feature (as an {@link EncodeObserver} of the row
 * encoder, so no second parse is needed) and the validation score distribution, then builds the
 * {@link DriftBaseline} stored in the bundle.
 *
 * @example
 * const builder = new BaselineBuilder(fitted);
 * const encoder = compileEncoder(fitted, header, 'train.csv', { observer: builder });
 * // … encode the training rows; then score held-out rows: builder.score(probabilities)
 * const baseline = builder.build({ featureImportance: { duration: 0.4, age: 0.1 } });
 */
export class BaselineBuilder implements EncodeObserver {
  private readonly collectors: Collector[];
  private readonly scores = new ValueBuffer();
  private readonly bins: number;

  constructor(fitted: FittedSpec, options: { bins?: number } = {}) {
    this.bins = options.bins ?? DEFAULT_BASELINE_BINS;
    this.collectors = featureColumns(fitted.spec).map((column): Collector => {
      const fit = fitted.columns[column.name];
      if (!fit) throw new DriftError(`fitted spec has no parameters for feature "${column.name}"`);
      if (fit.kind === 'numeric') return { kind: 'numeric', name: column.name, values: new ValueBuffer(), missing: 0 };
      const { categories, otherIndex } = baselineCategories(fit);
      return { kind: 'categorical', name: column.name, categories, otherIndex, counts: new Array<number>(categories.length).fill(0), missing: 0 };
    });
  }

  numeric(column: number, value: number): void {
    const collector = this.collectors[column];
    if (collector?.kind !== 'numeric') throw new DriftError(`observer column ${column} is not a numeric feature`);
    if (Number.isNaN(value)) collector.missing++;
    else collector.values.push(value);
  }

  category(column: number, slot: number, unseen: boolean): void {
    const collector = this.collectors[column];
    if (collector?.kind !== 'categorical') throw new DriftError(`observer column ${column} is not a categorical feature`);
    if (slot < 0 && !unseen) collector.missing++;
    else collector.counts[slot < 0 ? collector.otherIndex : slot]!++;
  }

  /**
   * Validation scores, `rows × width` row-major: P(positive) for binary models, the top class's
   * probability for multiclass ones (as `ProfileAccumulator.score` in runProfile.ts profiles them).
   */
  score(probabilities: ArrayLike<number>, rows = probabilities.length, width = 1): void {
    for (let row = 0; row < rows; row++) {
      const p = rowScore(probabilities, row, width);
      if (!Number.isNaN(p)) this.scores.push(p);
    }
  }

  /**
   * The baseline of everything observed so far.
   * @throws DriftError when no training rows were observed.
   */
  build(options: { featureImportance?: Record<string, number>; createdAt?: string } = {}): DriftBaseline {
    const features = this.collectors.map((collector): FeatureBaseline => {
      if (collector.kind === 'categorical') {
        const observed = collector.counts.reduce((a, b) => a + b, 0);
        const rows = observed + collector.missing;
        return {
          name: collector.name,
          kind: 'categorical',
          categories: collector.categories,
          otherIndex: collector.otherIndex,
          proportions: collector.counts.map((c) => (observed > 0 ? c / observed : 0)),
          missingRate: rows > 0 ? collector.missing / rows : 0,
        };
      }
      const sorted = collector.values.sorted();
      const rows = sorted.length + collector.missing;
      const edges = quantileEdges(sorted, this.bins);
      return {
        name: collector.name,
        kind: 'numeric',
        edges,
        proportions: binProportions(sorted, edges),
        ...meanAndStd(sorted),
        min: sorted.length > 0 ? sorted[0]! : 0,
        max: sorted.length > 0 ? sorted[sorted.length - 1]! : 0,
        missingRate: rows > 0 ? collector.missing / rows : 0,
      };
    });
    const rows = this.rowsObserved();
    if (rows === 0) throw new DriftError('no training rows were observed: the baseline needs the training data passed through the encoder');

    let score: ScoreBaseline | undefined;
    const scores = this.scores.sorted();
    if (scores.length > 0) {
      const edges = quantileEdges(scores, this.bins);
      score = { edges, proportions: binProportions(scores, edges), mean: meanAndStd(scores).mean, rows: scores.length };
    }
    return {
      schemaVersion: 1,
      id: baselineIdOf(features, score),
      createdAt: options.createdAt ?? new Date().toISOString(),
      rows,
      features,
      ...(score ? { score } : {}),
      featureImportance: { ...(options.featureImportance ?? {}) },
    };
  }

  private rowsObserved(): number {
    const first = this.collectors[0];
    if (!first) return 0;
    return first.kind === 'numeric' ? first.values.length + first.missing : first.counts.reduce((a, b) => a + b, 0) + first.missing;
  }
}
