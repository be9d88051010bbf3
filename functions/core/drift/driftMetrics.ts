import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DriftError } from '../errors.js';
import type { DriftReport } from './checkDrift.js';

/**
 * The drift metrics contract with the CloudWatch alarms (infra/constructs/driftAlarms.ts holds the
 * same names; a unit test keeps them equal). Kept here rather than imported from infra so the
 * Lambda bundle never pulls in aws-cdk-lib.
 */
export const DRIFT_METRIC_NAMESPACE = 'Propensity';
export const DRIFT_METRIC_DIMENSIONS = { model: 'model', feature: 'feature' } as const;
export const DRIFT_METRIC_NAMES = {
  /** Largest feature PSI of the check. Dimension: model. */
  featurePsiMax: 'FeaturePsiMax',
  /** Share (0–1) of the checked features at alert level. Dimension: model. */
  driftedFeatureShare: 'DriftedFeatureShare',
  /** PSI of the score distribution against validation. Dimension: model. */
  scorePsi: 'ScorePsi',
  /** PSI of one feature. Dimensions: model, feature. */
  featurePsi: 'FeaturePsi',
  /** Expected precision of the runs' selections (CBPE, no labels needed). Dimension: model. */
  estimatedPrecision: 'EstimatedPrecision',
} as const;

/**
 * Publishes a drift report as CloudWatch Embedded Metric Format lines on stdout (Powertools
 * Metrics): one line with the model-level metrics, then one `FeaturePsi` line per feature.
 * Powertools' default `service` dimension is removed so the dimension sets are exactly
 * `[model]` and `[model, feature]`, the ones the alarms watch. A report without a verdict
 * (too few rows) publishes nothing: the alarms treat missing data as not breaching.
 *
 * @returns the number of EMF lines written.
 * @throws DriftError when neither the report nor `options.model` names the model.
 * @example
 * emitDriftMetrics(report); // {"_aws":{…"Dimensions":[["model"]]…},"model":"bank-marketing","FeaturePsiMax":1.53,…}
 */
export function emitDriftMetrics(report: DriftReport, options: { model?: string; namespace?: string } = {}): number {
  const model = options.model ?? report.model;
  if (!model) throw new DriftError('cannot publish drift metrics: the report names no model');
  if (report.status === 'insufficient-data') return 0;

  const metrics = new Metrics({ namespace: options.namespace ?? DRIFT_METRIC_NAMESPACE });
  metrics.clearDefaultDimensions();
  let lines = 0;

  metrics.addDimension(DRIFT_METRIC_DIMENSIONS.model, model);
  metrics.addMetric(DRIFT_METRIC_NAMES.featurePsiMax, MetricUnit.NoUnit, report.featurePsiMax);
  metrics.addMetric(DRIFT_METRIC_NAMES.driftedFeatureShare, MetricUnit.NoUnit, report.driftedFeatureShare);
  if (report.score) metrics.addMetric(DRIFT_METRIC_NAMES.scorePsi, MetricUnit.NoUnit, report.score.psi);
  const selection = report.performance.selection;
  if (selection) metrics.addMetric(DRIFT_METRIC_NAMES.estimatedPrecision, MetricUnit.NoUnit, selection.expectedPrecision);
  metrics.publishStoredMetrics();
  lines++;

  for (const feature of report.features) {
    if (feature.psi === null) continue;
    metrics.addDimension(DRIFT_METRIC_DIMENSIONS.model, model);
    metrics.addDimension(DRIFT_METRIC_DIMENSIONS.feature, feature.name);
    metrics.addMetric(DRIFT_METRIC_NAMES.featurePsi, MetricUnit.NoUnit, feature.psi);
    metrics.publishStoredMetrics();
    lines++;
  }
  return lines;
}
