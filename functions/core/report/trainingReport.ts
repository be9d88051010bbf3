import type { BundleManifest } from '../bundle/bundleManifest.js';
import type { Evaluation, ThresholdReport } from '../evaluation/evaluateClassifier.js';
import { perClassReport, type CalibrationBin, type ClassReport } from '../evaluation/metrics.js';
import type { TrainingCurves } from '../evaluation/trainingCurves.js';
import type { TrainingDataSummary } from '../training/trainingDataSummary.js';
import type { SearchReport } from '../training/searchHyperparameters.js';
import type { EpochRecord } from '../training/trialTrainer.js';
import { barChart, heatmapChart, lineChart, reliabilityChart } from './charts.js';
import { banner, chartFigure, formatFixed, formatInteger, formatPercent, htmlPage, htmlTable, paragraph, section, type Cell } from './html.js';
import { metricCards } from './metricCards.js';
import { placeholderBanner } from './runReport.js';

/** The file every bundle written by training holds (listed and hashed in its manifest). */
export const TRAINING_REPORT_HTML = 'report.html';

/** The parts of `manifest.metrics` the report reads; each may be absent in a bundle trained elsewhere. */
interface TrainingMetrics {
  readonly evaluation?: Evaluation;
  readonly validation?: { readonly rows: number; readonly rocAuc: number; readonly logLoss: number; readonly expectedCalibrationError?: { readonly beforeCalibration: number; readonly afterCalibration: number } };
  readonly calibration?: { readonly method: string; readonly appliedIn?: string };
  readonly training?: { readonly history?: readonly EpochRecord[]; readonly bestEpoch?: number; readonly architecture?: unknown; readonly backend?: string; readonly seed?: number };
  readonly search?: SearchReport;
  readonly data?: TrainingDataSummary;
  readonly curves?: TrainingCurves;
}

const missing = (what: string) => paragraph(`Not recorded in this bundle: ${what}.`);

async function learningSection(m: TrainingMetrics): Promise<string> {
  const history = m.training?.history ?? [];
  if (history.length === 0) return section('Learning curves', missing('the per-epoch history'), 'learning');
  const best = m.training?.bestEpoch;
  const rules = best !== undefined ? [{ at: best, label: `best epoch ${best}` }] : [];
  const loss = history.flatMap((e) => [
    { epoch: e.epoch, series: 'train loss', value: e.loss },
    { epoch: e.epoch, series: 'validation loss', value: e.valLoss },
  ]);
  const auc = history.map((e) => ({ epoch: e.epoch, series: 'validation AUC', value: e.valAuc }));
  return section(
    'Learning curves',
    [
      await chartFigure(lineChart({ rows: loss, x: 'epoch', y: 'value', series: 'series', xTitle: 'epoch', yTitle: 'loss', xIntegers: true, rules, showPoints: history.length <= 40 }), 'Loss per epoch on the training and validation rows; the weights of the best epoch were kept.'),
      await chartFigure(lineChart({ rows: auc, x: 'epoch', y: 'value', series: 'series', xTitle: 'epoch', yTitle: 'ROC AUC', xIntegers: true, rules, showPoints: history.length <= 40 }), 'Validation ROC AUC per epoch (the trainer records AUC on the validation rows only, not on the training rows).'),
    ].join('\n'),
    'learning',
  );
}

async function curvesSection(m: TrainingMetrics): Promise<string> {
  const curves = m.curves;
  if (!curves) return section('ROC and precision–recall curves', missing('the test curves (bundles trained before reports kept them)'), 'curves');
  const roc = curves.roc.flatMap((c) => c.points.map((p) => ({ fpr: p.falsePositiveRate, tpr: p.truePositiveRate, class: c.class })));
  const pr = curves.roc.flatMap((c) => c.points.filter((p) => p.truePositiveRate > 0).map((p) => ({ recall: p.truePositiveRate, precision: p.precision, class: c.class })));
  const multi = curves.roc.length > 1;
  return section(
    'ROC and precision–recall curves',
    [
      await chartFigure(
        lineChart({ rows: roc, x: 'fpr', y: 'tpr', ...(multi ? { series: 'class' } : {}), xTitle: 'false positive rate', yTitle: 'true positive rate', diagonal: true, square: true, xDomain: [0, 1], yDomain: [0, 1] }),
        `ROC on the held-out test rows${multi ? ', one class against the rest' : ''}; the diagonal is a random ranking.`,
      ),
      await chartFigure(
        lineChart({ rows: pr, x: 'recall', y: 'precision', ...(multi ? { series: 'class' } : {}), xTitle: 'recall', yTitle: 'precision', square: true, xDomain: [0, 1], yDomain: [0, 1] }),
        'Precision against recall on the held-out test rows.',
      ),
    ].join('\n'),
    'curves',
  );
}

