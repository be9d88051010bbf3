import { z } from 'zod';
import { ConfigError, DriftError } from '../errors.js';
import { parseWith } from '../validation.js';
import { jensenShannonDistance, populationStabilityIndex } from './divergence.js';
import type { DriftBaseline, FeatureBaseline } from './driftBaseline.js';
import { estimatePerformance, type EstimatedPerformance } from './estimatedPerformance.js';
import type { DriftDistributions } from './driftDistributions.js';
import type { FeatureProfile, RunProfile } from './runProfile.js';

const featureThresholdsSchema = z
  .object({
    psiWarn: z.number().nonnegative().optional(),
    psiAlert: z.number().nonnegative().optional(),
    /** Leave the feature out of the verdict (still reported). */
    ignore: z.boolean().default(false),
  })
  .strict();

/** Drift check settings; every threshold is configurable, PSI also per feature. */
export const driftOptionsSchema = z
  .object({
    psiWarn: z.number().nonnegative().default(0.1),
    psiAlert: z.number().nonnegative().default(0.25),
    /** Absolute change in a feature's missing rate (0.1 = 10 percentage points). */
    missingRateWarn: z.number().nonnegative().default(0.05),
    missingRateAlert: z.number().nonnegative().default(0.1),
    /** Share of a categorical feature's non-missing values that were not in the training vocabulary. */
    unseenWarn: z.number().nonnegative().default(0.01),
    unseenAlert: z.number().nonnegative().default(0.05),
    scorePsiWarn: z.number().nonnegative().default(0.1),
    scorePsiAlert: z.number().nonnegative().default(0.25),
    /** Below this many rows the check reports figures and a warning, but no verdict. */
    minRows: z.number().int().nonnegative().default(500),
    /** Dataset drift when at least this share of the features drifted … */
    driftedShare: z.number().min(0).max(1).default(0.5),
    /** … or when any of this many most important features drifted. */
    topFeatures: z.number().int().nonnegative().default(3),
    features: z.record(z.string(), featureThresholdsSchema).default({}),
  })
  .strict();

export type DriftOptions = z.infer<typeof driftOptionsSchema>;
export type DriftOptionsInput = z.input<typeof driftOptionsSchema>;

/**
 * Validates drift settings and fills defaults.
 * @throws ConfigError naming the key (e.g. `psiAlert` below `psiWarn`).
 */
export function parseDriftOptions(value: unknown = {}, source = 'drift options'): DriftOptions {
  const options = parseWith(driftOptionsSchema, value ?? {}, ({ path, message }) => new ConfigError('CONFIG_INVALID', message, { key: path, source }));
  const pairs: Array<[string, number, number]> = [
    ['psiAlert', options.psiWarn, options.psiAlert],
    ['missingRateAlert', options.missingRateWarn, options.missingRateAlert],
    ['unseenAlert', options.unseenWarn, options.unseenAlert],
    ['scorePsiAlert', options.scorePsiWarn, options.scorePsiAlert],
    ...Object.entries(options.features).map(([name, f]): [string, number, number] => [
      `features.${name}.psiAlert`,
      f.psiWarn ?? options.psiWarn,
      f.psiAlert ?? options.psiAlert,
    ]),
  ];
  for (const [key, warn, alert] of pairs) {
    if (alert < warn) throw new ConfigError('CONFIG_INVALID', `alert threshold ${alert} is below the warn threshold ${warn}`, { key, source });
  }
  return options;
}

export type DriftLevel = 'ok' | 'warn' | 'alert';
/** `insufficient-data`: fewer rows than `minRows`, figures only, no verdict. */
export type DriftStatus = DriftLevel | 'insufficient-data';

export interface FeatureDrift {
  readonly name: string;
  readonly kind: 'numeric' | 'categorical';
  /** From the baseline's feature importance; null when none was recorded. */
  readonly importance: number | null;
  /** 1 = most important. */
  readonly importanceRank: number | null;
  /** On the non-missing values; null when the runs had none. */
  readonly psi: number | null;
  readonly jsDistance: number | null;
  readonly psiWarn: number;
  readonly psiAlert: number;
  readonly missingRate: { readonly baseline: number; readonly current: number; readonly change: number };
  /** Categorical: share of non-missing values unseen in training. Null for numeric features. */
  readonly unseenShare: number | null;
  readonly level: DriftLevel;
  /** What raised the level: `psi`, `missing-rate`, `unseen`. */
  readonly causes: readonly string[];
  readonly ignored: boolean;
}

export interface ScoreDrift {
  readonly psi: number;
  readonly jsDistance: number;
  readonly baselineMean: number;
  /** Mean score of the runs, from the score histogram (bin sums, exact to 1e-6). */
  readonly currentMean: number;
  readonly level: DriftLevel;
}

