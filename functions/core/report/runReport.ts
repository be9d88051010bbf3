import { placeholderNotice } from '../economics/campaignEconomics.js';
import type { CampaignFigures, CampaignRoi } from '../economics/campaignRoi.js';
import type { RunProfile } from '../drift/runProfile.js';
import type { RunSummary } from '../engine/runSummary.js';
import { barChart, histogramChart, lineChart } from './charts.js';
import {
  banner,
  chartFigure,
  formatDecimal,
  formatFixed,
  formatInteger,
  formatMoney,
  formatPercent,
  htmlPage,
  htmlTable,
  paragraph,
  section,
  type Cell,
} from './html.js';
import { labelsSection } from './labelsSection.js';
import { metricCards } from './metricCards.js';

/**
 * The banner every report shows when no person set the economics: the CLI's placeholder line
 * ({@link placeholderNotice}), with what it means for the page. Null for economics a person set.
 */
export function placeholderBanner(economics: Parameters<typeof placeholderNotice>[0]): string | null {
  const notice = placeholderNotice(economics);
  return notice && `${notice[0]!.toUpperCase()}${notice.slice(1)}. Every money figure here (profit, ROI, the selection itself) is illustrative.`;
}

function campaignRow(label: string, f: CampaignFigures, currency: string): Cell[] {
  return [label, f.contacts, formatDecimal(f.expectedResponders), formatMoney(f.cost, currency), formatMoney(f.gain, currency), formatMoney(f.profit, currency), formatPercent(f.roi)];
}

async function campaignSection(summary: RunSummary, c: CampaignRoi): Promise<string> {
  const cur = c.currency;
  const parts = [
    metricCards([
      ['selected', formatInteger(c.selection.contacts)],
      ['expected responders', formatDecimal(c.selection.expectedResponders)],
      ['expected profit', formatMoney(c.selection.profit, cur)],
      ['ROI', formatPercent(c.selection.roi)],
    ]),
    paragraph(`Policy ${c.policy}${c.budgetContacts !== null ? `, budget ${formatInteger(c.budgetContacts)} contacts` : ', no budget'}; ${formatInteger(c.scored)} customers scored.`),
    htmlTable(['campaign', 'contacted', 'expected responders', 'cost', 'gain', 'profit', 'ROI'], [
      campaignRow('selection', c.selection, cur),
      campaignRow('best this extract allows', c.best, cur),
      campaignRow('everyone', c.everyone, cur),
      campaignRow('no one', c.noOne, cur),
    ]),
  ];
  const curve = summary.profitCurve;
  if (curve && curve.length > 1) {
    const rules = [{ at: c.selection.contacts, label: `cut-off ${formatInteger(c.selection.contacts)}` }];
    if (c.budgetContacts !== null && c.budgetContacts < c.scored) rules.push({ at: c.budgetContacts, label: `budget ${formatInteger(c.budgetContacts)}` });
    parts.push(
      await chartFigure(
        lineChart({
          rows: curve.map((p) => ({ contacts: p.contacts, profit: p.profit })),
          x: 'contacts',
          y: 'profit',
          xTitle: 'customers contacted, best score first',
          yTitle: `expected profit (${cur})`,
          xFormat: ',.0f',
          yFormat: ',.0f',
          rules,
          points: [{ x: c.selection.contacts, y: c.selection.profit, label: 'selection' }],
        }),
        'Profit curve: expected profit (Σ p·value − fixed cost − contacts × cost per contact) of contacting the best-scored customers, exact at each point; the dashed lines mark the chosen cut-off and the budget.',
      ),
    );
  }
  return section('Campaign', parts.join('\n'), 'campaign');
}

async function distributionSection(summary: RunSummary): Promise<string> {
  const d = summary.scoreDistribution;
  const what = summary.model.task === 'binary' ? 'P(positive)' : 'confidence of the predicted segment';
  const bins = d.histogram.map((b) => ({ from: b.from, to: b.to, count: b.customers }));
  const parts = [await chartFigure(histogramChart({ bins, xTitle: what, yTitle: 'customers' }), `Score distribution: customers per ${what} bin of width 0.05.`)];
  if (d.quantiles) {
    const q = d.quantiles;
    parts.push(htmlTable(['min', 'p10', 'p25', 'median', 'p75', 'p90', 'max', 'mean'], [[formatFixed(d.min), formatFixed(q.p10), formatFixed(q.p25), formatFixed(q.p50), formatFixed(q.p75), formatFixed(q.p90), formatFixed(d.max), formatFixed(d.mean)]], { alignLeft: [] }));
  }
  return section('Score distribution', parts.join('\n'), 'scores');
}

