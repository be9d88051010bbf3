import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { jsonSyntaxError } from '../../core/validation.js';
import { placeholderNotice, resolveEconomics } from '../../core/economics/campaignEconomics.js';
import { formatReport, labelsLine } from '../../core/engine/formatReport.js';
import { loadBundle } from '../../core/engine/loadBundle.js';
import { OUTPUT_FILES, type RunOutcome } from '../../core/engine/runOutputs.js';
import { scoreExtract } from '../../core/engine/scoreExtract.js';
import { localByteRanges } from '../../adapters/fs/localByteRanges.js';
import { LocalOutputTarget } from '../../adapters/fs/localOutputTarget.js';
import { scoreInParts } from '../../adapters/workers/scoreInParts.js';
import { defaultWorkers } from '../../adapters/workers/workerLimits.js';
import { tempFileSpool } from '../../adapters/fs/tempFileSpool.js';
import { progressReporter } from '../progress.js';
import { resolveBundle } from '../resolveBundle.js';
import { loadModel } from '../../adapters/model/modelLoader.js';
import { LocalContactHistory, loadSuppressionFiles } from '../../adapters/fs/localContactPolicy.js';

export interface ScoreCommandOptions {
  readonly model: string;
  readonly input: string;
  readonly out: string;
  readonly economics?: string;
  /** `--suppress FILE` (repeatable): suppression lists. */
  readonly suppress?: readonly string[];
  /** `--history DIR`: the contact history (DIR/<model>/<run-id>.csv) the frequency cap counts, and where this run's contacts go. */
  readonly history?: string;
  readonly batchSize?: number;
  /** Share of rows (0–1) the run may reject before it fails. */
  readonly maxRejectRate?: number;
  readonly quiet?: boolean;
  /** False with `--no-csv-protection`: CSV cells are written as they are, formulas included. */
  readonly csvProtection?: boolean;
  /** `--max-bytes`, `--max-rows`, `--max-record-bytes`: input bounds (defaults: 20 GiB, 200 million lines, 1 MiB). */
  readonly maxBytes?: number;
  readonly maxRows?: number;
  readonly maxRecordBytes?: number;
  /** `--skip-layout-check`: score even when the first rows look nothing like the training data. */
  readonly skipLayoutCheck?: boolean;
  /** `--workers`: worker threads (default: the cores this process may use). */
  readonly workers?: number;
  /** `--parts`: byte ranges of the extract (default: one per worker; a gzip extract is one). */
  readonly parts?: number;
}

/** Reads a per-run economics file (JSON), naming the file in any error. */
export async function readEconomicsFile(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    // A syntax error's own message quotes the file's text around the fault: keep its position only.
    const why = cause instanceof SyntaxError ? jsonSyntaxError(cause) : `cannot read JSON: ${(cause as Error).message}`;
    throw new ConfigError('ECONOMICS_INVALID', why, { key: '(file)', source: file, cause });
  }
}

/** `propensity score`: one local extract in, the run's outputs in a local folder. */
export async function scoreCommand(options: ScoreCommandOptions): Promise<RunOutcome> {
  const files = await resolveBundle(options.model);
  const overrides = options.economics ? await readEconomicsFile(options.economics) : undefined;
  const economics = resolveEconomics(files.manifest.economics, overrides, options.economics ?? `${files.location} economics`);
  const workers = options.workers ?? defaultWorkers();
  const parts = options.parts ?? workers;
  const inParts = workers > 1 || parts > 1;
  // A run in parts scores on worker threads, each with its own model: this thread loads one only if the
  // plan leaves the file whole (a gzip or small file).
  const asOf = new Date();
  const suppression = options.suppress?.length ? await loadSuppressionFiles(options.suppress, asOf) : null;
  const runId = path.basename(path.resolve(options.out));
  const history = options.history ? new LocalContactHistory(path.join(options.history, files.manifest.name)) : null;
  if (economics.frequencyCap && !history) throw new ConfigError('USAGE', 'a frequency cap needs the contact history: pass --history DIR', { key: 'frequencyCap', source: options.economics ?? `${files.location} economics` });
  const overCap = economics.frequencyCap && history ? await history.overCap(economics.frequencyCap, asOf, runId) : null;
  const bundle = await loadBundle(files, loadModel, { modelOnFirstUse: inParts });
  const progress = options.quiet ? undefined : progressReporter(path.basename(options.input));
  try {
    const run = {
      input: createReadStream(options.input),
      source: options.input,
      bundle,
      economics,
      suppression,
      overCap,
      output: new LocalOutputTarget(options.out),
      spool: tempFileSpool(),
      runId,
      csvInjectionProtection: options.csvProtection ?? true,
      layoutCheck: !options.skipLayoutCheck,
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      ...(options.maxRejectRate !== undefined ? { maxRejectRate: options.maxRejectRate } : {}),
      limits: {
        ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
        ...(options.maxRows !== undefined ? { maxRows: options.maxRows } : {}),
        ...(options.maxRecordBytes !== undefined ? { maxRecordBytes: options.maxRecordBytes } : {}),
      },
      ...(progress ? { onProgress: progress.update } : {}),
    };
    // One part is today's single pass in this thread; more go to worker threads (see scoreInParts).
    const outcome =
      !inParts
        ? await scoreExtract(run)
        : await scoreInParts({ ...run, extract: { kind: 'file', file: options.input }, bytes: () => localByteRanges(options.input), bundleFiles: files, workers, parts });
    progress?.stop();
    // After the commit: a run that failed contacted no one.
    if (history) await history.record(runId, path.join(options.out, 'targets.csv'), asOf, outcome.summary.csvInjectionProtection);
    if (!options.quiet) {
      const { summary } = outcome;
      const notices = [placeholderNotice(summary.economics), summary.labels ? labelsLine(summary.labels) : null].filter((line) => line !== null);
      process.stdout.write(`${formatReport(summary)}\n${notices.map((line) => `${line}\n`).join('')}Outputs: ${path.resolve(options.out)}\nHTML report: ${path.resolve(options.out, OUTPUT_FILES.reportHtml)}\n`);
    }
    return outcome;
  } finally {
    progress?.stop();
    await bundle.model.dispose();
  }
}
