import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface FunctionAlarmsProps {
  readonly fn: IFunction;
  /** The function's timeout: the duration alarm fires at a share of it. */
  readonly timeout: Duration;
  readonly alarmTopic: ITopic;
  /** Words for the alarm description, e.g. "The score function". */
  readonly label: string;
  /**
   * Share of the timeout at which the longest invocation of five minutes alarms.
   * @default 0.8
   */
  readonly durationShareOfTimeout?: number;
  /**
   * Whether a failed invocation is retried (asynchronous: S3, schedules); a synchronous caller gets the error.
   * @default true
   */
  readonly retried?: boolean;
}

/**
 * Alarms on a function's Errors and Throttles (any one in five minutes) and on its Duration nearing
 * the timeout (the warning before work is cut off), each notifying the topic.
 */
export class FunctionAlarms extends Construct {
  public readonly errors: Alarm;
  public readonly throttles: Alarm;
  public readonly duration: Alarm;
  /** The three alarms above, for dashboards and composite alarms. */
  public readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: FunctionAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const share = props.durationShareOfTimeout ?? 0.8;
    if (!(share > 0 && share <= 1)) throw new Error(`durationShareOfTimeout must be in (0, 1], got ${share}`);
    this.errors = new Alarm(this, 'Errors', {
      alarmDescription: `${props.label} returned an error (${props.retried === false ? 'its caller got it' : 'it will be retried'}; see its logs).`,
      metric: props.fn.metricErrors({ period, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // Throttles mean invocations are waiting on concurrency (the function's reserved share or the account's).
    this.throttles = new Alarm(this, 'Throttles', {
      alarmDescription: `${props.label} was throttled: invocations are queued behind its concurrency limit.`,
      metric: props.fn.metricThrottles({ period, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const timeoutMs = props.timeout.toMilliseconds();
    this.duration = new Alarm(this, 'Duration', {
      alarmDescription: `${props.label} ran for ${Math.round(share * 100)}% of its ${props.timeout.toSeconds()} s timeout: the next larger run may be cut off.`,
      metric: props.fn.metricDuration({ period, statistic: 'Maximum' }),
      threshold: Math.round(timeoutMs * share),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.alarms = [this.errors, this.throttles, this.duration];
    for (const alarm of this.alarms) alarm.addAlarmAction(new SnsAction(props.alarmTopic));
  }
}
