import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify/sync';
import { ExtractError, PropensityError, type RejectReason, type RowReject } from '../errors.js';
import { CampaignAccumulator, type CampaignOutcome } from '../economics/campaignAccumulator.js';
import type { CampaignEconomics } from '../economics/campaignEconomics.js';
import { ScoreHistogram } from '../economics/scoreHistogram.js';
import { SegmentSelector, type SegmentOutcome } from '../economics/segmentSelection.js';
import { countSelected, mergeAllProfiles, PROFILE_FILE, ProfileAccumulator, type RunProfile } from '../drift/runProfile.js';
import { openExtract, type ExtractReadOptions } from '../extract/readExtract.js';
import { parseDecimal } from '../spec/cellParsers.js';
import { idColumn } from '../spec/featureSpec.js';
import { compileEncoder, type EncodeObserver } from '../spec/rowEncoder.js';
import { csvField, formatProbability } from './csvText.js';
import type { LoadedBundle } from './loadBundle.js';
import type { OutputFileRecord, OutputTarget } from './outputTarget.js';
import { buildRunSummary, type RunSummary } from './runSummary.js';

export const DEFAULT_BATCH_SIZE = 8192;
export const OUTPUT_FILES = {
  scores: 'scores.csv',
  targets: 'targets.csv',
  summary: 'summary.json',
  rejects: 'rejects.csv',
  report: 'report.md',
  profile: PROFILE_FILE,
} as const;

export interface ScoreProgress {
  readonly rowsRead: number;
  readonly rowsScored: number;
  readonly rowsRejected: number;
}

/** Hooks a run profile (drift) into the encoder without a second parse. */
export interface RunObserver extends EncodeObserver {
  score(probabilities: Float32Array, rows: number, width: number): void;
}

export interface ScorePartOptions {
  /** Extract bytes (plain or gzip). */
  readonly input: NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
  /** File name or S3 key: every error and reject names it. */
  readonly source: string;
  readonly bundle: LoadedBundle;
  readonly economics: CampaignEconomics;
  readonly batchSize?: number;
  /** For a byte range of a larger file: the header of the whole file and the range's first line. */
  readonly part?: { readonly headerFields: string[]; readonly firstLine: number };
  /** Sees every good row and every batch of scores, besides the run profile the engine keeps. */
  readonly observer?: RunObserver;
  /** Id of the run (its output folder), recorded in the run profile. */
  readonly runId?: string;
  readonly onProgress?: (progress: ScoreProgress) => void;
}

/**
 * What scoring one extract (or one part of it) produced, before the outputs are written.
 * Parts are merged by {@link writeRunOutputs}, which treats them in file order.
 */
export interface ScoredPart {
  readonly source: string;
  readonly task: 'binary' | 'multiclass';
  readonly rowsRead: number;
  readonly rowsScored: number;
  readonly rowsRejected: number;
  readonly rejectReasons: Partial<Record<RejectReason, number>>;
  readonly unseenCategories: Record<string, number>;
  readonly delimiter: string;
  /** Binary: histogram, policy selection and best selection. */
  readonly campaign: CampaignAccumulator | null;
  /** Multiclass: segments and the confidence histogram that gives deciles. */
  readonly segments: SegmentSelector | null;
  readonly confidence: ScoreHistogram | null;
  /** What this part saw, on the bundle's drift baseline; null for a bundle without a baseline. */
  readonly profile: RunProfile | null;
  /** Local spool files: scored lines (prefixed with the exact ranking score) and reject lines. */
  readonly spool: { readonly dir: string; readonly scores: string; readonly rejects: string };
}

/** Writes text to a file stream, waiting when the stream asks to (bounded memory). */
async function writeText(stream: WriteStream | Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function closeStream(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'close');
}

/** The engine's own run profile and a caller's observer, both fed from one pass. */
function bothObservers(a: RunObserver | null, b: RunObserver | undefined): RunObserver | null {
  if (!a || !b) return a ?? b ?? null;
  return {
    numeric: (column, value) => (a.numeric(column, value), b.numeric(column, value)),
    category: (column, slot, unseen) => (a.category(column, slot, unseen), b.category(column, slot, unseen)),
    score: (probabilities, rows, width) => (a.score(probabilities, rows, width), b.score(probabilities, rows, width)),
  };
}

function rejectLine(reject: RowReject): string {
  return stringify([[reject.line, reject.column, reject.reason, reject.detail, reject.raw]]);
}

