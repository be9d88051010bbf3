import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readCommittedRunFile } from '../../adapters/fs/committedRunFile.js';
import { SUCCESS_FILE } from '../../adapters/fs/localOutputTarget.js';
import { MANIFEST_FILE } from '../../core/bundle/bundleManifest.js';
import type { DriftReport } from '../../core/drift/checkDrift.js';
import { parseRunProfile, PROFILE_FILE, type RunProfile } from '../../core/drift/runProfile.js';
import { OUTPUT_FILES } from '../../core/engine/runOutputs.js';
import type { RunSummary } from '../../core/engine/runSummary.js';
import { ConfigError } from '../../core/errors.js';
import { collectDriftHistory, isDriftHistoryFile, renderDriftReport } from '../../core/report/driftReport.js';
import { renderRunReport } from '../../core/report/runReport.js';
import { renderTrainingReport } from '../../core/report/trainingReport.js';
import { resolveBundle } from '../resolveBundle.js';

export interface ReportCommandOptions {
  /** A finished run folder, a bundle (folder, registry model folder or bundled name), or a drift report JSON. */
  readonly input: string;
  /** Where to write the HTML. @default see {@link reportCommand} */
  readonly out?: string;
}

const exists = (file: string) => stat(file).then(() => true, () => false);

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ConfigError('CONFIG_INVALID', `is not JSON: ${(cause as Error).message}`, { key: '(file)', source, cause });
  }
}

async function runReport(dir: string): Promise<string> {
  const summary = parseJson(await readCommittedRunFile(dir, OUTPUT_FILES.summary), path.join(dir, OUTPUT_FILES.summary)) as RunSummary;
  if (summary?.status !== 'complete' || typeof summary.rows !== 'object') {
    throw new ConfigError('CONFIG_INVALID', 'is not the summary.json of a finished scoring run', { key: '(file)', source: path.join(dir, OUTPUT_FILES.summary) });
  }
  let profile: RunProfile | null = null;
  if (await exists(path.join(dir, PROFILE_FILE))) profile = parseRunProfile(parseJson(await readCommittedRunFile(dir, PROFILE_FILE), path.join(dir, PROFILE_FILE)), path.join(dir, PROFILE_FILE));
  return renderRunReport(summary, profile);
}

async function driftReport(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  const report = parseJson(text, file) as DriftReport;
  if (report?.schemaVersion !== 1 || !Array.isArray(report.features) || typeof report.status !== 'string' || typeof report.performance !== 'object') {
    throw new ConfigError('CONFIG_INVALID', 'is not a drift report (schemaVersion 1 with features, status and performance)', { key: '(file)', source: file });
  }
  // Beside it, a drift folder copied from S3 holds earlier reports and realized performance.
  const dir = path.dirname(file);
  const names = (await readdir(dir)).filter(isDriftHistoryFile);
  const files = [];
  for (const name of names) {
    try {
      // The report itself is usually among them: its text is already here.
      files.push({ name, json: JSON.parse(name === path.basename(file) ? text : await readFile(path.join(dir, name), 'utf8')) as unknown });
    } catch {
      // Not JSON: not history.
    }
  }
  return renderDriftReport(report, collectDriftHistory(files));
}

/**
 * `propensity report <input>`: renders the HTML report of a finished scoring run folder (to
 * `<run>/report.html`), a model bundle (its training report, to `<model>-<version>.report.html` in
 * the current folder: a bundle's own files are never rewritten), or a drift report JSON (to the same
 * path with `.html`). Returns the path written.
 * @throws ConfigError for an input that is none of the three; DriftError for an unfinished run.
 * @example await reportCommand({ input: '/tmp/run' }) // '/tmp/run/report.html'
 */
export async function reportCommand(options: ReportCommandOptions): Promise<string> {
  const input = options.input;
  const info = await stat(input).catch(() => undefined);
  let html: string;
  let out: string;
  if (info?.isFile()) {
    if (!input.endsWith('.json')) throw new ConfigError('USAGE', 'give a run folder, a bundle, or a drift report .json', { key: 'INPUT', source: input });
    html = await driftReport(input);
    out = input.replace(/\.json$/, '.html');
  } else if (
    info?.isDirectory() &&
    ((await exists(path.join(input, SUCCESS_FILE))) || (!(await exists(path.join(input, MANIFEST_FILE))) && (await exists(path.join(input, OUTPUT_FILES.summary)))))
  ) {
    // A run folder; one without _SUCCESS is refused by the same rule every reader of run outputs follows.
    html = await runReport(input);
    out = path.join(input, OUTPUT_FILES.reportHtml);
  } else {
    const bundle = await resolveBundle(input);
    html = await renderTrainingReport(bundle.manifest);
    out = `${bundle.manifest.name}-${bundle.manifest.version}.report.html`;
  }
  const target = options.out ?? out;
  await writeFile(target, html);
  return target;
}
