import type { DriftLevel, DriftReport, FeatureDrift } from './checkDrift.js';

const LEVEL_ORDER: Record<DriftLevel, number> = { alert: 0, warn: 1, ok: 2 };
const STATUS_WORD = { ok: 'OK', warn: 'WARN', alert: 'ALERT', 'insufficient-data': 'NO VERDICT' } as const;

const num = (x: number | null, digits = 3) => (x === null ? '-' : x.toFixed(digits));
const signed = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} pp`;
const percent = (x: number) => `${(x * 100).toFixed(1)} %`;
const thousands = (x: number) => Math.round(x).toLocaleString('en-US');

function levelCell(level: DriftLevel, causes: readonly string[], ignored: boolean): string {
  const word = level === 'ok' ? 'ok' : level.toUpperCase();
  return `${word}${causes.length > 0 ? ` (${causes.join(', ')})` : ''}${ignored ? ' [ignored]' : ''}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

function featureRow(f: FeatureDrift): string[] {
  return [
    f.name,
    f.kind === 'numeric' ? 'num' : 'cat',
    f.importanceRank === null ? '-' : String(f.importanceRank),
    num(f.psi),
    num(f.jsDistance),
    `${percent(f.missingRate.current)} (${signed(f.missingRate.change)})`,
    f.unseenShare === null ? '-' : percent(f.unseenShare),
    levelCell(f.level, f.causes, f.ignored),
  ];
}

/**
 * The drift report as a short text for people: a headline with the verdict and its reasons, a
 * per-feature table (most drifted first), the score drift, the label-free performance estimate
 * and the warnings. Printed by `propensity drift` and stored beside the report JSON.
 *
 * @example
 * console.log(formatDriftReport(report));
 */
export function formatDriftReport(report: DriftReport): string {
  const lines: string[] = [];
  const model = report.model ? `${report.model}${report.modelVersion ? ` ${report.modelVersion}` : ''}` : 'model';
  lines.push(`Drift check: ${model}, baseline ${report.baselineId}, ${report.checkedAt}`);
  const runs = report.runs.length === 0 ? '' : report.runs.length <= 3 ? ` (${report.runs.join(', ')})` : ` (${report.runs[0]} … ${report.runs[report.runs.length - 1]})`;
  lines.push(`Runs: ${report.runs.length}${runs}, ${thousands(report.rows)} rows`);
  lines.push(`Status: ${STATUS_WORD[report.status]}${report.datasetDrift ? ' (dataset drift)' : ''}`);
  for (const reason of report.reasons) lines.push(`  - ${reason}`);
  lines.push('');

  const features = [...report.features].sort(
    (a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || (b.psi ?? 0) - (a.psi ?? 0) || (a.name < b.name ? -1 : 1),
  );
  const rows = [['feature', 'kind', 'rank', 'PSI', 'JS', 'missing (change)', 'unseen', 'level'], ...features.map(featureRow)];
  if (report.score) {
    const s = report.score;
    rows.push(['(score)', '', '', num(s.psi), num(s.jsDistance), `mean ${num(s.baselineMean)} -> ${num(s.currentMean)}`, '', levelCell(s.level, [], false)]);
  }
  lines.push(...table(rows));
  lines.push(
    `Drifted features: ${report.driftedFeatures.length === 0 ? 'none' : report.driftedFeatures.join(', ')} (share ${num(report.driftedFeatureShare)}); ` +
      `PSI warn ${report.options.psiWarn}, alert ${report.options.psiAlert}`,
  );

  const perf = report.performance;
  lines.push('');
  let estimate = `Estimated without labels: response rate ${percent(perf.expectedResponseRate)} of ${thousands(perf.rows)} scored`;
  if (perf.selection) {
    const s = perf.selection;
    estimate += `; selection of ${thousands(s.contacts)}: precision ${percent(s.expectedPrecision)}, recall ${percent(s.expectedRecall)}, lift ${num(s.expectedLift, 2)}`;
  }
  if (perf.estimatedAuc !== null) estimate += `; AUC ${num(perf.estimatedAuc)}`;
  lines.push(estimate);
  lines.push('  (assumes the relation between features and outcome is unchanged since training; realized figures, once outcomes arrive, are in <date>.realized.json and the HTML report)');

  if (report.warnings.length > 0) {
    lines.push('', 'Warnings:');
    for (const warning of report.warnings) lines.push(`  - ${warning}`);
  }
  return `${lines.join('\n')}\n`;
}
