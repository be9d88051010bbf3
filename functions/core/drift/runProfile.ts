import { z } from 'zod';
import { DriftError } from '../errors.js';
import { parseWith } from '../validation.js';
import { baselineCategories, featureColumns, type FittedSpec } from '../spec/featureSpec.js';
import type { RunObserver } from '../engine/runObserver.js';
import { binIndex, type DriftBaseline } from './driftBaseline.js';

/**
 * The run profile (`profile.json`): what one scoring run saw, counted on its baseline's bins.
 * Every figure is an integer count, so profiles of the parts of an extract add up exactly to the
 * profile of the whole ({@link mergeProfiles}), whatever the order. Kilobytes, not megabytes.
 */

export const PROFILE_FILE = 'profile.json';

/** Equal-width score bins on [0, 1] for label-free performance estimates (CBPE). */
export const SCORE_HISTOGRAM_BINS = 100;

/** Probabilities are summed as integer millionths so that sums, too, merge exactly. */
export const MICROS = 1_000_000;

const count = z.number().int().nonnegative();

const numericFeatureProfileSchema = z
  .object({ name: z.string(), kind: z.literal('numeric'), counts: z.array(count), missing: count })
  .strict();
const categoricalFeatureProfileSchema = z
  .object({
    name: z.string(),
    kind: z.literal('categorical'),
    /** Per vocabulary slot; unseen values are counted in the `other` slot and again in `unseen`. */
    counts: z.array(count),
    missing: count,
    unseen: count,
  })
  .strict();
export const featureProfileSchema = z.union([numericFeatureProfileSchema, categoricalFeatureProfileSchema]);

export const scoreProfileSchema = z
  .object({
    /** On the baseline's score bins (one bin when the baseline has no score distribution). */
    counts: z.array(count),
    /** {@link SCORE_HISTOGRAM_BINS} equal-width bins: row counts and Σp in millionths per bin. */
    histogram: z.object({ counts: z.array(count), sumMicros: z.array(count) }).strict(),
  })
  .strict();

export const runProfileSchema = z
  .object({
    schemaVersion: z.literal(1),
    /** The baseline whose bins these counts are on. */
    baselineId: z.string().min(1),
    model: z.string().optional(),
    modelVersion: z.string().optional(),
    /** Ids of the scoring runs counted here, sorted. */
    runs: z.array(z.string()),
    /** Rows that were encoded (rejected rows are not profiled). */
    rows: count,
    features: z.array(featureProfileSchema),
    score: scoreProfileSchema,
    /** The run's selection (target list): how many were contacted and their Σp in millionths. */
    selection: z.object({ contacts: count, sumMicros: count }).strict(),
  })
  .strict();

export type FeatureProfile = z.infer<typeof featureProfileSchema>;
export type RunProfile = z.infer<typeof runProfileSchema>;

/**
 * Validates a parsed `profile.json`.
 * @throws DriftError naming the source and the first invalid path.
 */
export function parseRunProfile(value: unknown, source = PROFILE_FILE): RunProfile {
  return parseWith(runProfileSchema, value, ({ path, message }) => new DriftError(`${source}: ${path}: ${message}`));
}

/**
 * Checks that a baseline was built for this fitted spec (same features, same order, same
 * vocabularies), so observer column numbers mean the same thing on both sides.
 * @throws DriftError naming the first feature that differs.
 */
export function assertBaselineFitsSpec(baseline: DriftBaseline, fitted: FittedSpec): void {
  const columns = featureColumns(fitted.spec);
  if (columns.length !== baseline.features.length) {
    throw new DriftError(`baseline has ${baseline.features.length} features, the feature spec ${columns.length}`);
  }
  columns.forEach((column, i) => {
    const feature = baseline.features[i]!;
    const fit = fitted.columns[column.name];
    if (feature.name !== column.name || !fit || fit.kind !== feature.kind) {
      throw new DriftError(`baseline feature ${i} is "${feature.name}" (${feature.kind}), the feature spec has "${column.name}"`);
    }
    if (feature.kind === 'categorical' && fit.kind === 'categorical' && baselineCategories(fit).categories.join('\u0000') !== feature.categories.join('\u0000')) {
      throw new DriftError(`baseline categories of "${feature.name}" differ from the fitted vocabulary`);
    }
  });
}

