import { DriftError } from '../errors.js';
import { checkDrift, driftExitCode, parseDriftOptions, type DriftReport } from './checkDrift.js';
import { parseDriftBaseline } from './driftBaseline.js';
import { driftDistributions } from './driftDistributions.js';
import { formatDriftReport } from './formatDriftReport.js';
import { mergeAllProfiles, parseRunProfile, PROFILE_FILE, type RunProfile } from './runProfile.js';

export interface ProfileSource {
  /** Where the profile came from (a path or `s3://…` key), for messages. */
  readonly source: string;
  /** The parsed `profile.json`, validated here. */
  readonly profile: unknown;
}

export interface DriftCheckInput {
  /** The bundle manifest's `baseline` field (validated here). */
  readonly baseline: unknown;
  readonly profiles: readonly ProfileSource[];
  /** Drift options as read from config (validated here); defaults when absent. */
  readonly options?: unknown;
  readonly model?: string;
  readonly modelVersion?: string;
  /** Time of the check; defaults to now. */
  readonly now?: Date;
}

export interface DriftCheckResult {
  readonly report: DriftReport;
  /** The readable summary ({@link formatDriftReport}). */
  readonly summary: string;
  /** 3 when drift is alerted, else 0 (for the CLI). */
  readonly exitCode: 0 | 3;
  /** Sources left out because they were counted on another baseline (another model version). */
  readonly skipped: readonly string[];
}

/**
 * What `propensity drift` and the scheduled drift function call: validates the baseline, the
 * options and every profile, merges the profiles counted on this baseline (others — runs of an
 * earlier model version — are skipped with a warning), checks drift and formats the summary.
 *
 * @throws DriftError when the baseline or a profile is invalid, or no profile fits the baseline.
 * @throws ConfigError when the options are invalid.
 * @example
 * const { report, summary, exitCode } = runDriftCheck({ baseline: manifest.baseline, profiles, model: manifest.name });
 */
export function runDriftCheck(input: DriftCheckInput): DriftCheckResult {
  if (input.baseline === undefined) throw new DriftError(`the model bundle${input.model ? ` ${input.model}` : ''} has no drift baseline`);
  const baseline = parseDriftBaseline(input.baseline, `${input.model ?? 'bundle'} baseline`);
  const options = parseDriftOptions(input.options ?? {});
  if (input.profiles.length === 0) throw new DriftError('no run profiles to check: score some extracts first');

  const matching: RunProfile[] = [];
  const skipped: string[] = [];
  for (const { source, profile } of input.profiles) {
    const parsed = parseRunProfile(profile, source);
    if (parsed.baselineId === baseline.id) matching.push(parsed);
    else skipped.push(source);
  }
  if (matching.length === 0) {
    throw new DriftError(
      `none of the ${input.profiles.length} run profiles was counted on the bundle's baseline ${baseline.id} (they belong to another model version)`,
    );
  }
  const merged = mergeAllProfiles(matching);
  const checked = checkDrift(baseline, merged, options, {
    checkedAt: (input.now ?? new Date()).toISOString(),
    ...(input.model !== undefined ? { model: input.model } : {}),
    ...(input.modelVersion !== undefined ? { modelVersion: input.modelVersion } : {}),
  });
  const report: DriftReport = { ...checked, distributions: driftDistributions(baseline, merged) };
  const withSkips: DriftReport =
    skipped.length === 0
      ? report
      : { ...report, warnings: [...report.warnings, `${skipped.length} profile(s) of another baseline left out: ${skipped.join(', ')}`] };
  return { report: withSkips, summary: formatDriftReport(withSkips), exitCode: driftExitCode(withSkips), skipped };
}

/** Where the scheduled check writes its report: `drift/<model>/<YYYY-MM-DD>.json`, `.txt` for the summary, `.html` for the page with charts, `.retrain.json` for a retraining, `.realized.json` for realized performance. */
export function driftReportKeys(model: string, date: Date, driftPrefix = 'drift/'): { report: string; summary: string; html: string; retrain: string; realized: string } {
  const day = date.toISOString().slice(0, 10);
  const base = `${driftPrefix}${model}/${day}`;
  return { report: `${base}.json`, summary: `${base}.txt`, html: `${base}.html`, retrain: `${base}.retrain.json`, realized: `${base}.realized.json` };
}

/**
 * Picks the run profiles of one model written since `since` from an S3 listing of `outputs/<model>/`:
 * keys `outputs/<model>/<run>/profile.json`, newest first, at most `limit`.
 */
export function selectRecentProfiles(
  objects: ReadonlyArray<{ readonly key: string; readonly lastModified: Date }>,
  options: { readonly model: string; readonly since: Date; readonly limit?: number; readonly outputsPrefix?: string },
): string[] {
  const prefix = `${options.outputsPrefix ?? 'outputs/'}${options.model}/`;
  return objects
    .filter((o) => o.key.startsWith(prefix) && o.key.endsWith(`/${PROFILE_FILE}`) && o.key.slice(prefix.length).split('/').length === 2)
    .filter((o) => o.lastModified.getTime() >= options.since.getTime())
    .sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime() || (a.key < b.key ? 1 : -1))
    .slice(0, options.limit ?? Number.POSITIVE_INFINITY)
    .map((o) => o.key);
}
