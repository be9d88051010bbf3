import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { FailedInvocationQueue } from './failedInvocationQueue.js';

export interface FunctionScheduleProps {
  readonly fn: IFunction;
  /** An EventBridge expression, e.g. `cron(0 6 * * ? *)` (UTC). */
  readonly scheduleExpression: string;
  /** What the runs do, for the rule's description. */
  readonly description: string;
  /** Times Lambda retries a failed run (0–2) before it goes to the failure queue. */
  readonly retryAttempts: number;
  /** Receives the schedule's event and the error once retries are exhausted, or when EventBridge cannot deliver it. */
  readonly failedInvocations: FailedInvocationQueue;
}

/**
 * Runs a function on an EventBridge schedule (an asynchronous invocation): a failed run is retried
 * `retryAttempts` times, then lands in the failed-invocation queue; an event EventBridge cannot deliver
 * (the function deleted, throttled for a day) lands there too, as the target's dead-letter queue.
 * Schedule, retries and both failure paths are set together, so no scheduled function misses one.
 */
export class FunctionSchedule extends Construct {
  public readonly rule: Rule;

  constructor(scope: Construct, id: string, props: FunctionScheduleProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Rule', {
      description: props.description,
      schedule: Schedule.expression(props.scheduleExpression),
      targets: [new LambdaFunction(props.fn, { deadLetterQueue: props.failedInvocations.queue })],
    });
    props.fn.configureAsyncInvoke({
      retryAttempts: props.retryAttempts,
      onFailure: props.failedInvocations.destinationFor(props.fn),
    });
  }
}
