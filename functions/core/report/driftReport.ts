import type { DriftLevel, DriftReport, FeatureDrift } from '../drift/checkDrift.js';
import type { BinnedDistribution } from '../drift/driftDistributions.js';
import type { RealizedPerformance } from '../drift/realizedPerformance.js';
import { barChart, groupedBarChart, lineChart } from './charts.js';
import { banner, chartFigure, escapeHtml, formatFixed, formatInteger, formatPercent, htmlPage, htmlTable, paragraph, section, type Cell } from './html.js';
import { metricCards } from './metricCards.js';

/** Realized figures of one past run (the drift function's `<date>.realized.json` holds a list of them). */
export interface RealizedRun {
  readonly run: string;
  readonly modelVersion?: string;
  readonly labelled: number;
  readonly performance: RealizedPerformance;
}

/** What earlier checks of the same model said: their drift reports and realized-performance files. */
export interface DriftHistory {
  /** Earlier drift reports of this model (any order; the report being rendered may be among them). */
  readonly reports: readonly Pick<DriftReport, 'checkedAt' | 'performance' | 'status'>[];
  /** Realized performance files: when they were written and the runs they hold. */
  readonly realized: ReadonlyArray<{ readonly at: string; readonly runs: readonly RealizedRun[] }>;
}

export const NO_HISTORY: DriftHistory = { reports: [], realized: [] };

const LEVEL_COLORS: Record<DriftLevel, string> = { ok: '#16a34a', warn: '#f59e0b', alert: '#dc2626' };
const STATUS_TEXT = { ok: 'No drift', warn: 'Drift warning', alert: 'Drift alert', 'insufficient-data': 'Not enough rows for a verdict' } as const;

function distributionRows(d: BinnedDistribution): Array<{ bin: string; series: string; share: number }> {
  return d.bins.flatMap((bin, i) => [
    { bin, series: 'baseline (training)', share: d.baseline[i] ?? 0 },
    { bin, series: 'current (runs)', share: d.current[i] ?? 0 },
  ]);
}

async function psiSection(report: DriftReport): Promise<string> {
  const features = [...report.features].sort((a, b) => (b.psi ?? 0) - (a.psi ?? 0) || (a.name < b.name ? -1 : 1));
  const { psiWarn, psiAlert } = report.options;
  const chart = barChart({
    rows: features.map((f) => ({ feature: f.name, psi: f.psi ?? 0, level: f.level })),
    x: 'feature',
    y: 'psi',
    xTitle: 'feature',
    yTitle: 'PSI',
    horizontal: true,
    colorBy: { field: 'level', colors: LEVEL_COLORS, title: 'level' },
    rules: [{ at: psiWarn, label: `warn ${psiWarn}` }, { at: psiAlert, label: `alert ${psiAlert}` }],
  });
  const row = (f: FeatureDrift): Cell[] => [
    f.name,
    f.kind,
    f.importanceRank === null ? '–' : String(f.importanceRank),
    formatFixed(f.psi),
    formatFixed(f.jsDistance),
    `${formatPercent(f.missingRate.baseline)} → ${formatPercent(f.missingRate.current)}`,
    f.unseenShare === null ? '–' : formatPercent(f.unseenShare),
    `${f.level}${f.causes.length > 0 ? ` (${f.causes.join(', ')})` : ''}${f.ignored ? ' [ignored]' : ''}`,
  ];
  return section(
    'PSI per feature',
    [
      await chartFigure(chart, `Population stability index of each feature against its training baseline; the dashed lines are the warn (${psiWarn}) and alert (${psiAlert}) thresholds (per-feature overrides apply in the table).`),
      htmlTable(['feature', 'kind', 'importance rank', 'PSI', 'JS distance', 'missing (baseline → current)', 'unseen', 'level'], features.map(row), { alignLeft: [1, 7] }),
    ].join('\n'),
    'psi',
  );
}

