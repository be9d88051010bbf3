import type { LabelledEvaluation, RealizedFigures } from '../evaluation/labelledEvaluation.js';
import { barChart, reliabilityChart } from './charts.js';
import { chartFigure, formatFixed, formatInteger, formatMoney, formatPercent, htmlTable, paragraph, section, type Cell } from './html.js';
import { metricCards } from './metricCards.js';

function realizedRow(label: string, f: RealizedFigures, currency: string): Cell[] {
  return [label, f.contacted, f.responders, formatMoney(f.cost, currency), formatMoney(f.gain, currency), formatMoney(f.profit, currency), formatPercent(f.roi)];
}

/**
 * "Realized performance": how the run's scores did against the labels the extract carried (the
 * spec's target column): AUC, PR-AUC, log loss, calibration (ECE and a reliability diagram),
 * realized lift by decile and the realized ROI of the selection against contacting everyone.
 */
export async function labelsSection(labels: LabelledEvaluation, currency: string): Promise<string> {
  const parts: string[] = [];
  parts.push(
    paragraph(
      `${formatInteger(labels.rows)} scored rows carried a known label${labels.positives !== null ? ` (${formatInteger(labels.positives)} positive)` : ''}; ${formatInteger(labels.unlabelled)} had none and are left out.`,
    ),
  );
  parts.push(
    metricCards([
      ['ROC AUC', formatFixed(labels.rocAuc, 4)],
      ['PR-AUC', formatFixed(labels.prAuc, 4)],
      ['log loss', formatFixed(labels.logLoss, 4)],
      ['ECE', formatFixed(labels.calibration.ece, 4)],
      ['accuracy', formatPercent(labels.accuracy)],
    ]),
  );
  if (labels.calibration.bins.length > 0) {
    parts.push(
      await chartFigure(
        reliabilityChart([{ name: 'this run', bins: labels.calibration.bins }]),
        labels.task === 'binary' ? 'Calibration: predicted P(positive) against the observed rate per bin; the dashed diagonal is perfect calibration.' : 'Calibration: top-class confidence against accuracy per bin.',
      ),
    );
  }
  if (labels.liftByDecile && labels.liftByDecile.length > 0) {
    const rows = labels.liftByDecile.map((d) => ({ decile: String(d.decile), lift: Number.isFinite(d.lift) ? d.lift : 0 }));
    parts.push(await chartFigure(barChart({ rows, x: 'decile', y: 'lift', xTitle: 'score decile (1 = highest)', yTitle: 'realized lift', color: '#16a34a' }), 'Realized lift: each decile’s observed response rate over the overall rate.'));
    parts.push(
      htmlTable(
        ['decile', 'rows', 'positives', 'response rate', 'lift', 'cumulative gain'],
        labels.liftByDecile.map((d) => [String(d.decile), d.rows, d.positives, formatPercent(d.responseRate), formatFixed(d.lift, 2), formatPercent(d.cumulativeGain)]),
      ),
    );
  }
  if (labels.realized) {
    parts.push('<h3>Realized ROI at this run’s economics</h3>');
    parts.push(
      htmlTable(
        ['campaign', 'contacted', 'responders', 'cost', 'gain', 'profit', 'ROI'],
        [realizedRow('selection', labels.realized.selection, currency), realizedRow('everyone', labels.realized.everyone, currency)],
      ),
    );
  }
  return section(`Realized performance (labels found in column ${labels.column})`, parts.join('\n'), 'realized');
}
