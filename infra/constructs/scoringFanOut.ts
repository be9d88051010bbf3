import { CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Architecture, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import {
  Chain,
  DefinitionBody,
  DistributedMap,
  Fail,
  JsonPath,
  LogLevel,
  Pass,
  StateMachine,
  StateMachineType,
  TaskInput,
  type TaskStateBase,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { DATA_PREFIXES } from './dataBucket.js';
import type { DataBucketAccess } from './dataBucketAccess.js';
import type { FunctionNetwork } from './functionNetwork.js';
import { ManagedPolicyRole } from './managedPolicyRole.js';
import { PropensityFunction } from './propensityFunction.js';

/** The errors a fan-out step is retried on: the handlers' retryable failures and Lambda's own service errors. */
export const FAN_OUT_RETRY_ERRORS = [
  'RetryableStepError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

export interface ScoringFanOutProps {
  readonly bucket: IBucket;
  readonly access: DataBucketAccess;
  /** The S3-triggered score function: it gets StartExecution on this state machine only, and its settings. */
  readonly scoreFunction: LambdaFunction;
  readonly alarmTopic: ITopic;
  readonly architecture: Architecture;
  readonly logLevel: string;
  /** Extracts above this many bytes fan out. */
  readonly fanOutBytes: number;
  /** Target bytes of one part. */
  readonly partBytes: number;
  /** Parts scored at once (MaxConcurrency). */
  readonly maxConcurrency: number;
  /** Memory of the part and finish functions. */
  readonly memoryMb: number;
  /** Execution timeout. */
  readonly timeout: Duration;
  /** Retries of a step on a retryable error, with exponential backoff. */
  readonly retryAttempts: number;
  /** Reserved concurrency of the plan and finish functions: one of each per execution, started by score runs. */
  readonly stepReservedConcurrency: number;
  /** Reserved concurrency of the part function: parts scored at once across executions (a throttled part is retried). */
  readonly partReservedConcurrency: number;
  /** Where the functions run. @default - outside a VPC */
  readonly network?: FunctionNetwork;
  /** Encrypts the functions' and the state machine's log groups. @default - CloudWatch Logs' own encryption */
  readonly encryptionKey?: IKey;
}

/**
 * Scoring beyond one Lambda: a Standard state machine `plan → DistributedMap(part) → merge`, with
 * a Catch on each to an abort step (error.json, the parts deleted) and a Fail. Grants and configures
 * together: each function's S3 rights are scoped to what it writes (part: `outputs/<…>/_parts/*`
 * only), the score function may start this state machine and nothing else and learns its ARN and
 * the size threshold in the same call, and failed, timed-out or aborted executions alarm.
 */
export class ScoringFanOut extends Construct {
  public readonly planFunction: PropensityFunction;
  public readonly partFunction: PropensityFunction;
  public readonly finishFunction: PropensityFunction;
  public readonly stateMachine: StateMachine;
  /** The state machine's role: its grants in a customer-managed policy. */
  public readonly stateMachineRole: ManagedPolicyRole;
  public readonly map: DistributedMap;
  public readonly failedExecutions: Alarm;
  public readonly timedOutExecutions: Alarm;
  public readonly abortedExecutions: Alarm;
  /** The three alarms above. */
  public readonly alarms: readonly Alarm[];
  private readonly bucket: IBucket;

  constructor(scope: Construct, id: string, props: ScoringFanOutProps) {
    super(scope, id);
    this.bucket = props.bucket;
    const { incoming, models, outputs, suppression, history } = DATA_PREFIXES;
    const common = {
      entry: 'functions/fanout/handlers.ts',
      architecture: props.architecture,
      logLevel: props.logLevel,
      ...(props.network ? { network: props.network } : {}),
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    };
    // The lock outlives the execution by a minute, as the score function's outlives its timeout.
    const lockTtlSeconds = String(props.timeout.toSeconds() + 60);

    this.planFunction = new PropensityFunction(this, 'PlanFunction', {
      ...common,
      handler: 'plan',
      serviceName: 'propensity-fan-out-plan',
      description: 'Fan-out: takes the run lock and splits a large extract into line-aligned parts with ranged reads',
      memorySize: 1024,
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: props.stepReservedConcurrency,
    });
    // Every read of the extract names the version the event carried.
    props.access.bindToFunction(this.planFunction, { read: [incoming, models, outputs], readVersions: [incoming], list: [models, outputs] });
    this.grantRunObjects(this.planFunction, 'PlanWrites', ['s3:PutObject', 's3:DeleteObject'], [`${outputs}*/_LOCK`, `${outputs}*/_parts/*`]);
    this.planFunction.addEnvironment('PART_BYTES', String(props.partBytes));
    this.planFunction.addEnvironment('FAN_OUT_LOCK_TTL_SECONDS', lockTtlSeconds);

    this.partFunction = new PropensityFunction(this, 'PartFunction', {
      ...common,
      handler: 'part',
      serviceName: 'propensity-fan-out-part',
      description: 'Fan-out: scores one byte range of an extract and saves the part under the run\'s _parts/',
      memorySize: props.memoryMb,
      timeout: Duration.minutes(15),
      reservedConcurrentExecutions: props.partReservedConcurrency,
    });
    // Reads outputs/ only to see whether its run was aborted; writes nothing but its own part.
    // Each part applies the contact policy: the suppression lists and, with a frequency cap, the history.
    props.access.bindToFunction(this.partFunction, { read: [incoming, models, outputs, suppression, history], readVersions: [incoming], list: [models, outputs, suppression, history] });
    this.grantRunObjects(this.partFunction, 'PartWrites', ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'], [`${outputs}*/_parts/*`]);

    this.finishFunction = new PropensityFunction(this, 'FinishFunction', {
      ...common,
      handler: 'finish',
      serviceName: 'propensity-fan-out-finish',
      description: 'Fan-out: merges the parts into the run\'s outputs (_SUCCESS last), or leaves error.json; deletes the parts',
      memorySize: props.memoryMb,
      timeout: Duration.minutes(15),
      reservedConcurrentExecutions: props.stepReservedConcurrency,
    });
    // The merge records the run's contacts in the history when the model has a frequency cap.
    props.access.bindToFunction(this.finishFunction, { read: [models, outputs], list: [models, outputs], write: [outputs, history] });
    this.grantRunObjects(this.finishFunction, 'FinishDeletes', ['s3:DeleteObject'], [`${outputs}*`]);

    const retry = { errors: [...FAN_OUT_RETRY_ERRORS], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: props.retryAttempts };
    const invoke = (stateId: string, fn: LambdaFunction, payload: TaskInput | undefined, resultPath: string) => {
      const task = new LambdaInvoke(this, stateId, {
        lambdaFunction: fn,
        ...(payload ? { payload } : {}),
        payloadResponseOnly: true,
        // One retry policy for every step, below; not CDK's default one on top of it.
        retryOnServiceExceptions: false,
        resultPath,
      });
      if (props.retryAttempts > 0) task.addRetry(retry);
      return task;
    };

    const abort = invoke('Abort', this.finishFunction, TaskInput.fromObject({ action: 'abort', 'run.$': '$.run', 'error.$': '$.error' }), JsonPath.DISCARD);
    const failed = new Fail(this, 'RunFailed', { error: 'FanOutFailed', cause: 'A step failed: error.json in the run\'s outputs says why' });
    const toAbort = abort.next(failed);
    const catchInto = (task: TaskStateBase | DistributedMap) => task.addCatch(toAbort, { errors: ['States.ALL'], resultPath: '$.error' });

    const start = new Pass(this, 'Start', { parameters: { 'run.$': '$' } });
    const plan = invoke('Plan', this.planFunction, TaskInput.fromJsonPathAt('$.run'), '$');
    catchInto(plan);
    const part = invoke('ScorePart', this.partFunction, undefined, '$');
    this.map = new DistributedMap(this, 'ScoreParts', {
      itemsPath: '$.parts',
      itemSelector: { 'run.$': '$.run', 'part.$': '$$.Map.Item.Value' },
      maxConcurrency: props.maxConcurrency,
      toleratedFailurePercentage: 0,
      // A part may take up to Lambda's 15 minutes: Express child workflows stop at 5.
      mapExecutionType: StateMachineType.STANDARD,
      resultPath: JsonPath.DISCARD,
    });
    this.map.itemProcessor(part);
    catchInto(this.map);
    const merge = invoke('Merge', this.finishFunction, TaskInput.fromObject({ action: 'merge', 'run.$': '$.run' }), '$.merge');
    catchInto(merge);

    const logGroup = new LogGroup(this, 'StateMachineLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    });
    this.stateMachineRole = new ManagedPolicyRole(this, 'StateMachineRole', {
      assumedBy: new ServicePrincipal('states.amazonaws.com'),
      description: 'Runs the Propensity fan-out state machine',
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      role: this.stateMachineRole,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(Chain.start(start).next(plan).next(this.map).next(merge)),
      timeout: props.timeout,
      tracingEnabled: true,
      // Every state's events, but not their inputs and outputs (keys and counts today; kept out anyway).
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });

    this.acknowledgeFindings();

    this.stateMachine.grantStartExecution(props.scoreFunction);
    props.scoreFunction.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    props.scoreFunction.addEnvironment('FAN_OUT_BYTES', String(props.fanOutBytes));

    const alarm = (alarmId: string, metric: Metric, what: string) => {
      const created = new Alarm(this, alarmId, {
        alarmDescription: `A fan-out scoring execution ${what}: its run has error.json and no _SUCCESS (see the state machine's log).`,
        metric,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(props.alarmTopic));
      return created;
    };
    const period = Duration.minutes(5);
    this.failedExecutions = alarm('ExecutionsFailed', this.stateMachine.metricFailed({ period, statistic: 'Sum' }), 'failed');
    this.timedOutExecutions = alarm('ExecutionsTimedOut', this.stateMachine.metricTimedOut({ period, statistic: 'Sum' }), 'timed out');
    this.abortedExecutions = alarm('ExecutionsAborted', this.stateMachine.metricAborted({ period, statistic: 'Sum' }), 'was aborted');
    this.alarms = [this.failedExecutions, this.timedOutExecutions, this.abortedExecutions];
  }

  /** The wildcards CDK writes into the state machine's policies, and what the compliance packs ask that does not fit, each with its reason. */
  private acknowledgeFindings(): void {
    const stack = Stack.of(this);
    const id = (construct: Construct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
    const machine = id(this.stateMachine);
    // cdk-nag names the finding by the ARN as rendered: literals where the stack's environment is known.
    const literal = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    const arnHead = `arn:${literal(stack.partition, 'Partition')}:states:${literal(stack.region, 'Region')}:${literal(stack.account, 'AccountId')}`;
    const executions = `${arnHead}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machine}"}]}]}`;
    Validations.of(this.stateMachineRole).acknowledge(
      ...[this.planFunction, this.partFunction, this.finishFunction].map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::<${id(fn)}.Arn>:*]`,
        reason: 'LambdaInvoke grants the function and its versions (`:*`); these are the fan-out\'s own three functions.',
      })),
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray tracing and CloudWatch Logs delivery accept no narrower resource than "*" (AwsSolutions-SF1/SF2 ask for both).' },
    );
    const distributedMapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy');
    if (distributedMapPolicy) {
      Validations.of(distributedMapPolicy).acknowledge(
        { id: `AwsSolutions-IAM5[Resource::${executions}:*]`, reason: 'The Distributed Map starts, describes and stops its child executions: only executions of this state machine.' },
        { id: `AwsSolutions-IAM5[Resource::${executions}/*:*]`, reason: 'The Distributed Map run\'s child executions are named by Step Functions: only under this state machine.' },
        ...['NIST.800.53.R5-IAMNoInlinePolicy', 'PCI.DSS.321-IAMNoInlinePolicy'].map((ruleId) => ({
          id: ruleId,
          reason: 'CDK writes the Distributed Map\'s rights (its own child executions only) as an inline policy it creates; the rest of the role\'s rights are in a customer-managed policy.',
        })),
      );
    }
    // On the construct: it covers the plan, part and finish functions.
    Validations.of(this).acknowledge(
      ...['Serverless-LambdaDLQ', 'NIST.800.53.R5-LambdaDLQ'].map((ruleId) => ({
        id: ruleId,
        reason: 'The state machine invokes the fan-out functions synchronously: a failed step is retried and caught (Abort, Fail, the ExecutionsFailed alarm); no asynchronous event exists to dead-letter.',
      })),
    );
  }

  /** Object actions on key patterns inside the run folders, with the cdk-nag acknowledgement where the grant is made. */
  private grantRunObjects(fn: LambdaFunction, sid: string, actions: string[], patterns: string[]): void {
    const bucket = this.bucket;
    fn.addToRolePolicy(new PolicyStatement({ sid, effect: Effect.ALLOW, actions, resources: patterns.map((p) => bucket.arnForObjects(p)) }));
    const cfnBucket = bucket.node.defaultChild;
    if (!(cfnBucket instanceof CfnElement)) return;
    const bucketArn = `<${Stack.of(cfnBucket).getLogicalId(cfnBucket)}.Arn>`;
    Validations.of(fn.role ?? fn).acknowledge(
      ...patterns.map((pattern) => ({
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${pattern}]`,
        reason: `Only ${pattern} inside a run folder; the model and run id in the key are known only at run time.`,
      })),
    );
  }

}