function emptyProfile(baseline: DriftBaseline, meta: ProfileMeta): RunProfile {
  return {
    schemaVersion: 1,
    baselineId: baseline.id,
    ...(meta.model !== undefined ? { model: meta.model } : {}),
    ...(meta.modelVersion !== undefined ? { modelVersion: meta.modelVersion } : {}),
    runs: meta.runId !== undefined ? [meta.runId] : [],
    rows: 0,
    features: baseline.features.map((f) =>
      f.kind === 'numeric'
        ? { name: f.name, kind: 'numeric', counts: new Array<number>(f.edges.length + 1).fill(0), missing: 0 }
        : { name: f.name, kind: 'categorical', counts: new Array<number>(f.categories.length).fill(0), missing: 0, unseen: 0 },
    ),
    score: {
      counts: new Array<number>((baseline.score?.edges.length ?? 0) + 1).fill(0),
      histogram: {
        counts: new Array<number>(SCORE_HISTOGRAM_BINS).fill(0),
        sumMicros: new Array<number>(SCORE_HISTOGRAM_BINS).fill(0),
      },
    },
    selection: { contacts: 0, sumMicros: 0 },
  };
}

/** The profiled score of one output row: P(positive), or the top probability of a multiclass row. */
export function rowScore(probabilities: ArrayLike<number>, row: number, width: number): number {
  if (width === 1) return probabilities[row]!;
  let best = Number.NaN;
  for (let k = 0; k < width; k++) {
    const p = probabilities[row * width + k]!;
    if (!(p <= best)) best = p;
  }
  return best;
}

/** Equal-width histogram bin of a probability; 1.0 goes to the last bin. */
export function histogramBin(p: number): number {
  return Math.min(SCORE_HISTOGRAM_BINS - 1, Math.max(0, Math.floor(p * SCORE_HISTOGRAM_BINS)));
}

/** Every encoded row reports each feature once, so the first feature's calls count the rows. */
const ROW_COUNTING_COLUMN = 0;

export interface ProfileMeta {
  readonly model?: string;
  readonly modelVersion?: string;
  /** Id of the scoring run (e.g. its output folder name). */
  readonly runId?: string;
}

/**
 * Counts one scoring run on the baseline's bins: the engine's {@link RunObserver} (the row
 * encoder's observer plus `score` per batch of model outputs), and the run's selection.
 *
 * @example
 * const profile = new ProfileAccumulator(baseline, { model: 'bank-marketing', runId });
 * const encoder = compileEncoder(fitted, header, source, { observer: profile });
 * // … or: scorePart({ …, observer: profile }); then profile.addSelection(totals of the target list)
 * await writeJson('profile.json', profile.toProfile());
 */
export class ProfileAccumulator implements RunObserver {
  private readonly profile: RunProfile;
  private readonly numericEdges: Array<readonly number[] | null>;
  private readonly otherIndex: number[];
  private readonly scoreEdges: readonly number[];

  constructor(baseline: DriftBaseline, meta: ProfileMeta = {}) {
    this.profile = emptyProfile(baseline, meta);
    this.numericEdges = baseline.features.map((f) => (f.kind === 'numeric' ? f.edges : null));
    this.otherIndex = baseline.features.map((f) => (f.kind === 'categorical' ? f.otherIndex : -1));
    this.scoreEdges = baseline.score?.edges ?? [];
  }

  numeric(column: number, value: number): void {
    const edges = this.numericEdges[column];
    const feature = this.profile.features[column];
    if (!edges || feature?.kind !== 'numeric') throw new DriftError(`observer column ${column} is not a numeric feature of the baseline`);
    if (column === ROW_COUNTING_COLUMN) this.profile.rows++;
    if (Number.isNaN(value)) feature.missing++;
    else feature.counts[binIndex(edges, value)]!++;
  }

  category(column: number, slot: number, unseen: boolean): void {
    const feature = this.profile.features[column];
    if (feature?.kind !== 'categorical') throw new DriftError(`observer column ${column} is not a categorical feature of the baseline`);
    if (column === ROW_COUNTING_COLUMN) this.profile.rows++;
    if (slot < 0 && !unseen) {
      feature.missing++;
      return;
    }
    const index = slot < 0 ? this.otherIndex[column]! : slot;
    if (index >= feature.counts.length) throw new DriftError(`slot ${slot} of "${feature.name}" is outside the baseline's ${feature.counts.length} categories`);
    feature.counts[index]!++;
    if (unseen) feature.unseen++;
  }