/**
 * Streams an extract through the feature spec and the model, batch by batch: parse → encode into a
 * preallocated Float32Array → score → accumulate economics and spool the scored lines. Memory is
 * bounded by the batch (plus the target list the policy keeps).
 *
 * @throws ExtractError for a file that cannot be scored at all (missing column, no rows, encoding…)
 */
export async function scorePart(options: ScorePartOptions): Promise<ScoredPart> {
  const { bundle, economics, source, observer } = options;
  const { manifest, featureSpec, model } = bundle;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const readOptions: ExtractReadOptions = {
    source,
    header: options.part ? false : featureSpec.spec.file.header,
    delimiter: featureSpec.spec.file.delimiter,
    ...(options.part ? { headerFields: options.part.headerFields, firstLine: options.part.firstLine } : {}),
  };
  const extract = await openExtract(options.input, readOptions);
  const header = options.part ? (featureSpec.spec.file.header ? options.part.headerFields : null) : extract.header;
  const profile = bundle.baseline
    ? new ProfileAccumulator(bundle.baseline, { model: manifest.name, modelVersion: manifest.version, ...(options.runId ? { runId: options.runId } : {}) })
    : null;
  const runObserver = bothObservers(profile, observer);
  const encoder = compileEncoder(featureSpec, header, source, runObserver ? { observer: runObserver } : {});
  const valueColumn = typeof economics.valuePerResponse === 'object' ? economics.valuePerResponse.column : null;
  const valueIndex = valueColumn ? encoder.valueIndex(valueColumn) : -1;
  const constantValue = typeof economics.valuePerResponse === 'number' ? economics.valuePerResponse : 0;

  const multiclass = manifest.task === 'multiclass';
  const classes = manifest.classes;
  const positive = manifest.positiveClass ?? classes[1]!;
  const negative = classes.find((c) => c !== positive) ?? classes[0]!;
  const threshold = manifest.threshold ?? 0.5;
  const campaign = multiclass ? null : new CampaignAccumulator(economics);
  const segments = multiclass
    ? new SegmentSelector({ classes, actions: manifest.actions ?? null, maxContacts: economics.budget.maxContacts ?? null })
    : null;
  const confidence = multiclass ? new ScoreHistogram() : null;

  const dir = await mkdtemp(path.join(tmpdir(), 'propensity-part-'));
  const spool = { dir, scores: path.join(dir, 'scores.spool'), rejects: path.join(dir, 'rejects.spool') };
  const scoresOut = createWriteStream(spool.scores);
  const rejectsOut = createWriteStream(spool.rejects);

  const width = encoder.width;
  const batch = new Float32Array(batchSize * width);
  const ids: string[] = new Array<string>(batchSize);
  const lines = new Float64Array(batchSize);
  const values = new Float64Array(batchSize);
  let filled = 0;
  let rowsRead = 0;
  let rowsScored = 0;
  let rowsRejected = 0;
  const rejectReasons: Partial<Record<RejectReason, number>> = {};

  const reject = async (item: RowReject) => {
    rowsRejected++;
    rejectReasons[item.reason] = (rejectReasons[item.reason] ?? 0) + 1;
    await writeText(rejectsOut, rejectLine(item));
  };

  const flush = async () => {
    if (filled === 0) return;
    const probabilities = await model.score(batch, filled);
    const out = model.outputWidth;
    runObserver?.score(probabilities, filled, out);
    let text = '';
    for (let row = 0; row < filled; row++) {
      const id = ids[row]!;
      const line = lines[row]!;
      if (!multiclass) {
        const p = probabilities[row]!;
        if (!(p >= 0 && p <= 1)) throw new PropensityError('MODEL_SHAPE_MISMATCH', `model returned ${p} for line ${line}, not a probability`, { isInputError: false });
        campaign!.offer(id, line, p, valueIndex >= 0 ? values[row]! : constantValue);
        text += `${p}|${csvField(id)},${formatProbability(p)},${p >= threshold ? positive : negative}\n`;
      } else {
        let best = 0;
        let fields = '';
        for (let k = 0; k < out; k++) {
          const p = probabilities[row * out + k]!;
          if (p > probabilities[row * out + best]!) best = k;
          fields += `,${formatProbability(p)}`;
        }
        const conf = probabilities[row * out + best]!;
        segments!.offer(id, line, best, Math.min(1, Math.max(0, conf)));
        confidence!.add(Math.min(1, Math.max(0, conf)), 0);
        text += `${conf}|${csvField(id)}${fields},${csvField(classes[best]!)},${formatProbability(conf)}\n`;
      }
    }
    await writeText(scoresOut, text);
    rowsScored += filled;
    filled = 0;
    options.onProgress?.({ rowsRead, rowsScored, rowsRejected });
  };

  try {
    for await (const item of extract.items) {
      rowsRead++;
      if (item.kind === 'reject') {
        await reject(item.reject);
        continue;
      }
      const { fields, line, raw } = item.record;
      // The value column is checked first: once the encoder accepts a row, the profile has counted it.
      if (valueIndex >= 0) {
        const value = parseDecimal((fields[valueIndex] ?? '').trim());
        if (!(value >= 0)) {
          await reject({ line, column: valueColumn!, reason: 'MISSING_VALUE_COLUMN', detail: `value "${fields[valueIndex] ?? ''}" is not a non-negative number`, raw });
          continue;
        }
        values[filled] = value;
      }
      const issue = encoder.encode(fields, batch, filled * width);
      if (issue) {
        await reject({ line, column: issue.column, reason: issue.reason, detail: issue.detail, raw });
        continue;
      }
      ids[filled] = encoder.idIndex === null ? String(line) : (fields[encoder.idIndex] ?? '').trim();
      lines[filled] = line;
      filled++;
      if (filled === batchSize) await flush();
    }
    await flush();
    await Promise.all([closeStream(scoresOut), closeStream(rejectsOut)]);
  } catch (error) {
    scoresOut.destroy();
    rejectsOut.destroy();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    source,
    task: manifest.task,
    rowsRead,
    rowsScored,
    rowsRejected,
    rejectReasons,
    unseenCategories: encoder.unseenCounts(),
    delimiter: extract.delimiter,
    campaign,
    segments,
    confidence,
    profile: profile?.toProfile() ?? null,
    spool,
  };
}