async function gainsSection(summary: RunSummary): Promise<string> {
  const deciles = summary.deciles ?? [];
  const cur = summary.economics.currency;
  const gains = [{ contacted: 0, gain: 0 }, ...deciles.map((d) => ({ contacted: d.cumulativeCustomers / summary.rows.scored, gain: d.cumulativeGainPct / 100 }))];
  const parts = [
    await chartFigure(
      lineChart({ rows: gains, x: 'contacted', y: 'gain', xTitle: 'share of customers contacted', yTitle: 'share of expected responders', xFormat: '%', yFormat: '%', diagonal: true, square: true, xDomain: [0, 1], yDomain: [0, 1], showPoints: true }),
      'Cumulative gains: contacting the best deciles first; the diagonal is contacting at random.',
    ),
    await chartFigure(
      barChart({ rows: deciles.map((d) => ({ decile: String(d.decile), lift: d.lift ?? 0 })), x: 'decile', y: 'lift', xTitle: 'decile (1 = highest scores)', yTitle: 'lift' }),
      'Lift: each decile’s mean probability over the overall mean.',
    ),
    htmlTable(
      ['decile', 'customers', 'scores', 'mean p', 'expected responders', 'cumulative gain', 'lift', 'cumulative lift', `profit down to here (${cur})`, 'ROI'],
      deciles.map((d) => [
        String(d.decile),
        d.customers,
        `${d.minScore.toFixed(3)}–${d.maxScore.toFixed(3)}`,
        formatFixed(d.meanProbability),
        formatDecimal(d.expectedResponders),
        `${formatDecimal(d.cumulativeGainPct)} %`,
        formatFixed(d.lift, 2),
        formatFixed(d.cumulativeLift, 2),
        formatInteger(d.profit),
        formatPercent(d.roi),
      ]),
    ),
  ];
  return section('Gains and lift by decile', parts.join('\n'), 'gains');
}

async function segmentsSection(summary: RunSummary): Promise<string> {
  const segments = summary.segments ?? [];
  const parts = [
    await chartFigure(barChart({ rows: segments.map((s) => ({ segment: s.segment, customers: s.customers })), x: 'segment', y: 'customers', xTitle: 'segment', yTitle: 'customers', yFormat: ',.0f' }), 'Customers per predicted segment.'),
    await chartFigure(
      barChart({ rows: segments.map((s) => ({ segment: s.segment, confidence: s.meanConfidence ?? 0 })), x: 'segment', y: 'confidence', xTitle: 'segment', yTitle: 'mean confidence', color: '#9333ea' }),
      'Mean confidence of the customers predicted in each segment.',
    ),
    htmlTable(
      ['segment', 'customers', 'mean confidence', 'on the list', 'recommended action'],
      segments.map((s) => [s.segment, s.customers, formatFixed(s.meanConfidence), s.selected, s.action ?? '']),
      { alignLeft: [4] },
    ),
  ];
  return section(`Segments (${formatInteger(summary.selected)} customers on the list)`, parts.join('\n'), 'segments');
}

/** Missing cells per column: the run's own count (`imputed`), else the run profile's. */
function missingByColumn(summary: RunSummary, profile: RunProfile | null): { readonly counts: ReadonlyArray<readonly [string, number]>; readonly from: string } | null {
  if (summary.imputed) return { counts: Object.entries(summary.imputed), from: 'missing cells among scored rows, filled by the spec’s imputation' };
  if (profile) return { counts: profile.features.map((f) => [f.name, f.missing] as const), from: 'missing cells among scored rows, from the run profile (profile.json)' };
  return null;
}

