import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { EventType, type IBucket } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { DATA_PREFIXES } from './dataBucket.js';
import type { FailedInvocationQueue } from './failedInvocationQueue.js';

/** File endings that start a scoring run. S3 allows one suffix per filter, hence one notification each. */
export const EXTRACT_SUFFIXES = ['.csv', '.csv.gz'] as const;

export interface ExtractIngestProps {
  readonly bucket: IBucket;
  readonly scoreFunction: IFunction;
  /** Receives the event and the error once retries are exhausted. */
  readonly failedInvocations: FailedInvocationQueue;
  /** 0–2 retries of an asynchronous invocation. */
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

/**
 * An extract uploaded under incoming/ invokes the score function asynchronously; failed invocations
 * are retried, then parked in the failed-invocation queue. Outputs go under outputs/, which no filter
 * matches, so scoring cannot trigger itself.
 */
export class ExtractIngest extends Construct {
  constructor(scope: Construct, id: string, props: ExtractIngestProps) {
    super(scope, id);
    const destination = new LambdaDestination(props.scoreFunction);
    for (const suffix of EXTRACT_SUFFIXES) {
      props.bucket.addEventNotification(EventType.OBJECT_CREATED, destination, { prefix: DATA_PREFIXES.incoming, suffix });
    }
    props.scoreFunction.configureAsyncInvoke({
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
      onFailure: props.failedInvocations.destinationFor(props.scoreFunction),
    });
    acknowledgeNotificationsHandler(this, props.bucket);
  }
}

/**
 * The notifications are applied by a CDK-provided singleton function (one per stack) whose role we do not
 * shape; its findings are acknowledged where it lives.
 */
function acknowledgeNotificationsHandler(scope: Construct, bucket: IBucket): void {
  const stack = Stack.of(scope);
  const handler = stack.node.children.find((child) => child.node.id.startsWith('BucketNotificationsHandler'));
  if (!handler) return;
  Validations.of(handler).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'CDK\'s own bucket-notifications handler runs once per deployment and only needs to write its logs; the managed policy is what CDK ships it with.',
  });
  // The handler's right to set this bucket's notifications, as CDK writes it.
  const handlerPolicy = bucket.node.tryFindChild('Notifications')?.node.tryFindChild('HandlerPolicy');
  if (!handlerPolicy) return;
  Validations.of(handlerPolicy).acknowledge(
    ...['NIST.800.53.R5-IAMNoInlinePolicy', 'PCI.DSS.321-IAMNoInlinePolicy'].map((id) => ({
      id,
      reason: 'CDK attaches the notifications handler\'s one right (s3:PutBucketNotification on this bucket) as an inline policy of its own singleton role.',
    })),
  );
}
