import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DriftScheduleProps {
  readonly driftFunction: IFunction;
  /** An EventBridge expression, e.g. `cron(0 6 * * ? *)` (UTC). */
  readonly scheduleExpression: string;
  readonly failedInvocations: IQueue;
}

/** Runs the drift/retrain function on an EventBridge schedule; a run that fails twice lands in the failure queue. */
export class DriftSchedule extends Construct {
  public readonly rule: Rule;

  constructor(scope: Construct, id: string, props: DriftScheduleProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Rule', {
      description: 'Drift check and retrain/promotion of Propensity models',
      schedule: Schedule.expression(props.scheduleExpression),
      targets: [new LambdaFunction(props.driftFunction)],
    });
    props.driftFunction.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new SqsDestination(props.failedInvocations),
    });
  }
}
