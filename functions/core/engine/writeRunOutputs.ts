import type { Writable } from 'node:stream';
import { ExtractError } from '../errors.js';
import type { CampaignEconomics } from '../economics/campaignEconomics.js';
import { campaignRoi, type CampaignRoi } from '../economics/campaignRoi.js';
import { ScoreHistogram } from '../economics/scoreHistogram.js';
import { SegmentSelector, type SegmentSummary } from '../economics/segmentSelection.js';
import { budgetContacts } from '../economics/targetSelection.js';
import { mergeAllProfiles, type RunProfile } from '../drift/runProfile.js';
import { idColumn } from '../spec/featureSpec.js';
import { csvRecord, type CsvTextOptions } from './csvText.js';
import { writeCampaignTargets, writeSegmentTargets } from './targetLists.js';
import { formatReport } from './formatReport.js';
import type { LoadedBundle } from './loadBundle.js';
import type { OutputTarget } from './outputTarget.js';
import { OUTPUT_FILES, type RunOutcome } from './runOutputs.js';
import { DEFAULT_MAX_REJECT_RATE, assertRejectRate } from './rejectRateGuard.js';
import { buildRunSummary } from './runSummary.js';
import type { ScoredPart } from './scoredPart.js';
import { BIN_DIGITS, unspoolLine, type SpoolChannel } from './spool.js';
import { endStream, lineBatches, writeText } from './textStreams.js';

export interface RunOutputsContext {
  readonly bundle: LoadedBundle;
  readonly economics: CampaignEconomics;
  readonly output: OutputTarget;
  /** The whole extract's name, for the summary and errors. */
  readonly source: string;
  readonly startedAt: Date;
  /** Share of rows (0–1) the run may reject. @default the spec's `file.maxRejectRate`, else 0.05 */
  readonly maxRejectRate?: number | undefined;
}

/**
 * Merges the parts of a run (in file order) and writes scores, rejects, targets, profile, report
 * and summary to the output target, then commits it. Merging the parts of a file gives exactly the
 * outputs of scoring it whole. The parts' spools are read, not disposed of: their holder does that.
 *
 * @throws ExtractError EXTRACT_NO_ROWS when the parts hold no row at all; EXTRACT_TOO_MANY_REJECTS
 * when they rejected more than the limit (see {@link assertRejectRate}), before any output is written.
 * @example
 * const { summary } = await writeRunOutputs([first, second], { bundle, economics, output, source: file, startedAt });
 */
