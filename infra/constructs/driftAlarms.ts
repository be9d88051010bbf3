import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DRIFT_METRIC_DIMENSIONS, DRIFT_METRIC_NAMES as PUBLISHED_DRIFT_METRICS, DRIFT_METRIC_NAMESPACE } from '../../functions/core/drift/driftMetrics.js';

/**
 * The contract with the drift function, imported from the code that publishes the metrics (a
 * module with no dependencies), so the alarms cannot watch a name nobody publishes.
 */
export { DRIFT_METRIC_NAMESPACE };
/** Dimension name carrying the model name (e.g. `bank-marketing`). */
export const DRIFT_METRIC_DIMENSION = DRIFT_METRIC_DIMENSIONS.model;
/** The published drift metrics that carry an alarm, by threshold key. */
export const DRIFT_METRIC_NAMES = {
  /** Largest population stability index over the model's input features. */
  featurePsiMax: PUBLISHED_DRIFT_METRICS.featurePsiMax,
  /** Share (0–1) of the model's features whose PSI is at or above the alert level. */
  driftedFeatureShare: PUBLISHED_DRIFT_METRICS.driftedFeatureShare,
  /** PSI of the score distribution against the one at training time. */
  scorePsi: PUBLISHED_DRIFT_METRICS.scorePsi,
} as const;

/** Alert levels; an alarm fires when the metric is at or above its threshold. */
export interface DriftThresholds {
  /** @default 0.25 (the usual "significant shift" level for PSI) */
  readonly featurePsiMax: number;
  /** @default 0.5 */
  readonly driftedFeatureShare: number;
  /** @default 0.25 */
  readonly scorePsi: number;
}

export const DEFAULT_DRIFT_THRESHOLDS: DriftThresholds = { featurePsiMax: 0.25, driftedFeatureShare: 0.5, scorePsi: 0.25 };

export interface DriftAlarmsProps {
  /** One set of three alarms per model name. */
  readonly models: readonly string[];
  readonly alarmTopic: ITopic;
  /** @default DEFAULT_DRIFT_THRESHOLDS */
  readonly thresholds?: Partial<DriftThresholds>;
}

/**
 * CloudWatch alarms on the daily drift metrics of each model, wired to the alarm topic.
 * Missing data does not alarm: the drift function's own Errors alarm covers a run that did not happen.
 */
export class DriftAlarms extends Construct {
  /** Alarms by model name, then by metric key. */
  public readonly alarms: ReadonlyMap<string, Readonly<Record<keyof DriftThresholds, Alarm>>>;

  constructor(scope: Construct, id: string, props: DriftAlarmsProps) {
    super(scope, id);
    const thresholds: DriftThresholds = { ...DEFAULT_DRIFT_THRESHOLDS, ...props.thresholds };
    const action = new SnsAction(props.alarmTopic);
    const alarms = new Map<string, Record<keyof DriftThresholds, Alarm>>();
    for (const model of new Set(props.models)) {
      const perModel = new Construct(this, model);
      const make = (key: keyof DriftThresholds, description: string): Alarm => {
        const alarm = new Alarm(perModel, DRIFT_METRIC_NAMES[key], {
          alarmDescription: `${model}: ${description} (threshold ${thresholds[key]}).`,
          metric: new Metric({
            namespace: DRIFT_METRIC_NAMESPACE,
            metricName: DRIFT_METRIC_NAMES[key],
            dimensionsMap: { [DRIFT_METRIC_DIMENSION]: model },
            period: Duration.days(1),
            statistic: 'Maximum',
          }),
          threshold: thresholds[key],
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        });
        alarm.addAlarmAction(action);
        return alarm;
      };
      alarms.set(model, {
        featurePsiMax: make('featurePsiMax', 'an input feature has drifted since training'),
        driftedFeatureShare: make('driftedFeatureShare', 'a large share of input features has drifted'),
        scorePsi: make('scorePsi', 'the score distribution has shifted since training'),
      });
    }
    this.alarms = alarms;
  }
}
