import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { IDestination, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { grantKeyUse } from './dataKey.js';

export interface FailedInvocationQueueProps {
  readonly alarmTopic: ITopic;
  /** Encrypts the queue (the events hold extract keys and errors). @default - SQS-managed encryption (a sandbox only) */
  readonly encryptionKey?: IKey;
}

/**
 * Where Lambda puts an asynchronous invocation (an S3 event, a schedule tick) after its last retry,
 * with the original event and the error, and where EventBridge puts a schedule event it could not
 * deliver; plus an alarm as soon as one arrives.
 */
export class FailedInvocationQueue extends Construct {
  public readonly queue: Queue;
  public readonly alarm: Alarm;
  private readonly key?: IKey;

  constructor(scope: Construct, id: string, props: FailedInvocationQueueProps) {
    super(scope, id);
    this.key = props.encryptionKey;
    this.queue = new Queue(this, 'Queue', {
      // A data key reused for a day: one KMS call a day, not one per message.
      ...(props.encryptionKey
        ? { encryption: QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey, dataKeyReuse: Duration.hours(24) }
        : { encryption: QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const reason =
      'This queue is itself the dead-letter store for failed Lambda invocations and undeliverable schedule events; nothing consumes it automatically, so a second-level DLQ would never receive anything.';
    Validations.of(this.queue).acknowledge({ id: 'AwsSolutions-SQS3', reason }, { id: 'Serverless-SQSRedrivePolicy', reason });
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

  /**
   * The on-failure destination of a function's asynchronous invocations. Lambda sends with the
   * function's role: it gets SendMessage on this queue and, in the key policy, the use of the queue's
   * key. (Not `SqsDestination`: its grant adds IAM statements for the key that this key policy ignores.)
   */
  destinationFor(fn: IFunction): IDestination {
    grantKeyUse(this.key, fn);
    Validations.of(fn).acknowledge(
      ...['Serverless-LambdaDLQ', 'NIST.800.53.R5-LambdaDLQ'].map((id) => ({
        id,
        reason: 'Failed asynchronous invocations go to an on-failure destination (this queue), which keeps the event and the error; a DeadLetterConfig would send each failure twice.',
      })),
    );
    const queue = this.queue;
    return {
      bind: (_scope, target) => {
        Grant.addToPrincipal({ grantee: target, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
        return { destination: queue.queueArn };
      },
    };
  }
}
