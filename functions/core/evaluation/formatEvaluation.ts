import type { Evaluation } from './evaluateClassifier.js';

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');
const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a');

/** Left-aligned first column, right-aligned others, two spaces between columns. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());
}

/**
 * Renders an evaluation as the plain-text report `propensity train` prints: headline metrics,
 * per-class precision/recall/F1, confusion matrix, thresholds, decile lift/gains and feature importance.
 * @example
 * console.log(formatEvaluation(result.evaluation));
 */
export function formatEvaluation(evaluation: Evaluation, options: { maxFeatures?: number } = {}): string {
  const e = evaluation;
  const lines: string[] = [];
  const counts = e.classes.map((c, i) => `${c} ${e.classCounts[i]!.toLocaleString('en-US')}`).join(' · ');
  lines.push(`${e.task}, ${e.rows.toLocaleString('en-US')} held-out rows (${counts})${e.holdout ? `: ${e.holdout.chosen}` : ''}`);
  if (e.holdout?.inPeriod) {
    const p = e.holdout.inPeriod;
    lines.push(
      `out-of-time ROC AUC ${f4(e.rocAuc)} (${e.holdout.chosen}) vs random-split ROC AUC ${f4(p.rocAuc)} ` +
        `(${p.rows.toLocaleString('en-US')} random earlier rows, also held out of fitting; ECE ${f4(p.expectedCalibrationError)})`,
    );
  }
  lines.push(
    `accuracy ${f4(e.accuracy)}   macro F1 ${f4(e.macroF1)}   ROC AUC ${f4(e.rocAuc)}${e.task === 'multiclass' ? ' (macro one-vs-rest)' : ''}` +
      `   PR AUC ${f4(e.prAuc)}   log loss ${f4(e.logLoss)}   ECE ${f4(e.expectedCalibrationError)}`,
  );
  lines.push('');
  lines.push(
    ...table([
      ['class', 'precision', 'recall', 'F1', 'support', ...(e.rocAucPerClass ? ['ROC AUC (ovr)'] : [])],
      ...e.perClass.map((c, i) => [
        c.class,
        f4(c.precision),
        f4(c.recall),
        f4(c.f1),
        String(c.support),
        ...(e.rocAucPerClass ? [f4(e.rocAucPerClass[i]!)] : []),
      ]),
    ]),
  );
  lines.push('');
  lines.push('confusion matrix (rows: actual, columns: predicted)');
  lines.push(...table([['', ...e.classes], ...e.confusionMatrix.map((row, i) => [e.classes[i]!, ...row.map(String)])]));

  if (e.thresholds && e.thresholds.length > 0) {
    lines.push('');
    lines.push(
      ...table([
        ['threshold', 'P(positive) ≥', 'precision', 'recall', 'F1', 'contact rate'],
        ...e.thresholds.map((t) => [t.name, f4(t.threshold), f4(t.precision), f4(t.recall), f4(t.f1), pct(t.positiveRate)]),
      ]),
    );
  }
  if (e.lift && e.lift.length > 0) {
    lines.push('');
    lines.push('lift and gains by decile of P(positive)');
    lines.push(
      ...table([
        ['decile', 'rows', 'positives', 'rate', 'lift', 'cum. gain', 'cum. lift', 'scores'],
        ...e.lift.map((d) => [
          String(d.decile),
          String(d.rows),
          String(d.positives),
          pct(d.responseRate),
          d.lift.toFixed(2),
          pct(d.cumulativeGain),
          d.cumulativeLift.toFixed(2),
          `${d.minScore.toFixed(3)}–${d.maxScore.toFixed(3)}`,
        ]),
      ]),
    );
  }
  if (e.featureImportance && e.featureImportance.length > 0) {
    const shown = e.featureImportance.slice(0, options.maxFeatures ?? 20);
    lines.push('');
    lines.push('permutation importance (drop in ROC AUC when the column is shuffled)');
    lines.push(...table([['feature', 'importance', '± std'], ...shown.map((f) => [f.feature, f4(f.importance), f4(f.std)])]));
    if (shown.length < e.featureImportance.length) lines.push(`… and ${e.featureImportance.length - shown.length} more`);
  }
  return lines.join('\n');
}
