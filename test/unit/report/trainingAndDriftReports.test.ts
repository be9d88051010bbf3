import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../../functions/core/bundle/bundleManifest.js';
import type { DriftReport } from '../../../functions/core/drift/checkDrift.js';
import { binLabels, driftDistributions } from '../../../functions/core/drift/driftDistributions.js';
import type { DriftBaseline } from '../../../functions/core/drift/driftBaseline.js';
import type { RunProfile } from '../../../functions/core/drift/runProfile.js';
import { curvePoints, trainingCurves } from '../../../functions/core/evaluation/trainingCurves.js';
import { collectDriftHistory, NO_HISTORY, renderDriftReport } from '../../../functions/core/report/driftReport.js';
import { escapeHtml } from '../../../functions/core/report/html.js';
import { renderTrainingReport } from '../../../functions/core/report/trainingReport.js';

const figures = (html: string) => (html.match(/<figure class="chart">/g) ?? []).length;

describe('curvePoints and trainingCurves', () => {
  it('walks the thresholds highest first: ROC and precision at each', () => {
    expect(curvePoints([0.9, 0.8, 0.7, 0.6], [true, false, true, false])).toEqual([
      { threshold: 1, falsePositiveRate: 0, truePositiveRate: 0, precision: 1 },
      { threshold: 0.9, falsePositiveRate: 0, truePositiveRate: 0.5, precision: 1 },
      { threshold: 0.8, falsePositiveRate: 0.5, truePositiveRate: 0.5, precision: 0.5 },
      { threshold: 0.7, falsePositiveRate: 0.5, truePositiveRate: 1, precision: 2 / 3 },
      { threshold: 0.6, falsePositiveRate: 1, truePositiveRate: 1, precision: 0.5 },
    ]);
    expect(curvePoints([0.2, 0.3], [true, true])).toEqual([]);
  });

  it('keeps reliability before and after calibration on the same rows', () => {
    const labels = Int32Array.of(1, 0, 1, 0);
    const curves = trainingCurves({ values: Float32Array.of(0.75, 0.25, 0.75, 0.25), rows: 4, width: 1 }, Float32Array.of(0.95, 0.55, 0.95, 0.55), labels, ['no', 'yes']);
    expect(curves.roc.map((c) => c.class)).toEqual(['yes']);
    expect(curves.reliability.after.map((b) => [b.count, b.meanPredicted, b.observedRate])).toEqual([[2, 0.25, 0], [2, 0.75, 1]]);
    expect(curves.reliability.eceAfter).toBeCloseTo(0.25, 6);
    expect(curves.reliability.eceBefore).toBeCloseTo((0.05 + 0.55) / 2, 6);
  });
});

function manifest(metrics: Record<string, unknown>, extra: Partial<BundleManifest> = {}): BundleManifest {
  return {
    name: 'hand',
    version: 'v1',
    created: '2026-11-30T00:00:00.000Z',
    task: 'binary',
    classes: ['no', 'yes'],
    economics: { currency: 'EUR', costPerContact: 1, valuePerResponse: 10, fixedCost: 0, budget: {}, policy: 'max-expected-profit' },
    metrics,
    ...extra,
  } as unknown as BundleManifest;
}

const EVALUATION = {
  task: 'binary',
  classes: ['no', 'yes'],
  rows: 100,
  classCounts: [80, 20],
  accuracy: 0.85,
  perClass: [],
  macroF1: 0.7,
  rocAuc: 0.81,
  prAuc: 0.5,
  logLoss: 0.35,
  confusionMatrix: [[75, 5], [10, 10]],
  expectedCalibrationError: 0.02,
  calibrationBins: [{ lower: 0, upper: 0.1, count: 100, meanPredicted: 0.05, observedRate: 0.06 }],
  thresholds: [{ name: 'max-expected-profit', threshold: 0.1, precision: 0.4, recall: 0.8, f1: 0.5333, positiveRate: 0.4, confusionMatrix: [[56, 24], [4, 16]] }],
  featureImportance: [{ feature: 'age', importance: 0.03, std: 0.01 }, { feature: `job ${'<b>'}`, importance: 0.01, std: 0 }],
};

