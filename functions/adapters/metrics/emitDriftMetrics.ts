import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DriftReport } from '../../core/drift/checkDrift.js';
import { DRIFT_METRIC_NAMESPACE, driftMetricSets } from '../../core/drift/driftMetrics.js';

/**
 * Publishes a drift report as CloudWatch Embedded Metric Format lines on stdout (Powertools
 * Metrics), one line per {@link driftMetricSets} set. Powertools' default `service` dimension is
 * removed so the dimension sets are exactly `[model]` and `[model, feature]`, the ones the alarms watch.
 *
 * @returns the number of EMF lines written.
 * @throws DriftError when neither the report nor `options.model` names the model.
 * @example
 * emitDriftMetrics(report); // {"_aws":{…"Dimensions":[["model"]]…},"model":"bank-marketing","FeaturePsiMax":1.53,…}
 */
export function emitDriftMetrics(report: DriftReport, options: { model?: string; namespace?: string } = {}): number {
  const sets = driftMetricSets(report, options.model === undefined ? {} : { model: options.model });
  if (sets.length === 0) return 0;
  const metrics = new Metrics({ namespace: options.namespace ?? DRIFT_METRIC_NAMESPACE });
  metrics.clearDefaultDimensions();
  for (const set of sets) {
    for (const [name, value] of Object.entries(set.dimensions)) metrics.addDimension(name, value);
    for (const [name, value] of Object.entries(set.values)) metrics.addMetric(name, MetricUnit.NoUnit, value);
    metrics.publishStoredMetrics();
  }
  return sets.length;
}