async function calibrationSection(m: TrainingMetrics): Promise<string> {
  const method = m.calibration?.method ?? 'unknown';
  const series: Array<{ name: string; bins: readonly CalibrationBin[] }> = [];
  let text: string;
  if (m.curves) {
    series.push({ name: 'before calibration', bins: m.curves.reliability.before }, { name: `after ${method} calibration`, bins: m.curves.reliability.after });
    text = `Test rows: ECE ${formatFixed(m.curves.reliability.eceBefore, 4)} before, ${formatFixed(m.curves.reliability.eceAfter, 4)} after the ${method} calibration fitted on the validation rows.`;
  } else if (m.evaluation) {
    series.push({ name: `after ${method} calibration`, bins: m.evaluation.calibrationBins });
    text = `Test rows after calibration (the probabilities before it were not recorded in this bundle): ECE ${formatFixed(m.evaluation.expectedCalibrationError, 4)}.`;
  } else return section('Calibration', missing('calibration figures'), 'calibration');
  const v = m.validation?.expectedCalibrationError;
  const parts = [paragraph(text)];
  if (v) parts.push(paragraph(`Validation rows: ECE ${formatFixed(v.beforeCalibration, 4)} before, ${formatFixed(v.afterCalibration, 4)} after.`));
  parts.push(await chartFigure(reliabilityChart(series), 'Reliability: mean predicted probability against the observed rate per bin; the dashed diagonal is perfect calibration.'));
  return section('Calibration', parts.join('\n'), 'calibration');
}

/** The binary model's report at its chosen (max-expected-profit) threshold, else argmax. */
function chosenOperatingPoint(e: Evaluation): { readonly label: string; readonly matrix: readonly (readonly number[])[]; readonly perClass: readonly ClassReport[] } {
  const chosen: ThresholdReport | undefined = e.thresholds?.find((t) => t.name === 'max-expected-profit');
  if (e.task === 'binary' && chosen) {
    return { label: `threshold ${chosen.threshold.toFixed(4)} (max expected profit)`, matrix: chosen.confusionMatrix, perClass: perClassReport(chosen.confusionMatrix, e.classes) };
  }
  return { label: e.task === 'binary' ? 'threshold 0.5' : 'the most likely class', matrix: e.confusionMatrix, perClass: e.perClass };
}

async function confusionSection(e: Evaluation): Promise<string> {
  const point = chosenOperatingPoint(e);
  const cells = point.matrix.flatMap((row, a) => row.map((n, p) => ({ actual: e.classes[a]!, predicted: e.classes[p]!, count: n })));
  const parts = [
    paragraph(`On ${formatInteger(e.rows)} held-out test rows, at ${point.label}.`),
    await chartFigure(heatmapChart({ rows: cells, x: 'predicted', y: 'actual', value: 'count', xTitle: 'predicted', yTitle: 'actual' }), 'Confusion matrix: rows are the actual classes, columns the predicted ones.'),
    htmlTable(['class', 'precision', 'recall', 'F1', 'support'], point.perClass.map((c): Cell[] => [c.class, formatFixed(c.precision, 4), formatFixed(c.recall, 4), formatFixed(c.f1, 4), c.support])),
  ];
  if (e.thresholds && e.thresholds.length > 0) {
    parts.push('<h3>Thresholds</h3>');
    parts.push(htmlTable(['rule', 'threshold', 'precision', 'recall', 'F1', 'contact rate'], e.thresholds.map((t): Cell[] => [t.name, formatFixed(t.threshold, 4), formatFixed(t.precision, 4), formatFixed(t.recall, 4), formatFixed(t.f1, 4), formatPercent(t.positiveRate)])));
  }
  return section('Confusion matrix and per-class precision, recall, F1', parts.join('\n'), 'confusion');
}

async function importanceSection(e: Evaluation | undefined): Promise<string> {
  const importance = [...(e?.featureImportance ?? [])].sort((a, b) => b.importance - a.importance);
  if (importance.length === 0) return section('Permutation importance', missing('permutation importance (importanceRepeats 0)'), 'importance');
  const rows = importance.map((f) => ({ feature: f.feature, importance: f.importance }));
  return section(
    'Permutation importance',
    [
      await chartFigure(barChart({ rows, x: 'feature', y: 'importance', xTitle: 'input', yTitle: 'mean drop of ROC AUC when shuffled', horizontal: true, color: '#0891b2' }), 'Which inputs matter: how much the test ROC AUC drops when an input’s values are shuffled.'),
      htmlTable(['input', 'AUC drop', 'std'], importance.map((f): Cell[] => [f.feature, formatFixed(f.importance, 4), formatFixed(f.std, 4)])),
    ].join('\n'),
    'importance',
  );
}

