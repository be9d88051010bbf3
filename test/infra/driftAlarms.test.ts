import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { driftMetricSets } from '../../functions/core/drift/driftMetrics.js';
import type { DriftReport } from '../../functions/core/drift/checkDrift.js';
import {
  DEFAULT_DRIFT_THRESHOLDS,
  DRIFT_METRIC_DIMENSION,
  DRIFT_METRIC_NAMES,
  DRIFT_METRIC_NAMESPACE,
  DriftAlarms,
} from '../../infra/constructs/driftAlarms.js';
import { resourceProperties } from './cfnResources.js';

function synth(props: { models: string[]; thresholds?: Partial<typeof DEFAULT_DRIFT_THRESHOLDS> }) {
  const stack = new Stack(new App(), 'Test');
  const topic = new Topic(stack, 'Topic');
  const alarms = new DriftAlarms(stack, 'Drift', { ...props, alarmTopic: topic });
  return { stack, topic, alarms, template: Template.fromStack(stack) };
}

describe('DriftAlarms', () => {
  it('keeps the metric contract the drift function publishes to', () => {
    expect(DRIFT_METRIC_NAMESPACE).toBe('Propensity');
    expect(DRIFT_METRIC_DIMENSION).toBe('model');
    expect(DRIFT_METRIC_NAMES).toEqual({
      featurePsiMax: 'FeaturePsiMax',
      driftedFeatureShare: 'DriftedFeatureShare',
      scorePsi: 'ScorePsi',
    });
    expect(DEFAULT_DRIFT_THRESHOLDS).toEqual({ featurePsiMax: 0.25, driftedFeatureShare: 0.5, scorePsi: 0.25 });
  });

  it('watches exactly the metric set the core publishes for a model: same names, same [model] dimension', () => {
    // Prepare: a drift report with a verdict, as the drift function publishes it.
    const report = {
      status: 'warn',
      model: 'audiobooks',
      featurePsiMax: 0.4,
      driftedFeatureShare: 0.2,
      score: { psi: 0.1, level: 'ok' },
      performance: { selection: null },
      features: [],
    } as unknown as DriftReport;
    // Act
    const [modelSet] = driftMetricSets(report);
    const { template } = synth({ models: ['audiobooks'] });
    // Assess: every alarm's metric is one the core publishes, under the dimensions it publishes.
    const alarms = Object.values(resourceProperties(template, 'AWS::CloudWatch::Alarm'));
    expect(alarms.map((alarm) => alarm.MetricName).sort()).toEqual(Object.keys(modelSet!.values).sort());
    for (const alarm of alarms) {
      expect(alarm.Namespace).toBe('Propensity');
      expect(Object.fromEntries((alarm.Dimensions as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]))).toEqual(modelSet!.dimensions);
    }
  });

  it('creates one alarm per metric for a model: daily maximum, at or above the threshold, to the topic', () => {
    const { stack, topic, template } = synth({ models: ['audiobooks'] });
    const topicRef = { Ref: stack.getLogicalId(topic.node.defaultChild as never) };
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    for (const [metricName, threshold] of [
      ['FeaturePsiMax', 0.25],
      ['DriftedFeatureShare', 0.5],
      ['ScorePsi', 0.25],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Propensity',
        MetricName: metricName,
        Dimensions: [{ Name: 'model', Value: 'audiobooks' }],
        Period: 86400,
        Statistic: 'Maximum',
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [topicRef],
      });
    }
  });

  it('applies overridden thresholds and keeps the defaults for the rest', () => {
    const { template, alarms } = synth({ models: ['card-offer', 'segmentation'], thresholds: { scorePsi: 0.1 } });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'ScorePsi', Threshold: 0.1 }, 2);
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'FeaturePsiMax', Threshold: 0.25 }, 2);
    expect([...alarms.alarms.keys()]).toEqual(['card-offer', 'segmentation']);
  });

  it('creates each model once even if it is listed twice', () => {
    const { template } = synth({ models: ['audiobooks', 'audiobooks'] });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
  });
});
