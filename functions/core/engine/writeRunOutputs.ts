import type { Writable } from 'node:stream';
import { ExtractError } from '../errors.js';
import type { CampaignEconomics } from '../economics/campaignEconomics.js';
import { campaignFigures, campaignRoi, type CampaignRoi } from '../economics/campaignRoi.js';
import { profitCurve } from '../economics/profitCurve.js';
import { ScoreHistogram } from '../economics/scoreHistogram.js';
import { SegmentSelector, type SegmentSummary } from '../economics/segmentSelection.js';
import { budgetContacts } from '../economics/targetSelection.js';
import { mergeAllProfiles, type RunProfile } from '../drift/runProfile.js';
import { idColumn } from '../spec/featureSpec.js';
import { csvRecord, type CsvTextOptions } from './csvText.js';
import { writeCampaignTargets, writeSegmentTargets } from './targetLists.js';
import { formatReport } from './formatReport.js';
import { renderRunReport } from '../report/runReport.js';
import type { LoadedBundle } from './loadBundle.js';
import type { OutputTarget } from './outputTarget.js';
import { OUTPUT_FILES, type RunOutcome } from './runOutputs.js';
import { DEFAULT_MAX_REJECT_RATE, assertRejectRate } from './rejectRateGuard.js';
import { assertCustomersInOnePart } from './crossPartCustomers.js';
import { buildRunSummary, type ContactPolicySummary } from './runSummary.js';
import type { ScoredPart } from './scoredPart.js';
import { LabelTally, type RealizedTotals } from '../evaluation/labelTally.js';
import { renderScoredLines, type ScoresRenderer } from './scoredLines.js';
import { unspoolLine, type SpoolChannel } from './spool.js';
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
  /** Renders the parts' scored rows elsewhere (worker threads), in parallel with the other outputs. @default rendered here */
  readonly renderScores?: ScoresRenderer | undefined;
}

