import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface FunctionScheduleProps {
  readonly fn: IFunction;
  /** An EventBridge expression, e.g. `cron(0 6 * * ? *)` (UTC). */
  readonly scheduleExpression: string;
  /** What the runs do, for the rule's description. */
  readonly description: string;
  /** Times Lambda retries a failed run (0–2) before it goes to the failure queue. */
  readonly retryAttempts: number;
  /** Receives the schedule's event and the error once retries are exhausted. */
  readonly failedInvocations: IQueue;
}

/**
 * Runs a function on an EventBridge schedule (an asynchronous invocation): a failed run is retried
 * `retryAttempts` times, then lands in the failed-invocation queue. Schedule, retries and failure
 * destination are set together, so no scheduled function is left without one of them.
 */
export class FunctionSchedule extends Construct {
  public readonly rule: Rule;

  constructor(scope: Construct, id: string, props: FunctionScheduleProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Rule', {
      description: props.description,
      schedule: Schedule.expression(props.scheduleExpression),
      targets: [new LambdaFunction(props.fn)],
    });
    props.fn.configureAsyncInvoke({
      retryAttempts: props.retryAttempts,
      onFailure: new SqsDestination(props.failedInvocations),
    });
  }
}
