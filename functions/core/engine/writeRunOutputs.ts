import type { Writable } from 'node:stream';
import { ExtractError } from '../errors.js';
import { CampaignAccumulator, type CampaignOutcome } from '../economics/campaignAccumulator.js';
import type { CampaignEconomics } from '../economics/campaignEconomics.js';
import { ScoreHistogram } from '../economics/scoreHistogram.js';
import { SegmentSelector, type SegmentOutcome } from '../economics/segmentSelection.js';
import { countSelected, mergeAllProfiles, type RunProfile } from '../drift/runProfile.js';
import { idColumn } from '../spec/featureSpec.js';
import { csvRecord, formatProbability, type CsvTextOptions } from './csvText.js';
import { formatReport } from './formatReport.js';
import type { LoadedBundle } from './loadBundle.js';
import type { OutputTarget } from './outputTarget.js';
import { OUTPUT_FILES, type RunOutcome } from './runOutputs.js';
import { DEFAULT_MAX_REJECT_RATE, assertRejectRate } from './rejectRateGuard.js';
import { buildRunSummary } from './runSummary.js';
import type { ScoredPart } from './scoredPart.js';
import { unspoolLine, type SpoolChannel } from './spool.js';
import { endStream, writeText } from './textStreams.js';

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
  await writeText(scores, csvRecord(scoresHeader, csv));
  for (const part of parts) {
    // A spooled line is `<exact score>|<row>`: the exact score gives the decile, known only now.
    await copySpool(part, 'scores', scores, (spooled) => {
      const line = unspoolLine(spooled);
      const bar = line.indexOf('|');
      return `${line.slice(bar + 1)},${decileOf(Number(line.slice(0, bar)))}\n`;
    });
  }
  await endStream(scores);

  const rejects = output.open(OUTPUT_FILES.rejects);
  await writeText(rejects, 'line,column,reason,detail,raw\n');
  for (const part of parts) await copySpool(part, 'rejects', rejects, (line) => `${unspoolLine(line)}\n`);
  await endStream(rejects);

  const targets = output.open(OUTPUT_FILES.targets);
  if (campaign) {
    await writeText(targets, csvRecord([idName, 'rank', 'probability', 'value', 'expected_value'], csv));
    for (let i = 0; i < campaign.targets.length; i += 4096) {
      const rows = campaign.targets.slice(i, i + 4096).map((t) => csvRecord([t.id, t.rank, formatProbability(t.probability), t.value, t.expectedValue], csv));
      await writeText(targets, rows.join(''));
    }
  } else {
    await writeText(targets, csvRecord([idName, 'rank', 'segment', 'confidence', 'action'], csv));
    const list = segmentOutcome!.targets;
    for (let i = 0; i < list.length; i += 4096) {
      const rows = list.slice(i, i + 4096).map((t) => csvRecord([t.id, t.rank, t.segment, formatProbability(t.confidence), t.action ?? ''], csv));
      await writeText(targets, rows.join(''));
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
  let text = '';
  for await (const line of part.spool.lines(channel)) {
    text += rewrite(line);
    if (text.length > 1 << 16) {
      await writeText(out, text);
      text = '';
    }
  }
  if (text) await writeText(out, text);
}

/** The parts' profiles merged, plus the run's selection (known only once every part is in). */
function runProfile(parts: readonly ScoredPart[], selected: readonly number[]): RunProfile | null {
  const profiles = parts.map((p) => p.profile).filter((p): p is RunProfile => p !== null);
  if (profiles.length === 0) return null;
  const merged = structuredClone(mergeAllProfiles(profiles));
  for (const p of selected) countSelected(merged, p);
  return merged;
}