describe('renderTrainingReport', () => {
  it('draws what the manifest holds and says plainly what it does not', async () => {
    const html = await renderTrainingReport(manifest({ evaluation: EVALUATION, calibration: { method: 'platt' } }));

    expect(html).toContain('<h1>Training report: hand v1</h1>');
    expect(html).toContain('Not recorded in this bundle: the per-epoch history.');
    expect(html).toContain('Not recorded in this bundle: the test curves (bundles trained before reports kept them).');
    expect(html).toContain('Test rows after calibration (the probabilities before it were not recorded in this bundle): ECE 0.0200.');
    // At the chosen threshold: the threshold's confusion matrix and per-class figures from it.
    expect(html).toContain('at threshold 0.1000 (max expected profit)');
    expect(html).toContain('<td>yes</td><td class="num">0.4000</td><td class="num">0.8000</td><td class="num">0.5333</td><td class="num">20</td>');
    expect(html).toContain(`<td>job ${escapeHtml('<b>')}</td>`);
    // Reliability, confusion matrix, importance.
    expect(figures(html)).toBe(3);
    expect(html).not.toContain('<div class="banner');
  });

  it('draws learning curves, ROC, PR and both reliability curves when they were kept, and the placeholder banner', async () => {
    const curves = trainingCurves({ values: Float32Array.of(0.8, 0.3, 0.6, 0.1), rows: 4, width: 1 }, Float32Array.of(0.9, 0.2, 0.7, 0.2), Int32Array.of(1, 0, 1, 0), ['no', 'yes']);
    const history = [1, 2, 3].map((epoch) => ({ epoch, loss: 0.5 / epoch, valLoss: 0.6 / epoch, valAuc: 0.7 + epoch / 100, learningRate: 0.001 }));
    const html = await renderTrainingReport(
      manifest(
        { evaluation: EVALUATION, curves, training: { history, bestEpoch: 3 }, search: { strategy: 'successive-halving', selectBy: 'auc', trials: [{ trial: 0, drawn: { dropout: 0.1 }, epochs: 3, bestEpoch: 3, bestValLoss: 0.2, bestValAuc: 0.73, rung: 1 }, { trial: 1, drawn: { dropout: 0.2 }, epochs: 1, bestEpoch: 1, bestValLoss: 0.3, bestValAuc: 0.7, rung: 0 }], chosenTrial: 0, timedOut: false, searchSeconds: 2, members: [] } },
        { economics: { currency: 'EUR', costPerContact: 1, valuePerResponse: 10, fixedCost: 0, budget: {}, policy: 'max-expected-profit', placeholder: true } },
      ),
    );
    // Loss, AUC, ROC, PR, reliability, confusion, importance, trials.
    expect(figures(html)).toBe(8);
    expect(html).toContain('<div class="banner warn" role="note">Placeholder economics');
    expect(html).toContain('<td>0 (chosen)</td>');
    expect(html).toContain('best epoch 3');
  });
});