/** The drift report (`drift/<model>/<date>.json`). */
export interface DriftReport {
  readonly schemaVersion: 1;
  readonly model: string | null;
  readonly modelVersion: string | null;
  readonly baselineId: string;
  readonly checkedAt: string;
  readonly runs: readonly string[];
  readonly rows: number;
  readonly status: DriftStatus;
  /** Share-of-features or top-feature rule; null without a verdict. */
  readonly datasetDrift: boolean | null;
  readonly driftedFeatures: readonly string[];
  /** Drifted (alert-level) features ÷ features checked. */
  readonly driftedFeatureShare: number;
  /** Largest feature PSI (0 when none could be computed). */
  readonly featurePsiMax: number;
  /** Why the status is what it is, in words. */
  readonly reasons: readonly string[];
  readonly warnings: readonly string[];
  readonly options: DriftOptions;
  readonly features: readonly FeatureDrift[];
  /** Prediction drift; null when the baseline or the runs have no scores. */
  readonly score: ScoreDrift | null;
  readonly performance: EstimatedPerformance;
  /** Baseline against current distributions on the compared bins, for the HTML report; written by `runDriftCheck`. */
  readonly distributions?: DriftDistributions;
}

const LEVELS: readonly DriftLevel[] = ['ok', 'warn', 'alert'];
const worst = (a: DriftLevel, b: DriftLevel): DriftLevel => (LEVELS.indexOf(a) >= LEVELS.indexOf(b) ? a : b);
const levelOf = (value: number, warn: number, alert: number): DriftLevel => (value >= alert ? 'alert' : value >= warn ? 'warn' : 'ok');

function importanceRanks(importance: Record<string, number>): Map<string, number> {
  const ranked = Object.entries(importance).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return new Map(ranked.map(([name], i) => [name, i + 1]));
}

function compareFeature(
  baseline: FeatureBaseline,
  profile: FeatureProfile,
  options: DriftOptions,
  ranks: Map<string, number>,
  importance: Record<string, number>,
): FeatureDrift {
  const own = options.features[baseline.name];
  const psiWarn = own?.psiWarn ?? options.psiWarn;
  const psiAlert = own?.psiAlert ?? options.psiAlert;
  const observed = profile.counts.reduce((a, b) => a + b, 0);
  const rows = observed + profile.missing;
  const psi = observed > 0 ? populationStabilityIndex(baseline.proportions, profile.counts) : null;
  const jsDistance = observed > 0 ? jensenShannonDistance(baseline.proportions, profile.counts) : null;
  const currentMissing = rows > 0 ? profile.missing / rows : 0;
  const missingChange = currentMissing - baseline.missingRate;
  const unseenShare = profile.kind === 'categorical' ? (observed > 0 ? profile.unseen / observed : 0) : null;

  const causes: string[] = [];
  let level: DriftLevel = 'ok';
  const raise = (candidate: DriftLevel, cause: string) => {
    if (candidate === 'ok') return;
    causes.push(cause);
    level = worst(level, candidate);
  };
  if (psi !== null) raise(levelOf(psi, psiWarn, psiAlert), 'psi');
  raise(levelOf(Math.abs(missingChange), options.missingRateWarn, options.missingRateAlert), 'missing-rate');
  if (unseenShare !== null) raise(levelOf(unseenShare, options.unseenWarn, options.unseenAlert), 'unseen');

  return {
    name: baseline.name,
    kind: baseline.kind,
    importance: importance[baseline.name] ?? null,
    importanceRank: ranks.get(baseline.name) ?? null,
    psi,
    jsDistance,
    psiWarn,
    psiAlert,
    missingRate: { baseline: baseline.missingRate, current: currentMissing, change: missingChange },
    unseenShare,
    level,
    causes,
    ignored: own?.ignore ?? false,
  };
}

function compareScores(baseline: DriftBaseline, profile: RunProfile, options: DriftOptions): ScoreDrift | null {
  const scored = profile.score.counts.reduce((a, b) => a + b, 0);
  if (!baseline.score || scored === 0) return null;
  const psi = populationStabilityIndex(baseline.score.proportions, profile.score.counts);
  const sum = profile.score.histogram.sumMicros.reduce((a, b) => a + b, 0) / 1e6;
  return {
    psi,
    jsDistance: jensenShannonDistance(baseline.score.proportions, profile.score.counts),
    baselineMean: baseline.score.mean,
    currentMean: sum / scored,
    level: levelOf(psi, options.scorePsiWarn, options.scorePsiAlert),
  };
}

const fixed = (x: number) => x.toFixed(3);