/** Streams a spool file line by line into an output, rewriting each line on the way. */
async function copySpool(file: string, out: Writable, rewrite: (line: string) => string): Promise<void> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let text = '';
  for await (const line of lines) {
    text += rewrite(line);
    if (text.length > 1 << 16) {
      await writeText(out, text);
      text = '';
    }
  }
  if (text) await writeText(out, text);
}

async function endStream(stream: Writable): Promise<void> {
  stream.end();
  await finished(stream, { readable: false });
}

export interface RunOutcome {
  readonly summary: RunSummary;
  readonly files: OutputFileRecord[];
}

/**
 * Merges the parts of a run (in file order) and writes scores, targets, rejects, summary and
 * report to the output target, then commits it. Merging the parts of a file gives exactly the
 * outputs of scoring it whole.
 */
export async function writeRunOutputs(
  parts: readonly ScoredPart[],
  context: { bundle: LoadedBundle; economics: CampaignEconomics; output: OutputTarget; source: string; startedAt: Date },
): Promise<RunOutcome> {
  const { bundle, output } = context;
  const first = parts[0];
  if (!first) throw new Error('writeRunOutputs needs at least one part');
  const rowsRead = parts.reduce((n, p) => n + p.rowsRead, 0);
  if (rowsRead === 0) {
    throw new ExtractError('EXTRACT_NO_ROWS', 'the extract has a header but no rows', { file: context.source, line: 2 });
  }
  const multiclass = first.task === 'multiclass';
  let campaign: CampaignOutcome | null = null;
  let segmentOutcome: SegmentOutcome | null = null;
  let decileOf: (score: number) => number;
  let confidenceHistogram: ScoreHistogram | null = null;
  if (!multiclass) {
    const merged = new CampaignAccumulator(context.economics);
    for (const part of parts) merged.merge(part.campaign!);
    campaign = merged.finish();
    decileOf = (p) => merged.decileOf(p);
  } else {
    const segments = new SegmentSelector({
      classes: bundle.manifest.classes,
      actions: bundle.manifest.actions ?? null,
      maxContacts: context.economics.budget.maxContacts ?? null,
    });
    confidenceHistogram = new ScoreHistogram();
    for (const part of parts) {
      segments.merge(part.segments!);
      confidenceHistogram.merge(part.confidence!);
    }
    segmentOutcome = segments.finish();
    const histogram = confidenceHistogram;
    decileOf = (p) => histogram.decileOf(p);
  }

  const idName = idColumn(bundle.featureSpec.spec)?.name ?? 'line';
  const classes = bundle.manifest.classes;
  const scoresHeader = multiclass
    ? [idName, ...classes.map((c) => `p_${c}`), 'predicted', 'confidence', 'decile']
    : [idName, 'probability', 'predicted', 'decile'];

  const scores = output.open(OUTPUT_FILES.scores);
  await writeText(scores, `${scoresHeader.map(csvField).join(',')}\n`);
  for (const part of parts) {
    await copySpool(part.spool.scores, scores, (line) => {
      const bar = line.indexOf('|');
      return `${line.slice(bar + 1)},${decileOf(Number(line.slice(0, bar)))}\n`;
    });
  }
  await endStream(scores);

  const rejects = output.open(OUTPUT_FILES.rejects);
  await writeText(rejects, 'line,column,reason,detail,raw\n');
  for (const part of parts) await copySpool(part.spool.rejects, rejects, (line) => `${line}\n`);
  await endStream(rejects);

  const targets = output.open(OUTPUT_FILES.targets);
  if (campaign) {
    await writeText(targets, stringify([[idName, 'rank', 'probability', 'value', 'expected_value']]));
    for (let i = 0; i < campaign.targets.length; i += 4096) {
      const rows = campaign.targets.slice(i, i + 4096).map((t) => [t.id, t.rank, formatProbability(t.probability), t.value, t.expectedValue]);
      await writeText(targets, stringify(rows));
    }
  } else {
    await writeText(targets, stringify([[idName, 'rank', 'segment', 'confidence', 'action']]));
    const list = segmentOutcome!.targets;
    for (let i = 0; i < list.length; i += 4096) {
      const rows = list.slice(i, i + 4096).map((t) => [t.id, t.rank, t.segment, formatProbability(t.confidence), t.action ?? '']);
      await writeText(targets, stringify(rows));
    }
  }
  await endStream(targets);

  const summary = buildRunSummary({
    parts,
    bundle,
    economics: context.economics,
    source: context.source,
    startedAt: context.startedAt,
    campaign,
    segments: segmentOutcome,
    confidence: confidenceHistogram,
  });
  const profile = runProfile(parts, campaign?.targets.map((t) => t.probability) ?? segmentOutcome!.targets.map((t) => t.confidence));
  if (profile) {
    const profileStream = output.open(OUTPUT_FILES.profile);
    await writeText(profileStream, `${JSON.stringify(profile)}\n`);
    await endStream(profileStream);
  }
  const { formatReport } = await import('./formatReport.js');
  const report = output.open(OUTPUT_FILES.report);
  await writeText(report, formatReport(summary));
  await endStream(report);
  // The summary is written last of the outputs: a reader that sees it sees everything else.
  const summaryStream = output.open(OUTPUT_FILES.summary);
  await writeText(summaryStream, `${JSON.stringify(summary, null, 2)}\n`);
  await endStream(summaryStream);
  const files = await output.commit();
  return { summary, files };
}