/**
 * Merges the parts of a run (in file order) and writes scores, rejects, targets, profile, report
 * and summary to the output target, then commits it. Merging the parts of a file gives exactly the
 * outputs of scoring it whole. The parts' spools are read, not disposed of: their holder does that.
 *
 * @throws ExtractError EXTRACT_NO_ROWS when the parts hold no row at all; EXTRACT_CUSTOMER_NOT_CONSECUTIVE
 * when a long extract's customer has rows in two parts (see {@link assertCustomersInOnePart});
 * EXTRACT_TOO_MANY_REJECTS when they rejected more than the limit (see {@link assertRejectRate});
 * each before any output is written.
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
  await assertLongCustomersInOnePart(parts, bundle, context.source);
  assertRejectRate(parts, context.maxRejectRate ?? bundle.featureSpec.spec.file.maxRejectRate ?? DEFAULT_MAX_REJECT_RATE, context.source);
  const multiclass = first.task === 'multiclass';
  const { economics } = context;
  const histogram = new ScoreHistogram(first.histogram.bins);
  for (const part of parts) histogram.merge(part.histogram);
  const segments = multiclass
    ? new SegmentSelector({ classes: bundle.manifest.classes, actions: bundle.manifest.actions ?? null, maxContacts: 0 })
    : null;
  for (const part of parts) if (segments) segments.merge(part.segments!);
  const labelTally = mergedLabels(parts);

  const idName = idColumn(bundle.featureSpec.spec)?.name ?? 'line';
  const classes = bundle.manifest.classes;
  const { suppression, overCap } = policySuppression(parts, economics.frequencyCap !== undefined);
  const scoresHeader = [
    ...(multiclass ? [idName, ...classes.map((c) => `p_${c}`), 'predicted', 'confidence'] : [idName, 'probability', 'predicted']),
    ...(parts[0]!.suppressed ? ['suppressed', 'suppression_reason'] : []),
    'decile',
  ];
  const controlFraction = economics.controlFraction ?? 0;

  // A spooled scored line is `<histogram bin>|<row>`: the decile of each bin is known only now. A
  // renderer (worker threads) renders the rows meanwhile the rejects and targets are written here.
  const decileByBin = histogram.decilesByBin();
  const rendered = context.renderScores?.(decileByBin);
  rendered?.catch(() => undefined); // awaited below; a failure meanwhile must not go unhandled

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
  let realized: { selection: RealizedTotals; best: RealizedTotals } | null = null;
  let policy: ContactPolicySummary | null = suppression || overCap !== null ? { suppression, overCap, control: null, selectedBeforeControl: null } : null;
  if (!multiclass) {
    const targetsHeader = csvRecord([idName, 'rank', 'probability', 'value', 'expected_value'], csv);
    await writeText(targets, targetsHeader);
    const controlStream = controlFraction > 0 ? output.open(OUTPUT_FILES.control) : null;
    if (controlStream) await writeText(controlStream, targetsHeader);
    const control = controlStream ? { out: controlStream, fraction: controlFraction, salt: economics.controlSalt ?? '' } : null;
    const chosen = await writeCampaignTargets(runs, economics, targets, profile, control);
    if (controlStream) await endStream(controlStream);
    selected = chosen.selection.contacts;
    realized = chosen.realized;
    const everyone = histogram.totals();
    // Contacting everyone means everyone who may be contacted: the suppressed are left out.
    const left = { customers: everyone.customers, probabilityUnits: everyone.probabilityUnits, gainMicros: everyone.gainMicros };
    for (const { suppressed } of parts) {
      if (!suppressed) continue;
      left.customers -= suppressed.customers;
      left.probabilityUnits -= suppressed.probabilityUnits;
      left.gainMicros -= suppressed.gainMicros;
    }
    campaign = campaignRoi(
      economics,
      {
        scored: everyone.customers,
        selection: chosen.selection,
        everyone: { contacts: left.customers, probabilityUnits: left.probabilityUnits, gainMicros: left.gainMicros },
        best: chosen.best,
      },
      budgetContacts(economics),
    );
    if (control) {
      policy = {
        suppression,
        overCap,
        control: { fraction: control.fraction, salt: control.salt, ...campaignFigures(chosen.control, economics) },
        selectedBeforeControl: chosen.selection.contacts + chosen.control.contacts,
      };
    }
  } else {
    await writeText(targets, csvRecord([idName, 'rank', 'segment', 'confidence', 'action'], csv));
    const perSegment = await writeSegmentTargets(runs, economics, targets, profile, segments!, csv);
    selected = perSegment.reduce((n, k) => n + k, 0);
    segmentSummaries = segments!.finish().segments.map((s, c) => ({ ...s, selected: perSegment[c]! }));
  }
  await endStream(targets);

  const scores = output.open(OUTPUT_FILES.scores);
  await writeText(scores, csvRecord(scoresHeader, csv));
  if (rendered) {
    for (const bytes of await rendered) for await (const chunk of bytes()) await writeText(scores, chunk);
  } else {
    for (const part of parts) await renderScoredLines(part.spool.bytes('scores'), decileByBin, scores, part.source);
  }
  await endStream(scores);

  const summary = buildRunSummary({
    parts,
    bundle,
    economics,
    source: context.source,
    startedAt: context.startedAt,
    histogram,
    campaign,
    // Suppression and control take customers out of the selection but not of the histogram: their cut-off is marked beside the curve, not on it.
    profitCurve: campaign ? profitCurve(histogram, economics, policy ? [] : [campaign.selection, campaign.best]) : null,
    deciles: multiclass ? null : histogram.deciles(economics),
    segments: segmentSummaries,
    selected,
    policy,
    labels: labelTally?.evaluate(decileByBin, economics, realized) ?? null,
  });
  if (profile) {
    const profileStream = output.open(OUTPUT_FILES.profile);
    await writeText(profileStream, `${JSON.stringify(profile)}\n`);
    await endStream(profileStream);
  }
  const report = output.open(OUTPUT_FILES.report);
  await writeText(report, formatReport(summary));
  await endStream(report);
  const html = output.open(OUTPUT_FILES.reportHtml);
  await writeText(html, await renderRunReport(summary, profile));
  await endStream(html);
  // The summary is written last of the outputs: a reader that sees it sees everything else.
  const summaryStream = output.open(OUTPUT_FILES.summary);
  await writeText(summaryStream, `${JSON.stringify(summary, null, 2)}\n`);
  await endStream(summaryStream);
  const files = await output.commit();
  return { summary, files };
}

/**
 * Parts of a long extract: a customer with rows in two parts would be scored twice, each time from
 * part of its rows; refused as a single pass refuses it (see `crossPartCustomers.ts`).
 */