  /**
   * A batch of model outputs, `rows × width` row-major (the engine's {@link RunObserver} hook).
   * Binary models (width 1) are profiled on P(positive); multiclass models on the top class's
   * probability (the model's confidence), as the baseline was.
   * @example accumulator.score(Float32Array.of(0.12, 0.87)); // two binary rows
   */
  score(probabilities: ArrayLike<number>, rows = probabilities.length, width = 1): void {
    const { counts, histogram } = this.profile.score;
    for (let row = 0; row < rows; row++) {
      const p = rowScore(probabilities, row, width);
      if (Number.isNaN(p)) continue;
      counts[binIndex(this.scoreEdges, p)]!++;
      const bin = histogramBin(p);
      histogram.counts[bin]!++;
      histogram.sumMicros[bin]! += Math.round(p * MICROS);
    }
  }

  /** One customer of the run's selection (target list), with its probability. */
  selected(probability: number): void {
    countSelected(this.profile, probability);
  }

  /**
   * The whole selection at once, when only its totals are known (the engine picks the target list
   * after scoring every part): contacts and expected responses (Σp).
   */
  addSelection(totals: { readonly contacts: number; readonly expectedResponses: number }): void {
    this.profile.selection.contacts += totals.contacts;
    this.profile.selection.sumMicros += Math.round(totals.expectedResponses * MICROS);
  }

  /** A copy of the profile counted so far (plain JSON). */
  toProfile(): RunProfile {
    return structuredClone(this.profile);
  }
}

/** Counts one selected customer into a profile (Σp in millionths, so selections merge exactly). */
export function countSelected(profile: RunProfile, probability: number): void {
  profile.selection.contacts++;
  profile.selection.sumMicros += Math.round(probability * MICROS);
}

function addCounts(a: readonly number[], b: readonly number[], what: string): number[] {
  if (a.length !== b.length) throw new DriftError(`cannot merge profiles: ${what} has ${a.length} and ${b.length} bins`);
  return a.map((x, i) => x + b[i]!);
}

/**
 * Adds two profiles counted on the same baseline. Exact (integer counts), commutative and
 * associative: the profiles of an extract's parts merge to the profile of the whole extract.
 *
 * @throws DriftError when the profiles were counted on different baselines or bins.
 */
export function mergeProfiles(a: RunProfile, b: RunProfile): RunProfile {
  if (a.baselineId !== b.baselineId) {
    throw new DriftError(`cannot merge profiles of different baselines (${a.baselineId} and ${b.baselineId})`);
  }
  if (a.features.length !== b.features.length) {
    throw new DriftError(`cannot merge profiles: ${a.features.length} and ${b.features.length} features`);
  }
  const features = a.features.map((fa, i): FeatureProfile => {
    const fb = b.features[i]!;
    if (fa.name !== fb.name || fa.kind !== fb.kind) {
      throw new DriftError(`cannot merge profiles: feature ${i} is "${fa.name}" in one and "${fb.name}" in the other`);
    }
    const counts = addCounts(fa.counts, fb.counts, `feature "${fa.name}"`);
    return fa.kind === 'categorical' && fb.kind === 'categorical'
      ? { name: fa.name, kind: 'categorical', counts, missing: fa.missing + fb.missing, unseen: fa.unseen + fb.unseen }
      : { name: fa.name, kind: 'numeric', counts, missing: fa.missing + fb.missing };
  });
  const same = (x: string | undefined, y: string | undefined) => (x === y ? x : undefined);
  const model = same(a.model, b.model);
  const modelVersion = same(a.modelVersion, b.modelVersion);
  return {
    schemaVersion: 1,
    baselineId: a.baselineId,
    ...(model !== undefined ? { model } : {}),
    ...(modelVersion !== undefined ? { modelVersion } : {}),
    runs: [...new Set([...a.runs, ...b.runs])].sort(),
    rows: a.rows + b.rows,
    features,
    score: {
      counts: addCounts(a.score.counts, b.score.counts, 'the score'),
      histogram: {
        counts: addCounts(a.score.histogram.counts, b.score.histogram.counts, 'the score histogram'),
        sumMicros: addCounts(a.score.histogram.sumMicros, b.score.histogram.sumMicros, 'the score histogram'),
      },
    },
    selection: {
      contacts: a.selection.contacts + b.selection.contacts,
      sumMicros: a.selection.sumMicros + b.selection.sumMicros,
    },
  };
}

/** Merges any number of profiles (at least one). @throws DriftError on an empty list or mismatched baselines. */
export function mergeAllProfiles(profiles: readonly RunProfile[]): RunProfile {
  const [first, ...rest] = profiles;
  if (!first) throw new DriftError('no run profiles to merge');
  return rest.reduce(mergeProfiles, first);
}