describe('drift report', () => {
  const baseline = {
    features: [
      { name: 'age', kind: 'numeric', edges: [30, 45], proportions: [0.3, 0.4, 0.3] },
      { name: 'job', kind: 'categorical', categories: ['admin', '<other>'], proportions: [0.5, 0.5] },
    ],
    score: { edges: [0.5], proportions: [0.8, 0.2] },
  } as unknown as DriftBaseline;
  const profile = { features: [{ counts: [0, 1, 3] }, { counts: [2, 2] }], score: { counts: [1, 3] } } as unknown as RunProfile;

  it('puts the runs beside the baseline on the compared bins', () => {
    expect(binLabels([30, 45])).toEqual(['≤ 30', '(30, 45]', '> 45']);
    expect(driftDistributions(baseline, profile)).toEqual({
      features: [
        { name: 'age', kind: 'numeric', bins: ['≤ 30', '(30, 45]', '> 45'], baseline: [0.3, 0.4, 0.3], current: [0, 0.25, 0.75] },
        { name: 'job', kind: 'categorical', bins: ['admin', '<other>'], baseline: [0.5, 0.5], current: [0.5, 0.5] },
      ],
      score: { bins: ['≤ 0.5', '> 0.5'], baseline: [0.8, 0.2], current: [0.25, 0.75] },
    });
  });

  const feature = (name: string, kind: 'numeric' | 'categorical', psi: number, level: 'ok' | 'alert') => ({
    name, kind, importance: null, importanceRank: null, psi, jsDistance: psi / 3, psiWarn: 0.1, psiAlert: 0.25,
    missingRate: { baseline: 0, current: 0, change: 0 }, unseenShare: kind === 'categorical' ? 0 : null, level, causes: level === 'ok' ? [] : ['psi'], ignored: false,
  });
  const report = {
    schemaVersion: 1, model: 'hand', modelVersion: 'v1', baselineId: 'b1', checkedAt: '2026-11-30T06:00:00.000Z', runs: ['r1'], rows: 4, status: 'alert', datasetDrift: true,
    driftedFeatures: ['age'], driftedFeatureShare: 0.5, featurePsiMax: 0.9, reasons: ['age drifted (PSI 0.900 ≥ 0.25)'], warnings: ['only 4 rows <b>'],
    options: { psiWarn: 0.1, psiAlert: 0.25 }, features: [feature('age', 'numeric', 0.9, 'alert'), feature('job', 'categorical', 0, 'ok')],
    score: { psi: 0.6, jsDistance: 0.2, baselineMean: 0.3, currentMean: 0.55, level: 'alert' },
    performance: { rows: 4, expectedResponses: 2, expectedResponseRate: 0.5, selection: null, estimatedAuc: 0.7 },
    distributions: driftDistributions(baseline, profile),
  } as unknown as DriftReport;

  it('renders the verdict, PSI with warn and alert lines, the drifted feature, the score shift, and says there is no realized history', async () => {
    const html = await renderDriftReport(report, NO_HISTORY);

    expect(html).toContain('<div class="banner alert" role="note">Drift alert (dataset drift): age drifted (PSI 0.900 ≥ 0.25)</div>');
    for (const title of ['PSI per feature', 'Baseline and current distributions of the drifted features', 'Score distribution shift', 'Performance', 'Warnings']) expect(html).toContain(`<h2>${title}</h2>`);
    expect(html).toContain('<h3>age</h3>');
    expect(html).not.toContain('<h3>job</h3>');
    expect(html).toContain('warn 0.1');
    expect(html).toContain('alert 0.25');
    expect(html).toContain('No realized performance yet');
    expect(html).toContain('<li>only 4 rows &lt;b&gt;</li>');
    // PSI bars, age distributions, score distributions.
    expect(figures(html)).toBe(3);
  });

  it('reads the history of a drift folder: reports and realized files by name, anything else left out', async () => {
    const realized = { at: '2026-11-29T06:00:00.000Z', runs: [{ run: 'outputs/hand/r0/', labelled: 10, performance: { rows: 10, responders: 3, responseRate: 0.3, expectedResponseRate: 0.25, auc: 0.66, selection: { expectedPrecision: 0.4, precision: 0.5, expectedRoi: 1, roi: 1.5 } } }] };
    const history = collectDriftHistory([
      { name: '2026-11-29.json', json: report },
      { name: '2026-11-29.realized.json', json: realized },
      { name: '2026-11-29.retrain.json', json: { decision: 'kept' } },
      { name: '2026-11-28.json', json: 'not a report' },
    ]);
    expect(history.reports).toHaveLength(1);
    expect(history.realized).toEqual([realized]);

    const html = await renderDriftReport(report, history);
    expect(html).toContain('<td>2026-11-29</td><td>outputs/hand/r0/</td><td class="num">10</td><td class="num">25.0 % → 30.0 %</td><td class="num">0.660</td>');
    expect(figures(html)).toBe(4);
  });
});
