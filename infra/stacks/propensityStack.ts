import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { AlarmTopic } from '../constructs/alarmTopic.js';
import { DATA_PREFIXES, DataBucket } from '../constructs/dataBucket.js';
import { DataBucketAccess } from '../constructs/dataBucketAccess.js';
import { DriftAlarms } from '../constructs/driftAlarms.js';
import { DriftSchedule } from '../constructs/driftSchedule.js';
import { ExtractIngest } from '../constructs/extractIngest.js';
import { FailedInvocationQueue } from '../constructs/failedInvocationQueue.js';
import { FunctionAlarms } from '../constructs/functionAlarms.js';
import { PropensityFunction } from '../constructs/propensityFunction.js';
import type { PropensityStackConfig } from './propensityStackConfig.js';

export interface PropensityStackProps extends StackProps {
  readonly config: PropensityStackConfig;
}

/** Wiring only: the data bucket, the score and drift functions, their triggers, and the alarms. */
export class PropensityStack extends Stack {
  public readonly config: PropensityStackConfig;
  public readonly data: DataBucket;
  public readonly scoreFunction: PropensityFunction;
  public readonly driftFunction: PropensityFunction;
  public readonly alarmTopic: AlarmTopic;
  public readonly failedInvocations: FailedInvocationQueue;

  constructor(scope: Construct, id: string, props: PropensityStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    const architecture = config.lambdaArchitecture === 'arm64' ? Architecture.ARM_64 : Architecture.X86_64;
    const { incoming, models, outputs, labels, training, drift } = DATA_PREFIXES;

    this.data = new DataBucket(this, 'DataBucket', config);
    const access = new DataBucketAccess(this.data.bucket);
    this.alarmTopic = new AlarmTopic(this, 'Alarms', { email: config.alarmEmail });
    this.failedInvocations = new FailedInvocationQueue(this, 'FailedInvocations', { alarmTopic: this.alarmTopic.topic });

    this.scoreFunction = new PropensityFunction(this, 'ScoreFunction', {
      entry: 'functions/score/handler.ts',
      serviceName: 'propensity-score',
      description: 'Scores a customer extract from incoming/ and writes scores, target list, ROI and rejects to outputs/',
      memorySize: config.scoreMemoryMb,
      timeout: Duration.seconds(config.scoreTimeoutSeconds),
      reservedConcurrentExecutions: config.scoreReservedConcurrency,
      architecture,
      logLevel: config.logLevel,
    });
    // outputs/ is read too: the run's _SUCCESS marker makes a redelivered event a no-op.
    access.bindToFunction(this.scoreFunction, {
      read: [incoming, models, outputs],
      list: [models, outputs],
      write: [outputs],
    });
    new ExtractIngest(this, 'ExtractIngest', {
      bucket: this.data.bucket,
      scoreFunction: this.scoreFunction,
      failedInvocations: this.failedInvocations.queue,
      retryAttempts: config.scoreRetryAttempts,
      maxEventAge: Duration.seconds(config.scoreMaxEventAgeSeconds),
    });
    new FunctionAlarms(this, 'ScoreFunctionAlarms', {
      fn: this.scoreFunction,
      alarmTopic: this.alarmTopic.topic,
      label: 'The score function',
    });

    this.driftFunction = new PropensityFunction(this, 'DriftFunction', {
      entry: 'functions/scheduled/handler.ts',
      serviceName: 'propensity-drift',
      description: 'Compares recent scores and labels with training data, writes drift reports, retrains and promotes models',
      memorySize: config.driftMemoryMb,
      timeout: Duration.seconds(config.driftTimeoutSeconds),
      architecture,
      logLevel: config.logLevel,
    });
    access.bindToFunction(this.driftFunction, {
      read: [incoming, outputs, labels, training, models, drift],
      list: [outputs, labels, training, models, drift],
      write: [drift, models],
    });
    this.driftFunction.addEnvironment('MODELS', config.models.join(','));
    new DriftSchedule(this, 'DriftSchedule', {
      driftFunction: this.driftFunction,
      scheduleExpression: config.driftSchedule,
      failedInvocations: this.failedInvocations.queue,
    });
    new FunctionAlarms(this, 'DriftFunctionAlarms', {
      fn: this.driftFunction,
      alarmTopic: this.alarmTopic.topic,
      label: 'The drift function',
    });
    new DriftAlarms(this, 'DriftAlarms', { models: config.models, alarmTopic: this.alarmTopic.topic });
  }
}