async function searchSection(search: SearchReport | undefined): Promise<string> {
  if (!search || search.trials.length === 0) return section('Hyperparameter search', missing('a search'), 'search');
  const header = `Strategy ${search.strategy}, selected by validation ${search.selectBy}; ${search.trials.length} trial(s), chosen trial ${search.chosenTrial}${search.timedOut ? ' (the time budget ran out)' : ''}, ${formatFixed(search.searchSeconds, 1)} s.`;
  const rows = search.trials.map((t) => ({ trial: String(t.trial), auc: t.bestValAuc, rung: `rung ${t.rung}` }));
  const drawnKeys = [...new Set(search.trials.flatMap((t) => Object.keys(t.drawn)))].sort();
  return section(
    'Hyperparameter search',
    [
      paragraph(header),
      ...(search.trials.length > 1
        ? [await chartFigure(barChart({ rows, x: 'trial', y: 'auc', xTitle: 'trial', yTitle: 'best validation AUC', color: '#9333ea' }), 'Best validation ROC AUC of each trial.')]
        : []),
      htmlTable(
        ['trial', 'rung', 'epochs', 'best epoch', 'val loss', 'val AUC', ...drawnKeys],
        search.trials.map((t): Cell[] => [
          `${t.trial}${t.trial === search.chosenTrial ? ' (chosen)' : ''}`,
          String(t.rung),
          t.epochs,
          t.bestEpoch,
          formatFixed(t.bestValLoss, 4),
          formatFixed(t.bestValAuc, 4),
          ...drawnKeys.map((k) => (k in t.drawn ? JSON.stringify(t.drawn[k]) : '')),
        ]),
      ),
    ].join('\n'),
    'search',
  );
}

function dataSection(d: TrainingDataSummary | undefined, e: Evaluation | undefined): string {
  if (!d) return section('Evaluation split', missing('where the rows went'), 'data');
  const rows: Cell[][] = [
    ['rows in the file', d.rows],
    ['rejected by the reader', d.rejectedByReader],
    ['without a label', d.unlabelled],
    ...Object.entries(d.droppedByEncoder).map(([why, n]): Cell[] => [`refused by the encoder: ${why}`, n]),
    ['training', d.trainRows],
    ['validation (early stopping, calibration, thresholds)', d.validationRows],
    ['test (every figure in this report)', d.testRows],
  ];
  const classes = e ? paragraph(`Test classes: ${e.classes.map((c, i) => `${c} ${formatInteger(e.classCounts[i] ?? 0)}`).join(', ')}.`) : '';
  return section('Evaluation split', `${paragraph(`From ${d.source}; test split: ${d.testSplit}.`)}\n${htmlTable(['rows', 'count'], rows)}\n${classes}`, 'data');
}

/**
 * The training report (`report.html` in every bundle that training writes), rendered from the
 * manifest alone: learning curves, ROC and precision–recall curves, calibration before and after,
 * the confusion matrix and per-class figures at the chosen threshold, permutation importance, the
 * search's trials and the evaluation split. Sections a bundle has no data for say so.
 * @example await renderTrainingReport(bundle.manifest)
 */
export async function renderTrainingReport(manifest: Omit<BundleManifest, 'files'>): Promise<string> {
  const m = manifest.metrics as TrainingMetrics;
  const e = m.evaluation;
  const body: string[] = [];
  const placeholder = placeholderBanner(manifest.economics);
  if (placeholder) body.push(banner(placeholder));
  if (e) {
    body.push(
      metricCards([
        ['test ROC AUC', formatFixed(e.rocAuc, 4)],
        ['PR-AUC', formatFixed(e.prAuc, 4)],
        ['log loss', formatFixed(e.logLoss, 4)],
        ['ECE', formatFixed(e.expectedCalibrationError, 4)],
        ['accuracy', formatPercent(e.accuracy)],
      ]),
    );
  }
  body.push(dataSection(m.data, e));
  body.push(await learningSection(m));
  body.push(await curvesSection(m));
  body.push(await calibrationSection(m));
  if (e) body.push(await confusionSection(e));
  body.push(await importanceSection(e));
  body.push(await searchSection(m.search));
  return htmlPage({
    title: `Training report: ${manifest.name} ${manifest.version}`,
    subtitle: `${manifest.task} model (${manifest.classes.join(', ')}), created ${manifest.created}${m.training?.backend ? `, trained on tfjs ${m.training.backend}` : ''}.`,
    body: body.join('\n'),
    footer: 'Generated by Propensity from the bundle manifest. Charts are SVG rendered on the server; this page loads nothing.',
  });
}