async function dataQualitySection(summary: RunSummary, profile: RunProfile | null): Promise<string> {
  const { rows } = summary;
  const parts = [paragraph(`Rows read ${formatInteger(rows.read)} = scored ${formatInteger(rows.scored)} + rejected ${formatInteger(rows.rejected)} (delimiter “${summary.delimiter}”).`)];
  const long = summary.longLayout;
  if (long) parts.push(paragraph(`Long layout: customers scored ${formatInteger(long.customersScored)}, rejected ${formatInteger(long.customersRejected)}; periods with no row, imputed as missing: ${formatInteger(long.missingPeriods)}.`));
  const reasons = Object.entries(rows.rejectReasons).filter((entry): entry is [string, number] => (entry[1] ?? 0) > 0);
  parts.push('<h3>Rejects by reason</h3>');
  if (reasons.length === 0) parts.push(paragraph('No row was rejected.'));
  else {
    parts.push(await chartFigure(barChart({ rows: reasons.map(([reason, n]) => ({ reason, rows: n })), x: 'reason', y: 'rows', xTitle: 'reason', yTitle: 'rows', horizontal: true, color: '#dc2626' }), 'Rejected rows by reason (rejects.csv has the line and column of each).'));
    parts.push(htmlTable(['reason', 'rows'], reasons.map(([r, n]) => [r, n])));
  }
  parts.push('<h3>Missing and imputed values per column</h3>');
  const missing = missingByColumn(summary, profile);
  const withMissing = missing?.counts.filter(([, n]) => n > 0) ?? [];
  if (!missing) parts.push(paragraph('This run recorded no missing-value counts.'));
  else if (withMissing.length === 0) parts.push(paragraph(`No missing values (${missing.from}).`));
  else {
    parts.push(paragraph(`${missing.from[0]!.toUpperCase()}${missing.from.slice(1)}.`));
    parts.push(await chartFigure(barChart({ rows: withMissing.map(([column, n]) => ({ column, missing: n })), x: 'column', y: 'missing', xTitle: 'column', yTitle: 'missing cells', horizontal: true, color: '#ca8a04', yFormat: ',.0f' }), 'Missing cells per column.'));
    parts.push(htmlTable(['column', 'missing', 'share of scored rows'], withMissing.map(([c, n]) => [c, n, formatPercent(rows.scored > 0 ? n / rows.scored : null)])));
  }
  parts.push('<h3>Values not seen in training</h3>');
  const unseen = Object.entries(summary.unseenCategories).filter(([, n]) => n > 0);
  parts.push(unseen.length === 0 ? paragraph('Every categorical value was seen in training.') : htmlTable(['column', 'values scored as “other”'], unseen.map(([c, n]) => [c, n])));
  return section('Data quality', parts.join('\n'), 'data');
}

function policySection(summary: RunSummary): string {
  const policy = summary.policy!;
  const rows: Cell[][] = [];
  if (policy.suppression) {
    for (const [reason, n] of Object.entries(policy.suppression.byReason)) rows.push([`suppressed: ${reason}`, n]);
    if (Object.keys(policy.suppression.byReason).length === 0) rows.push(['suppressed', policy.suppression.customers]);
  }
  if (policy.overCap !== null) rows.push(['over the frequency cap', policy.overCap]);
  if (policy.control && policy.selectedBeforeControl !== null) {
    rows.push([`control group (${formatPercent(policy.control.fraction)} asked)`, policy.control.contacts]);
    rows.push(['contacted (targets.csv)', summary.selected]);
  }
  return section('Contact policy exclusions', `${paragraph('Order: score → suppress → frequency cap → economics and budget → control split.')}\n${htmlTable(['excluded', 'customers'], rows)}`, 'policy');
}

/**
 * The run's HTML report (`report.html` beside `report.md`): campaign card and profit curve, score
 * distribution, gains and lift, the decile table, segments for multiclass, realized performance when
 * the extract carried labels, rejects, missing and unseen values, and the contact policy. One
 * self-contained page; charts are server-rendered SVG.
 * @param profile the run's profile, for missing values when the summary has no `imputed` counts
 * @example await renderRunReport(JSON.parse(await readFile('summary.json', 'utf8')), null)
 */
export async function renderRunReport(summary: RunSummary, profile: RunProfile | null = null): Promise<string> {
  const body: string[] = [];
  const placeholder = placeholderBanner(summary.economics);
  if (placeholder) body.push(banner(placeholder));
  if (summary.campaign) body.push(await campaignSection(summary, summary.campaign));
  if (summary.policy) body.push(policySection(summary));
  body.push(await distributionSection(summary));
  if (summary.deciles && summary.deciles.length > 0) body.push(await gainsSection(summary));
  if (summary.segments) body.push(await segmentsSection(summary));
  if (summary.labels) body.push(await labelsSection(summary.labels, summary.economics.currency));
  body.push(await dataQualitySection(summary, profile));
  const m = summary.model;
  return htmlPage({
    title: `Propensity run: ${summary.source}`,
    subtitle: `Model ${m.name} version ${m.version} (${m.task}), started ${summary.startedAt}, ${formatInteger(summary.durationMs)} ms.`,
    body: body.join('\n'),
    footer: `Generated by Propensity from summary.json of ${summary.source}. Charts are SVG rendered on the server; this page loads nothing.`,
  });
}

