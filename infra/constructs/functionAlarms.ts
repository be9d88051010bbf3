import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface FunctionAlarmsProps {
  readonly fn: IFunction;
  readonly alarmTopic: ITopic;
  /** Words for the alarm description, e.g. "The score function". */
  readonly label: string;
}

/** Alarms on a function's Errors and Throttles: any one in five minutes notifies the topic. */
export class FunctionAlarms extends Construct {
  public readonly errors: Alarm;
  public readonly throttles: Alarm;

  constructor(scope: Construct, id: string, props: FunctionAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    this.errors = new Alarm(this, 'Errors', {
      alarmDescription: `${props.label} returned an error (it will be retried; see its logs).`,
      metric: props.fn.metricErrors({ period, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // Throttles mean extracts are waiting on reserved concurrency.
    this.throttles = new Alarm(this, 'Throttles', {
      alarmDescription: `${props.label} was throttled: invocations are queued behind its reserved concurrency.`,
      metric: props.fn.metricThrottles({ period, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.errors, this.throttles]) alarm.addAlarmAction(new SnsAction(props.alarmTopic));
  }
}
