import { METRICS_NAMESPACE } from '../constants.js';
import { DriftError } from '../errors.js';
import type { DriftReport } from './checkDrift.js';

/**
 * The drift metrics contract with the CloudWatch alarms: infra/constructs/driftAlarms.ts imports
 * these names (this module pulls in nothing heavy), never the other way round, so the Lambda
 * bundle never pulls in aws-cdk-lib.
 */
export const DRIFT_METRIC_NAMESPACE = METRICS_NAMESPACE;
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

/** One metric datum set: the dimensions it is published under and its values. */
export interface DriftMetricSet {
  readonly dimensions: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, number>>;
}

/**
 * The metrics a drift report publishes, as data: one set with the model-level metrics under
 * `[model]`, then one `FeaturePsi` set per feature under `[model, feature]`, the dimension sets the
 * alarms watch. A report without a verdict (too few rows) gives none: the alarms treat missing
 * data as not breaching. The adapters publish them (EMF through Powertools in Lambda).
 *
 * @throws DriftError when neither the report nor `options.model` names the model.
 * @example
 * driftMetricSets(report); // [{ dimensions: { model: 'bank-marketing' }, values: { FeaturePsiMax: 1.53, … } }, …]
 */
export function driftMetricSets(report: DriftReport, options: { model?: string } = {}): DriftMetricSet[] {
  const model = options.model ?? report.model;
  if (!model) throw new DriftError('cannot publish drift metrics: the report names no model');
  if (report.status === 'insufficient-data') return [];
  const values: Record<string, number> = {
    [DRIFT_METRIC_NAMES.featurePsiMax]: report.featurePsiMax,
    [DRIFT_METRIC_NAMES.driftedFeatureShare]: report.driftedFeatureShare,
  };
  if (report.score) values[DRIFT_METRIC_NAMES.scorePsi] = report.score.psi;
  const selection = report.performance.selection;
  if (selection) values[DRIFT_METRIC_NAMES.estimatedPrecision] = selection.expectedPrecision;
  const sets: DriftMetricSet[] = [{ dimensions: { [DRIFT_METRIC_DIMENSIONS.model]: model }, values }];
  for (const feature of report.features) {
    if (feature.psi === null) continue;
    sets.push({
      dimensions: { [DRIFT_METRIC_DIMENSIONS.model]: model, [DRIFT_METRIC_DIMENSIONS.feature]: feature.name },
      values: { [DRIFT_METRIC_NAMES.featurePsi]: feature.psi },
    });
  }
  return sets;
}
