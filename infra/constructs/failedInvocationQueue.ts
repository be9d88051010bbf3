import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface FailedInvocationQueueProps {
  readonly alarmTopic: ITopic;
}

/**
 * Where Lambda puts an asynchronous invocation (an S3 event, a schedule tick) after its last retry,
 * with the original event and the error, plus an alarm as soon as one arrives.
 */
export class FailedInvocationQueue extends Construct {
  public readonly queue: Queue;
  public readonly alarm: Alarm;

  constructor(scope: Construct, id: string, props: FailedInvocationQueueProps) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter store for failed Lambda invocations; nothing consumes it automatically, so a second-level DLQ would never receive anything.',
    });
    this.alarm = new Alarm(this, 'DepthAlarm', {
      alarmDescription: 'A score, drift or retrain invocation failed after all retries; the event and the error are in the failed-invocation queue.',
      metric: this.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new SnsAction(props.alarmTopic));
  }
}