/**
 * Compares a (merged) run profile with the bundle's baseline: PSI and Jensen–Shannon distance per
 * feature, change in missing rate, share of unseen categories, prediction drift, and the dataset
 * verdict — drift when the share of drifted features reaches `driftedShare` or any of the
 * `topFeatures` most important features drifted. The status is `alert` on dataset drift or on
 * alert-level score drift, `warn` when anything else moved, and `insufficient-data` (no verdict)
 * below `minRows` rows.
 *
 * @throws DriftError when the profile was counted on another baseline.
 * @example
 * const report = checkDrift(baseline, mergeAllProfiles(profiles), parseDriftOptions({ minRows: 1000 }));
 * if (report.status === 'alert') process.exitCode = 3;
 */
export function checkDrift(
  baseline: DriftBaseline,
  profile: RunProfile,
  options: DriftOptions = parseDriftOptions(),
  meta: { checkedAt?: string; model?: string; modelVersion?: string } = {},
): DriftReport {
  if (profile.baselineId !== baseline.id) {
    throw new DriftError(`the run profile was counted on baseline ${profile.baselineId}, not on this bundle's baseline ${baseline.id}`);
  }
  const ranks = importanceRanks(baseline.featureImportance);
  const features = baseline.features.map((f, i) => {
    const p = profile.features[i];
    if (!p || p.name !== f.name || p.kind !== f.kind || p.counts.length !== f.proportions.length) {
      throw new DriftError(`the run profile's feature ${i} does not match the baseline's "${f.name}"`);
    }
    return compareFeature(f, p, options, ranks, baseline.featureImportance);
  });
  const checked = features.filter((f) => !f.ignored);
  const drifted = checked.filter((f) => f.level === 'alert');
  const driftedFeatureShare = checked.length > 0 ? drifted.length / checked.length : 0;
  const featurePsiMax = checked.reduce((max, f) => Math.max(max, f.psi ?? 0), 0);
  const score = compareScores(baseline, profile, options);

  const reasons: string[] = [];
  const warnings: string[] = [];
  if (!baseline.score) warnings.push('the baseline has no score distribution: no prediction drift check');
  else if (!score) warnings.push('the runs recorded no scores: no prediction drift check');
  if (Object.keys(baseline.featureImportance).length === 0) warnings.push('the baseline has no feature importance: only the share-of-features rule applies');

  const topDrifted = drifted.filter((f) => f.importanceRank !== null && f.importanceRank <= options.topFeatures);
  const shareRule = checked.length > 0 && driftedFeatureShare >= options.driftedShare;
  let status: DriftStatus;
  let datasetDrift: boolean | null;
  if (profile.rows < options.minRows) {
    status = 'insufficient-data';
    datasetDrift = null;
    warnings.unshift(`only ${profile.rows} rows (minimum ${options.minRows}): figures are shown, but no verdict`);
  } else {
    datasetDrift = shareRule || topDrifted.length > 0;
    if (shareRule) reasons.push(`${drifted.length} of ${checked.length} features drifted (share ${fixed(driftedFeatureShare)} ≥ ${options.driftedShare})`);
    for (const f of topDrifted) reasons.push(`"${f.name}", the no. ${f.importanceRank} most important feature, drifted (${f.causes.join(', ')})`);
    if (score?.level === 'alert') reasons.push(`prediction drift: score PSI ${fixed(score.psi)} ≥ ${options.scorePsiAlert}`);
    const anyMovement = checked.some((f) => f.level !== 'ok') || (score !== null && score.level !== 'ok');
    status = datasetDrift || score?.level === 'alert' ? 'alert' : anyMovement ? 'warn' : 'ok';
    if (status === 'warn') {
      const moved = checked.filter((f) => f.level !== 'ok').map((f) => `${f.name} (${f.level})`);
      if (moved.length > 0) reasons.push(`features that moved, below the dataset-drift rule: ${moved.join(', ')}`);
      if (score && score.level === 'warn') reasons.push(`score PSI ${fixed(score.psi)} ≥ ${options.scorePsiWarn}`);
    }
    if (status === 'ok') reasons.push('no feature and no score moved beyond its warn threshold');
  }

  return {
    schemaVersion: 1,
    model: meta.model ?? profile.model ?? null,
    modelVersion: meta.modelVersion ?? profile.modelVersion ?? null,
    baselineId: baseline.id,
    checkedAt: meta.checkedAt ?? new Date().toISOString(),
    runs: profile.runs,
    rows: profile.rows,
    status,
    datasetDrift,
    driftedFeatures: drifted.map((f) => f.name),
    driftedFeatureShare,
    featurePsiMax,
    reasons,
    warnings,
    options,
    features,
    score,
    performance: estimatePerformance(profile),
  };
}

/** CLI exit code for a report: 3 when drift is alerted, 0 otherwise (warnings and no-verdict included). */
export function driftExitCode(report: Pick<DriftReport, 'status'>): 0 | 3 {
  return report.status === 'alert' ? 3 : 0;
}
