import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, DriftError } from '../../core/errors.js';
import { runDriftCheck, type DriftCheckResult } from '../../core/drift/runDriftCheck.js';
import { PROFILE_FILE } from '../../core/drift/runProfile.js';
import { readCommittedRunFile } from '../../adapters/fs/committedRunFile.js';
import { renderDriftReport } from '../../core/report/driftReport.js';
import { resolveBundle } from '../resolveBundle.js';

export interface DriftCommandOptions {
  /** Bundle folder, registry model folder, or bundled model name. */
  readonly model: string;
  /** Output folders of finished local scoring runs (a `_SUCCESS` listing `profile.json`), or profile files in such folders. */
  readonly runs: readonly string[];
  /** Where to write the report JSON. @default `drift-report.json` in the current folder */
  readonly report?: string;
  /** JSON file of drift options (thresholds, per-feature overrides, minRows). */
  readonly options?: string;
}

function parseJson(text: string, file: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new DriftError(`${file}: ${what} is not JSON: ${(cause as Error).message}`, { cause });
  }
}

/**
 * `propensity drift --model BUNDLE RUN_DIR...`: compares the profiles of local scoring runs with
 * the bundle's baseline, writes the report JSON and its HTML page beside it (`.html` for `.json`),
 * and returns the summary to print and the exit code (3 when drift is alerted, else 0).
 *
 * @throws DriftError for a run that did not finish (no valid `_SUCCESS` listing its profile) or a bundle without a baseline; ConfigError for bad options.
 */
export async function driftCommand(options: DriftCommandOptions): Promise<DriftCheckResult & { readonly reportFile: string; readonly htmlFile: string }> {
  if (options.runs.length === 0) throw new ConfigError('USAGE', 'give at least one scoring run folder', { key: 'RUN_DIR' });
  const bundle = await resolveBundle(options.model);
  const profiles = [];
  for (const run of options.runs) {
    // Only finished runs count: a profile is read through its run's _SUCCESS, never on its own.
    const isDir = (await stat(run).catch(() => undefined))?.isDirectory() ?? false;
    const [dir, name] = isDir ? [run, PROFILE_FILE] : [path.dirname(run), path.basename(run)];
    const file = path.join(dir, name);
    profiles.push({ source: file, profile: parseJson(await readCommittedRunFile(dir, name), file, 'run profile (profile.json)') });
  }
  let driftOptions: unknown;
  if (options.options) {
    try {
      driftOptions = JSON.parse(await readFile(options.options, 'utf8'));
    } catch (cause) {
      throw new ConfigError('CONFIG_INVALID', `cannot read JSON: ${(cause as Error).message}`, { key: '(file)', source: options.options, cause });
    }
  }
  const result = runDriftCheck({
    baseline: bundle.manifest.baseline,
    profiles,
    options: driftOptions,
    model: bundle.manifest.name,
    modelVersion: bundle.manifest.version,
  });
  const reportFile = options.report ?? 'drift-report.json';
  await writeFile(reportFile, `${JSON.stringify(result.report, null, 2)}\n`);
  const htmlFile = `${reportFile.replace(/\.json$/i, '')}.html`;
  await writeFile(htmlFile, await renderDriftReport(result.report));
  return { ...result, reportFile, htmlFile };
}