async function assertLongCustomersInOnePart(parts: readonly ScoredPart[], bundle: LoadedBundle, source: string): Promise<void> {
  if (parts.length < 2 || parts.every((p) => p.longLayout === undefined)) return;
  const sources = parts.map((part, i) => {
    if (part.longLayout === undefined || part.customerIds === undefined) throw new Error(`writeRunOutputs: long-layout part ${i + 1} of ${parts.length} has no customer ids to check`);
    return { spool: part.spool, channel: part.customerIds };
  });
  await assertCustomersInOnePart(sources, source, idColumn(bundle.featureSpec.spec)!.name);
}

/** Streams one spool channel of a part into an output, rewriting each line on the way. */
async function copySpool(part: ScoredPart, channel: SpoolChannel, out: Writable, rewrite: (line: string) => string): Promise<void> {
  for await (const lines of lineBatches(part.spool.bytes(channel))) {
    let text = '';
    for (let i = 0; i < lines.length; i++) text += rewrite(lines[i]!);
    await writeText(out, text);
  }
}

/**
 * The customers the run kept off its list: suppressed by reason (null without lists), and over the
 * frequency cap (null without a cap).
 */
function policySuppression(parts: readonly ScoredPart[], capped: boolean): Pick<ContactPolicySummary, 'suppression' | 'overCap'> {
  if (parts.every((p) => p.suppressed === null)) return { suppression: null, overCap: capped ? 0 : null };
  if (parts.some((p) => p.suppressed === null)) throw new Error('writeRunOutputs: the parts disagree on suppression lists');
  const byReason: Record<string, number> = {};
  let listed = 0;
  let overCap = 0;
  for (const part of parts) {
    listed += part.suppressed!.customers - part.suppressed!.overCap;
    overCap += part.suppressed!.overCap;
    for (const [reason, n] of Object.entries(part.suppressed!.byReason)) byReason[reason] = (byReason[reason] ?? 0) + n;
  }
  return {
    suppression: { customers: listed, byReason: Object.fromEntries(Object.entries(byReason).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) },
    overCap: capped ? overCap : null,
  };
}

/** The parts' label tallies merged; null when the extract has no target column. */
function mergedLabels(parts: readonly ScoredPart[]): LabelTally | null {
  const first = parts[0]!.labels;
  if (first === null) {
    if (parts.some((p) => p.labels !== null)) throw new Error('writeRunOutputs: the parts disagree on the label column');
    return null;
  }
  const merged = LabelTally.fromJSON(first.toJSON());
  for (const part of parts.slice(1)) {
    if (part.labels === null) throw new Error('writeRunOutputs: the parts disagree on the label column');
    merged.merge(part.labels);
  }
  return merged;
}

/** The parts' profiles merged (a copy: the run's selection is counted into it as targets are written). */
function mergedProfile(parts: readonly ScoredPart[]): RunProfile | null {
  const profiles = parts.map((p) => p.profile).filter((p): p is RunProfile => p !== null);
  if (profiles.length === 0) return null;
  return structuredClone(mergeAllProfiles(profiles));
}