async function distributionsSection(report: DriftReport): Promise<string> {
  const flagged = report.features.filter((f) => f.level !== 'ok');
  if (!report.distributions) return section('Baseline and current distributions', paragraph('This report was written without distributions (an older report): run the check again to see them.'), 'distributions');
  if (flagged.length === 0) return section('Baseline and current distributions', paragraph('No feature drifted: every distribution is within its thresholds.'), 'distributions');
  const figures: string[] = [];
  for (const f of flagged) {
    const d = report.distributions.features.find((x) => x.name === f.name);
    if (!d) continue;
    figures.push(`<h3>${escapeHtml(f.name)}</h3>`);
    figures.push(
      await chartFigure(
        groupedBarChart({ rows: distributionRows(d), x: 'bin', y: 'share', series: 'series', xTitle: f.kind === 'numeric' ? `${f.name} (training decile bins)` : f.name, yTitle: 'share of values', yFormat: '%' }),
        `${f.name}: ${f.level.toUpperCase()}, PSI ${formatFixed(f.psi)}; missing ${formatPercent(f.missingRate.baseline)} in training, ${formatPercent(f.missingRate.current)} now.`,
      ),
    );
  }
  return section('Baseline and current distributions of the drifted features', figures.join('\n'), 'distributions');
}

async function scoreSection(report: DriftReport): Promise<string> {
  const s = report.score;
  if (!s) return section('Score distribution shift', paragraph('The baseline or the runs have no score distribution to compare.'), 'score');
  const parts = [paragraph(`Score PSI ${formatFixed(s.psi)} (${s.level}); mean score ${formatFixed(s.baselineMean)} in training, ${formatFixed(s.currentMean)} now.`)];
  if (report.distributions?.score) {
    parts.push(
      await chartFigure(
        groupedBarChart({ rows: distributionRows(report.distributions.score), x: 'bin', y: 'share', series: 'series', xTitle: 'score (training decile bins)', yTitle: 'share of customers', yFormat: '%' }),
        'Scores of the runs against the validation scores at training time, on the same bins.',
      ),
    );
  }
  return section('Score distribution shift', parts.join('\n'), 'score');
}

async function performanceSection(report: DriftReport, history: DriftHistory): Promise<string> {
  const perf = report.performance;
  const parts = [
    '<h3>Estimated now, without labels</h3>',
    metricCards([
      ['expected response rate', formatPercent(perf.expectedResponseRate)],
      ['estimated AUC', formatFixed(perf.estimatedAuc)],
      ['selection precision', perf.selection ? formatPercent(perf.selection.expectedPrecision) : '–'],
      ['selection lift', perf.selection ? formatFixed(perf.selection.expectedLift, 2) : '–'],
    ]),
  ];
  const realized = history.realized.flatMap((file) => file.runs.map((run) => ({ at: file.at, run })));
  parts.push('<h3>Estimated against realized, over past reports</h3>');
  if (realized.length === 0) {
    parts.push(paragraph('No realized performance yet: no outcome files (labels) have been joined to this model’s runs, so only the label-free estimate above exists.'));
  } else {
    const rows = realized
      .filter(({ run }) => run.performance.auc !== null)
      .map(({ at, run }) => ({ date: at, series: 'realized AUC (labels)', value: run.performance.auc! }));
    for (const r of history.reports) if (r.performance.estimatedAuc !== null) rows.push({ date: r.checkedAt, series: 'estimated AUC (no labels)', value: r.performance.estimatedAuc });
    if (rows.length > 0) {
      parts.push(await chartFigure(lineChart({ rows, x: 'date', y: 'value', series: 'series', xTitle: 'date', yTitle: 'AUC', xType: 'temporal', xFormat: '%Y-%m-%d', showPoints: true }), 'AUC estimated from the scores at each drift check, and realized once the outcomes arrived.'));
    }
    parts.push(
      htmlTable(
        ['realized at', 'run', 'labelled', 'response rate (expected → realized)', 'AUC', 'selection precision (expected → realized)', 'selection ROI (expected → realized)'],
        realized.map(({ at, run }) => {
          const p = run.performance;
          return [at.slice(0, 10), run.run, run.labelled, `${formatPercent(p.expectedResponseRate)} → ${formatPercent(p.responseRate)}`, formatFixed(p.auc), `${formatPercent(p.selection.expectedPrecision)} → ${formatPercent(p.selection.precision)}`, `${formatPercent(p.selection.expectedRoi)} → ${formatPercent(p.selection.roi)}`];
        }),
        { alignLeft: [1] },
      ),
    );
  }
  return section('Performance', parts.join('\n'), 'performance');
}