/** The parts' profiles merged, plus the run's selection (known only once every part is in). */
function runProfile(parts: readonly ScoredPart[], selected: readonly number[]): RunProfile | null {
  const profiles = parts.map((p) => p.profile).filter((p): p is RunProfile => p !== null);
  if (profiles.length === 0) return null;
  const merged = structuredClone(mergeAllProfiles(profiles));
  for (const p of selected) countSelected(merged, p);
  return merged;
}

export interface ScoreExtractOptions extends Omit<ScorePartOptions, 'part'> {
  readonly output: OutputTarget;
}

/**
 * Scores one whole extract and writes every output. On failure the output target is aborted
 * (`error.json`, nothing that looks complete) and the error rethrown.
 *
 * @example
 * const { summary } = await scoreExtract({ input: createReadStream(file), source: file, bundle, economics, output: new LocalOutputTarget(dir) });
 */
export async function scoreExtract(options: ScoreExtractOptions): Promise<RunOutcome> {
  const startedAt = new Date();
  let part: ScoredPart | undefined;
  try {
    part = await scorePart(options);
    return await writeRunOutputs([part], { bundle: options.bundle, economics: options.economics, output: options.output, source: options.source, startedAt });
  } catch (error) {
    await options.output.abort(error);
    throw error;
  } finally {
    if (part) await rm(part.spool.dir, { recursive: true, force: true });
  }
}