export async function writeRunOutputs(parts: readonly ScoredPart[], context: RunOutputsContext): Promise<RunOutcome> {
  const { bundle, output } = context;
  const first = parts[0];
  if (!first) throw new Error('writeRunOutputs needs at least one part');
  const rowsRead = parts.reduce((n, p) => n + p.rowsRead, 0);
  if (rowsRead === 0) {
    throw new ExtractError('EXTRACT_NO_ROWS', 'the extract has a header but no rows', { file: context.source, line: 2 });
  }
  const csvInjectionProtection = first.csvInjectionProtection;
  if (parts.some((p) => p.csvInjectionProtection !== csvInjectionProtection)) {
    throw new Error('writeRunOutputs: the parts disagree on csvInjectionProtection');
  }
  const csv: CsvTextOptions = { injectionProtection: csvInjectionProtection };
  assertRejectRate(parts, context.maxRejectRate ?? bundle.featureSpec.spec.file.maxRejectRate ?? DEFAULT_MAX_REJECT_RATE, context.source);
  const multiclass = first.task === 'multiclass';
  const { economics } = context;
  const histogram = new ScoreHistogram(first.histogram.bins);
  for (const part of parts) histogram.merge(part.histogram);
  const segments = multiclass
    ? new SegmentSelector({ classes: bundle.manifest.classes, actions: bundle.manifest.actions ?? null, maxContacts: 0 })
    : null;
  for (const part of parts) if (segments) segments.merge(part.segments!);

  const idName = idColumn(bundle.featureSpec.spec)?.name ?? 'line';
  const classes = bundle.manifest.classes;
  const scoresHeader = multiclass
    ? [idName, ...classes.map((c) => `p_${c}`), 'predicted', 'confidence', 'decile']
    : [idName, 'probability', 'predicted', 'decile'];

  // A spooled scored line is `<histogram bin>|<row>`: the decile of each bin is known only now.
  const decileByBin = histogram.decilesByBin();
  const scores = output.open(OUTPUT_FILES.scores);
  await writeText(scores, csvRecord(scoresHeader, csv));
  for (const part of parts) await copyScoredLines(part, decileByBin, scores);
  await endStream(scores);

  const rejects = output.open(OUTPUT_FILES.rejects);
  await writeText(rejects, 'line,column,reason,detail,raw\n');
  for (const part of parts) await copySpool(part, 'rejects', rejects, (line) => `${unspoolLine(line)}\n`);
  await endStream(rejects);

  const profile = mergedProfile(parts);
  const targets = output.open(OUTPUT_FILES.targets);
  const runs = parts.flatMap((part) => part.rankedRuns.map((channel) => ({ spool: part.spool, channel })));
  let campaign: CampaignRoi | null = null;
  let segmentSummaries: SegmentSummary[] | null = null;
  let selected: number;
  if (!multiclass) {
    await writeText(targets, csvRecord([idName, 'rank', 'probability', 'value', 'expected_value'], csv));
    const chosen = await writeCampaignTargets(runs, economics, targets, profile);
    selected = chosen.selection.contacts;
    const everyone = histogram.totals();
    campaign = campaignRoi(
      economics,
      {
        scored: everyone.customers,
        selection: chosen.selection,
        everyone: { contacts: everyone.customers, probabilityUnits: everyone.probabilityUnits, gainMicros: everyone.gainMicros },
        best: chosen.best,
      },
      budgetContacts(economics),
    );
  } else {
    await writeText(targets, csvRecord([idName, 'rank', 'segment', 'confidence', 'action'], csv));
    const perSegment = await writeSegmentTargets(runs, economics, targets, profile, segments!, csv);
    selected = perSegment.reduce((n, k) => n + k, 0);
    segmentSummaries = segments!.finish().segments.map((s, c) => ({ ...s, selected: perSegment[c]! }));
  }
  await endStream(targets);

  const summary = buildRunSummary({
    parts,
    bundle,
    economics,
    source: context.source,
    startedAt: context.startedAt,
    histogram,
    campaign,
    deciles: multiclass ? null : histogram.deciles(economics),
    segments: segmentSummaries,
    selected,
  });
  if (profile) {
    const profileStream = output.open(OUTPUT_FILES.profile);
    await writeText(profileStream, `${JSON.stringify(profile)}\n`);
    await endStream(profileStream);
  }
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

/** Streams one spool channel of a part into an output, rewriting each line on the way. */
async function copySpool(part: ScoredPart, channel: SpoolChannel, out: Writable, rewrite: (line: string) => string): Promise<void> {
  for await (const lines of lineBatches(part.spool.bytes(channel))) {
    let text = '';
    for (let i = 0; i < lines.length; i++) text += rewrite(lines[i]!);
    await writeText(out, text);
  }
}

const LF = 0x0a;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;
const ZERO = 0x30;

/**
 * Copies a part's scored lines into scores.csv as bytes, replacing each line's bin prefix by the
 * bin's decile at the end of the row: no decoding or string per row (a million rows a second is
 * the point). A row holding a backslash was spool-escaped and goes through {@link unspoolLine}.
 */
async function copyScoredLines(part: ScoredPart, decileByBin: Readonly<Uint8Array>, out: Writable): Promise<void> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of part.spool.bytes('scores')) {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (carry.length > 0) {
      // Only the line cut at the last chunk's end is stitched together, not the whole chunk.
      const lf = buf.indexOf(LF);
      if (lf === -1) {
        carry = Buffer.concat([carry, buf]);
        continue;
      }
      const stitched = Buffer.concat([carry, buf.subarray(0, lf + 1)]);
      await writeText(out, scoredLinesAsCsv(stitched, decileByBin).bytes);
      buf = buf.subarray(lf + 1);
    }
    const { bytes, rest } = scoredLinesAsCsv(buf, decileByBin);
    carry = Buffer.from(rest);
    if (bytes.length > 0) await writeText(out, bytes);
  }
  if (carry.length > 0) throw new Error(`${part.source}: the scored spool ends inside a line`);
}

/** The complete scored lines of `buf` as scores.csv rows, and what follows the last line feed. */
function scoredLinesAsCsv(buf: Buffer, decileByBin: Readonly<Uint8Array>): { bytes: Buffer; rest: Buffer } {
  // Each line loses its prefix (BIN_DIGITS + 1 bytes) and gains at most 3 (",10"): never longer.
  const copy = Buffer.allocUnsafe(buf.length);
  let o = 0;
  let start = 0;
  let backslash = buf.indexOf(BACKSLASH);
  for (let lf = buf.indexOf(LF); lf !== -1; lf = buf.indexOf(LF, start)) {
    let bin = 0;
    for (let k = 0; k < BIN_DIGITS; k++) bin = bin * 10 + buf[start + k]! - ZERO;
    const rowStart = start + BIN_DIGITS + 1;
    if (backslash !== -1 && backslash < rowStart) backslash = buf.indexOf(BACKSLASH, rowStart);
    if (backslash !== -1 && backslash < lf) o += copy.write(unspoolLine(buf.toString('utf8', rowStart, lf)), o, 'utf8');
    else {
      // A byte loop: a row is a few dozen bytes, where Buffer#copy's call costs more than the copy.
      for (let i = rowStart; i < lf; i++) copy[o++] = buf[i]!;
    }
    const decile = decileByBin[bin]!;
    copy[o++] = COMMA;
    if (decile === 10) {
      copy[o++] = ZERO + 1;
      copy[o++] = ZERO;
    } else copy[o++] = ZERO + decile;
    copy[o++] = LF;
    start = lf + 1;
  }
  return { bytes: copy.subarray(0, o), rest: buf.subarray(start) };
}

/** The parts' profiles merged (a copy: the run's selection is counted into it as targets are written). */
function mergedProfile(parts: readonly ScoredPart[]): RunProfile | null {
  const profiles = parts.map((p) => p.profile).filter((p): p is RunProfile => p !== null);
  if (profiles.length === 0) return null;
  return structuredClone(mergeAllProfiles(profiles));
}