/**
 * The drift report as one HTML page (`drift/<model>/<date>.html`): the verdict and its reasons, PSI
 * per feature with the warn and alert lines, baseline against current distributions of each drifted
 * feature, the score distribution shift, and estimated against realized performance over the
 * history the caller found (said plainly when there is none).
 * @example await renderDriftReport(result.report, NO_HISTORY)
 */
export async function renderDriftReport(report: DriftReport, history: DriftHistory = NO_HISTORY): Promise<string> {
  const kind = report.status === 'alert' ? 'alert' : report.status === 'ok' ? 'info' : 'warn';
  const body = [
    banner(`${STATUS_TEXT[report.status]}${report.datasetDrift ? ' (dataset drift)' : ''}: ${report.reasons.join(' ') || 'every feature within its thresholds.'}`, kind),
    metricCards([
      ['status', report.status],
      ['rows', formatInteger(report.rows)],
      ['runs', formatInteger(report.runs.length)],
      ['drifted features', `${report.driftedFeatures.length} of ${report.features.length}`],
      ['score PSI', formatFixed(report.score?.psi ?? null)],
    ]),
    await psiSection(report),
    await distributionsSection(report),
    await scoreSection(report),
    await performanceSection(report, history),
  ];
  if (report.warnings.length > 0) body.push(section('Warnings', `<ul>${report.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`, 'warnings'));
  const model = report.model ? `${report.model}${report.modelVersion ? ` ${report.modelVersion}` : ''}` : 'model';
  return htmlPage({
    title: `Drift report: ${model}`,
    subtitle: `Checked ${report.checkedAt} against baseline ${report.baselineId}; ${formatInteger(report.runs.length)} run(s), ${formatInteger(report.rows)} rows.`,
    body: body.join('\n'),
    footer: 'Generated by Propensity from the drift report JSON. Charts are SVG rendered on the server; this page loads nothing.',
  });
}

/** At most this many past reports and realized files feed the history (about two months of nights). */
export const DRIFT_HISTORY_LIMIT = 60;

const REPORT_NAME = /^\d{4}-\d{2}-\d{2}\.json$/;
const REALIZED_NAME = /^\d{4}-\d{2}-\d{2}\.realized\.json$/;

/** Which files of a model's drift folder (`drift/<model>/`) the history reads, by base name. */
export function isDriftHistoryFile(name: string): boolean {
  return REPORT_NAME.test(name) || REALIZED_NAME.test(name);
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * The history of a model's drift folder from its files (base name and parsed JSON), newest
 * {@link DRIFT_HISTORY_LIMIT} of each kind: drift reports (`<date>.json`) and realized performance
 * (`<date>.realized.json`). Files of another shape are left out: the history only illustrates.
 */
export function collectDriftHistory(files: ReadonlyArray<{ readonly name: string; readonly json: unknown }>): DriftHistory {
  const newest = [...files].sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  const reports: DriftHistory['reports'][number][] = [];
  const realized: DriftHistory['realized'][number][] = [];
  for (const { name, json } of newest) {
    if (!isObject(json)) continue;
    if (REPORT_NAME.test(name) && reports.length < DRIFT_HISTORY_LIMIT && typeof json.checkedAt === 'string' && isObject(json.performance) && typeof json.status === 'string') {
      reports.push(json as unknown as DriftHistory['reports'][number]);
    } else if (REALIZED_NAME.test(name) && realized.length < DRIFT_HISTORY_LIMIT && typeof json.at === 'string' && Array.isArray(json.runs)) {
      const runs = json.runs.filter((r): r is RealizedRun => isObject(r) && typeof r.run === 'string' && isObject(r.performance) && isObject(r.performance.selection));
      realized.push({ at: json.at, runs });
    }
  }
  return { reports, realized };
}
