import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { readBundleDir } from '../../functions/adapters/fs/bundleDir.js';
import { LocalOutputTarget } from '../../functions/adapters/fs/localOutputTarget.js';
import { tempFileSpool } from '../../functions/adapters/fs/tempFileSpool.js';
import { loadModel } from '../../functions/adapters/model/modelLoader.js';
import { resolveEconomics } from '../../functions/core/economics/campaignEconomics.js';
import { loadBundle, type LoadedBundle } from '../../functions/core/engine/loadBundle.js';
import type { RunSummary } from '../../functions/core/engine/runSummary.js';
import { scoreExtract } from '../../functions/core/engine/scoreExtract.js';
import { PropensityError } from '../../functions/core/errors.js';
import type { BundleFiles } from '../../functions/core/bundle/registry.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The champion bundle of a bundled model in `model-store/`. */
export async function readBundledModel(name: string): Promise<BundleFiles> {
  const folder = path.join(REPO_ROOT, 'model-store', name);
  const { version } = JSON.parse(readFileSync(path.join(folder, 'champion.json'), 'utf8')) as { version: string };
  return readBundleDir(path.join(folder, version));
}

export interface LoadedModel {
  readonly files: BundleFiles;
  readonly bundle: LoadedBundle;
}

export async function loadBundledModel(name: string): Promise<LoadedModel> {
  const files = await readBundledModel(name);
  return { files, bundle: await loadBundle(files, loadModel, { intraOpNumThreads: 1 }) };
}

/** What a run ended in, read back from its output folder as a consumer would. */
export type RunResult =
  | { readonly kind: 'refused'; readonly error: PropensityError; readonly out: string; readonly files: string[] }
  | { readonly kind: 'scored'; readonly summary: RunSummary; readonly out: string; readonly files: string[] };

export interface RunInput {
  readonly bytes: Buffer;
  readonly source?: string;
  readonly maxRejectRate?: number;
  readonly economics?: Record<string, unknown>;
  /** Small batches put several batches through the model even on a tiny file. @default 4 */
  readonly batchSize?: number;
}

/**
 * Scores bytes in-process through `scoreExtract` into a fresh local folder. A `PropensityError` is a
 * refusal; anything else (a crash) is rethrown for the test to fail on.
 */
export async function runExtract(model: LoadedModel, input: RunInput): Promise<RunResult> {
  const out = await mkdtemp(path.join(tmpdir(), 'propensity-corpus-'));
  const options = {
    input: Readable.from([input.bytes]),
    source: input.source ?? 'extract.csv',
    bundle: model.bundle,
    economics: resolveEconomics(model.files.manifest.economics, input.economics),
    output: new LocalOutputTarget(out),
    spool: tempFileSpool(),
    batchSize: input.batchSize ?? 4,
    ...(input.maxRejectRate === undefined ? {} : { maxRejectRate: input.maxRejectRate }),
  };
  try {
    const { summary } = await scoreExtract(options);
    return { kind: 'scored', summary, out, files: (await readdir(out)).sort() };
  } catch (error) {
    if (!(error instanceof PropensityError)) throw error;
    return { kind: 'refused', error, out, files: (await readdir(out)).sort() };
  }
}

export const readCsv = async (out: string, name: string): Promise<string[][]> =>
  parse(await readFile(path.join(out, name), 'utf8'));

/** A cell a spreadsheet would run as a formula (README "CSV injection"): must not appear in any output. */
export function isFormulaCell(cell: string): boolean {
  return /^[=+\-@\t\r]/.test(cell) && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(cell);
}

/**
 * The contract of every finished run, whatever its input: a failed run leaves `error.json` with its code
 * and neither `_SUCCESS` nor `summary.json`; a finished one has rows read = scored + rejected, and a
 * `_SUCCESS` that lists every other file with its size and sha256. Returns the problems found.
 */
export async function contractProblems(result: RunResult): Promise<string[]> {
  const problems: string[] = [];
  const { out, files } = result;
  if (result.kind === 'refused') {
    if (files.includes('_SUCCESS')) problems.push('_SUCCESS written for a failed run');
    if (files.includes('summary.json')) problems.push('summary.json written for a failed run');
    if (!files.includes('error.json')) problems.push('no error.json');
    else {
      const written = JSON.parse(await readFile(path.join(out, 'error.json'), 'utf8')) as { status?: string; error?: { code?: string } };
      if (written.status !== 'failed' || written.error?.code !== result.error.code) problems.push(`error.json code ${written.error?.code} ≠ ${result.error.code}`);
    }
    return problems;
  }
  const { rows } = result.summary;
  if (rows.read !== rows.scored + rows.rejected) problems.push(`read ${rows.read} ≠ scored ${rows.scored} + rejected ${rows.rejected}`);
  if (files.includes('error.json')) problems.push('error.json beside a finished run');
  if (!files.includes('_SUCCESS')) return [...problems, 'no _SUCCESS'];
  const success = JSON.parse(await readFile(path.join(out, '_SUCCESS'), 'utf8')) as { files: Array<{ name: string; bytes: number; sha256: string }> };
  const listed = success.files.map((f) => f.name).sort();
  const present = files.filter((f) => f !== '_SUCCESS');
  if (JSON.stringify(listed) !== JSON.stringify(present)) problems.push(`_SUCCESS lists ${listed.join(' ')}, folder holds ${present.join(' ')}`);
  for (const f of success.files) {
    if (!existsSync(path.join(out, f.name))) continue;
    const bytes = await readFile(path.join(out, f.name));
    if (bytes.length !== f.bytes) problems.push(`${f.name}: ${bytes.length} bytes, _SUCCESS says ${f.bytes}`);
    if (createHash('sha256').update(bytes).digest('hex') !== f.sha256) problems.push(`${f.name}: sha256 differs from _SUCCESS`);
  }
  const summaryOnDisk = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as RunSummary;
  if (JSON.stringify(summaryOnDisk.rows) !== JSON.stringify(rows)) problems.push('summary.json rows differ from the returned summary');
  for (const name of ['scores.csv', 'targets.csv', 'rejects.csv']) {
    const rowsOf = await readCsv(out, name);
    const formula = rowsOf.flat().find(isFormulaCell);
    if (formula !== undefined) problems.push(`${name} holds a formula cell ${JSON.stringify(formula.slice(0, 40))}`);
  }
  const scores = await readCsv(out, 'scores.csv');
  const rejects = await readCsv(out, 'rejects.csv');
  if (scores.length - 1 !== rows.scored) problems.push(`scores.csv has ${scores.length - 1} rows, ${rows.scored} scored`);
  if (rejects.length - 1 !== rows.rejected) problems.push(`rejects.csv has ${rejects.length - 1} rows, ${rows.rejected} rejected`);
  return problems;
}
