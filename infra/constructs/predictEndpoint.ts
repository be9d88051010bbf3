import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IGrantable, Grant } from 'aws-cdk-lib/aws-iam';
import { type Architecture, FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DATA_PREFIXES } from './dataBucket.js';
import type { DataBucketAccess } from './dataBucketAccess.js';
import { FunctionAlarms } from './functionAlarms.js';
import type { FunctionNetwork } from './functionNetwork.js';
import { PropensityFunction } from './propensityFunction.js';

export interface PredictEndpointProps {
  /** Grants the function read access to `models/` and sets BUCKET and MODELS_PREFIX. */
  readonly access: DataBucketAccess;
  readonly alarmTopic: ITopic;
  readonly architecture: Architecture;
  readonly logLevel: string;
  /** The VPC placement every function of the stack shares (absent in a sandbox without `isolatedNetwork`). */
  readonly network?: FunctionNetwork;
  /** The data key its log group is encrypted with (absent in a sandbox without `customerManagedKey`). */
  readonly encryptionKey?: IKey;
  /**
   * A request is one thread of work (encode, one model call): one whole vCPU (1,769 MB) serves it
   * fastest; more memory buys no speed.
   * @default 1769
   */
  readonly memoryMb?: number;
  /** @default Duration.seconds(15): a cold start (bundle read, model load) plus 1,000 customers explained */
  readonly timeout?: Duration;
  /** Containers serving at once; beyond it callers get 429 (throttles alarm). @default 10 */
  readonly reservedConcurrency?: number;
  /** How long a warm container serves a champion before asking the registry again. @default 300 */
  readonly championTtlSeconds?: number;
  /** The p99 of Duration over 5 minutes above which the latency alarm fires (three periods running). @default 1000 */
  readonly p99AlarmMs?: number;
}

/**
 * The online predict endpoint: the predict function (`functions/predict/handler.ts`) behind a
 * function URL with `AWS_IAM` auth (no public endpoint: every call is SigV4-signed by a principal
 * allowed `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction`), reserved concurrency, read-only
 * access to the registry under `models/`, and alarms on errors, throttles and p99 duration.
 */
export class PredictEndpoint extends Construct {
  public readonly fn: PropensityFunction;
  public readonly url: FunctionUrl;
  /** Any invocation that threw (an internal failure; the caller got a 502). Refused requests (4xx) are answers, not errors. */
  public readonly errors: Alarm;
  public readonly throttles: Alarm;
  /** p99 of Duration above `p99AlarmMs` for 15 minutes: the endpoint is slow for its callers. */
  public readonly p99Duration: Alarm;
  /** Every alarm above, plus the duration-near-timeout alarm. */
  public readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: PredictEndpointProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(15);
    this.fn = new PropensityFunction(this, 'Function', {
      entry: 'functions/predict/handler.ts',
      serviceName: 'propensity-predict',
      description: 'Online predict: POST /predict/<model> scores 1-1,000 customers with the champion bundle, as a batch run would',
      memorySize: props.memoryMb ?? 1769,
      timeout,
      reservedConcurrentExecutions: props.reservedConcurrency ?? 10,
      architecture: props.architecture,
      logLevel: props.logLevel,
      ...(props.network ? { network: props.network } : {}),
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    });
    // Read-only: GetObject for champion.json and the bundle files; ListBucket so a missing
    // champion.json is a 404 (an unknown model), not a 403.
    props.access.bindToFunction(this.fn, { read: [DATA_PREFIXES.models], list: [DATA_PREFIXES.models] });
    this.fn.addEnvironment('CHAMPION_TTL_SECONDS', String(props.championTtlSeconds ?? 300));
    this.url = this.fn.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
    Validations.of(this.fn).acknowledge(
      ...['Serverless-LambdaDLQ', 'NIST.800.53.R5-LambdaDLQ'].map((ruleId) => ({
        id: ruleId,
        reason: 'The predict function answers its function URL synchronously: the caller gets the error (a 5xx) and the errors alarm counts it; no asynchronous event exists to dead-letter.',
      })),
    );
    new CfnOutput(this, 'Url', { value: this.url.url, description: 'POST <url>predict/<model>, SigV4-signed for the service "lambda"' });

    const functionAlarms = new FunctionAlarms(this, 'Alarms', { fn: this.fn, timeout, alarmTopic: props.alarmTopic, label: 'The predict function', retried: false });
    this.errors = functionAlarms.errors;
    this.throttles = functionAlarms.throttles;
    const p99Ms = props.p99AlarmMs ?? 1000;
    this.p99Duration = new Alarm(this, 'P99Duration', {
      alarmDescription: `The predict function's p99 duration was above ${p99Ms} ms for 15 minutes: callers wait (cold starts, large requests, or a slow registry).`,
      metric: this.fn.metricDuration({ period: Duration.minutes(5), statistic: 'p99' }),
      threshold: p99Ms,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.p99Duration.addAlarmAction(new SnsAction(props.alarmTopic));
    this.alarms = [...functionAlarms.alarms, this.p99Duration];
  }

  /**
   * Allows a principal to call the URL: `lambda:InvokeFunctionUrl` (AWS_IAM auth) and, as function
   * URLs created since October 2025 require, `lambda:InvokeFunction` only via the URL.
   */
  grantInvoke(grantee: IGrantable): Grant {
    return this.url.grantInvokeUrl(grantee);
  }
}
