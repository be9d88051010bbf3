import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { AlarmTopic } from '../constructs/alarmTopic.js';
import { DATA_PREFIXES, DataBucket } from '../constructs/dataBucket.js';
import { DataBucketAccess } from '../constructs/dataBucketAccess.js';
import { DataKey } from '../constructs/dataKey.js';
import { DriftAlarms } from '../constructs/driftAlarms.js';
import { ExtractIngest } from '../constructs/extractIngest.js';
import { FailedInvocationQueue } from '../constructs/failedInvocationQueue.js';
import { FunctionAlarms } from '../constructs/functionAlarms.js';
import { FunctionNetwork } from '../constructs/functionNetwork.js';
import { FunctionSchedule } from '../constructs/functionSchedule.js';
import { PredictEndpoint } from '../constructs/predictEndpoint.js';
import { PropensityFunction } from '../constructs/propensityFunction.js';
import { ScoringFanOut } from '../constructs/scoringFanOut.js';
import type { PropensityStackConfig } from './propensityStackConfig.js';

export interface PropensityStackProps extends StackProps {
  readonly config: PropensityStackConfig;
}

/**
 * Wiring only: the data key and the functions' network (unless a sandbox opts out); the data
 * bucket; the score function on S3 uploads; the predict endpoint (a function URL, read-only on
 * `models/`); the drift function (read-only but for `drift/`) and the
 * retrain function (the only writer of `models/`) each on its own schedule; every function's
 * alarms, the drift alarms and the failure queue, all to one topic.
 */
export class PropensityStack extends Stack {
  public readonly config: PropensityStackConfig;
  /** The customer-managed key of the data at rest (absent when `customerManagedKey` is false). */
  public readonly dataKey?: DataKey;
  /** The functions' VPC placement (absent when `isolatedNetwork` is false). */
  public readonly network?: FunctionNetwork;
  public readonly data: DataBucket;
  public readonly alarmTopic: AlarmTopic;
  public readonly failedInvocations: FailedInvocationQueue;
  public readonly scoreFunction: PropensityFunction;
  public readonly scoreFunctionAlarms: FunctionAlarms;
  public readonly driftFunction: PropensityFunction;
  public readonly driftSchedule: FunctionSchedule;
  public readonly driftFunctionAlarms: FunctionAlarms;
  public readonly retrainFunction: PropensityFunction;
  public readonly retrainSchedule: FunctionSchedule;
  public readonly retrainFunctionAlarms: FunctionAlarms;
  public readonly driftAlarms: DriftAlarms;
  /** Extracts above `fanOutBytes`: plan → Distributed Map of parts → merge. */
  public readonly fanOut: ScoringFanOut;
  /** `POST /predict/<model>` behind a function URL with AWS_IAM auth; read-only on models/. */
  public readonly predict: PredictEndpoint;
  /** Every alarm of the stack, e.g. for a dashboard or a composite alarm. */
  public readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: PropensityStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    const architecture = config.lambdaArchitecture === 'arm64' ? Architecture.ARM_64 : Architecture.X86_64;
    const { incoming, models, outputs, labels, training, drift, index, suppression, history } = DATA_PREFIXES;

    if (config.customerManagedKey) this.dataKey = new DataKey(this, 'DataKey');
    const encryptionKey = this.dataKey?.key;
    if (config.isolatedNetwork) {
      this.network = new FunctionNetwork(this, 'Network', {
        allowInternetEgress: config.allowInternetEgress,
        ...(config.vpcId ? { vpcId: config.vpcId } : {}),
        ...(encryptionKey ? { encryptionKey } : {}),
      });
    }
    // Every function runs in the network and logs under the key, when the stack has them.
    const placement = { ...(this.network ? { network: this.network } : {}), ...(encryptionKey ? { encryptionKey } : {}) };

    this.data = new DataBucket(this, 'DataBucket', { ...config, ...(encryptionKey ? { encryptionKey } : {}) });
    this.network?.restrictS3To(this.data.bucket);
    const access = new DataBucketAccess(this.data.bucket);
    this.alarmTopic = new AlarmTopic(this, 'Alarms', { email: config.alarmEmail });
    this.failedInvocations = new FailedInvocationQueue(this, 'FailedInvocations', { alarmTopic: this.alarmTopic.topic, ...(encryptionKey ? { encryptionKey } : {}) });
    const alarmTopic = this.alarmTopic.topic;

    const scoreTimeout = Duration.seconds(config.scoreTimeoutSeconds);
    this.scoreFunction = new PropensityFunction(this, 'ScoreFunction', {
      entry: 'functions/score/handler.ts',
      serviceName: 'propensity-score',
      description: 'Scores a customer extract from incoming/ and writes scores, target list, ROI and rejects to outputs/',
      memorySize: config.scoreMemoryMb,
      ephemeralStorageMb: config.scoreEphemeralStorageMb,
      partWorker: true,
      timeout: scoreTimeout,
      reservedConcurrentExecutions: config.scoreReservedConcurrency,
      architecture,
      logLevel: config.logLevel,
      ...placement,
    });
    // outputs/ is read too: the run's _SUCCESS marker makes a redelivered event a no-op. It writes
    // each committed run's index under index/ (read back to tell whether a redelivery must rewrite it).
    // It deletes under outputs/ to release its run lock and remove a failed run's partial outputs.
    // The contact policy: it reads the suppression lists, and with a frequency cap the contact history,
    // to which it adds each committed run. It reads the extract by the version id its event names.
    access.bindToFunction(this.scoreFunction, {
      read: [incoming, models, outputs, index, suppression, history],
      readVersions: [incoming],
      list: [models, outputs, suppression, history],
      write: [outputs, index, history],
      remove: [outputs],
    });
    new ExtractIngest(this, 'ExtractIngest', {
      bucket: this.data.bucket,
      scoreFunction: this.scoreFunction,
      failedInvocations: this.failedInvocations,
      retryAttempts: config.scoreRetryAttempts,
      maxEventAge: Duration.seconds(config.scoreMaxEventAgeSeconds),
    });
    this.scoreFunctionAlarms = new FunctionAlarms(this, 'ScoreFunctionAlarms', {
      fn: this.scoreFunction,
      timeout: scoreTimeout,
      alarmTopic,
      label: 'The score function',
    });

    this.fanOut = new ScoringFanOut(this, 'ScoringFanOut', {
      bucket: this.data.bucket,
      access,
      scoreFunction: this.scoreFunction,
      alarmTopic,
      architecture,
      logLevel: config.logLevel,
      fanOutBytes: config.fanOutBytes,
      partBytes: config.fanOutPartBytes,
      maxConcurrency: config.fanOutMaxConcurrency,
      memoryMb: config.fanOutMemoryMb,
      timeout: Duration.minutes(config.fanOutTimeoutMinutes),
      retryAttempts: config.fanOutRetryAttempts,
      // One plan and one merge per execution, and executions are started by score runs.
      stepReservedConcurrency: config.scoreReservedConcurrency,
      partReservedConcurrency: config.fanOutPartReservedConcurrency,
      ...placement,
    });

    const driftTimeout = Duration.seconds(config.driftTimeoutSeconds);
    this.driftFunction = new PropensityFunction(this, 'DriftFunction', {
      entry: 'functions/drift/handler.ts',
      serviceName: 'propensity-drift',
      description: 'Compares recent runs with training data and realized outcomes with expected ones; writes drift reports and metrics',
      memorySize: config.driftMemoryMb,
      timeout: driftTimeout,
      architecture,
      logLevel: config.logLevel,
      // It reads bundles (manifest, baseline) but runs no model.
      modelRuntimes: false,
      // One nightly run; an overlapping retry waits (Lambda keeps retrying a throttled event for hours).
      reservedConcurrentExecutions: 1,
      ...placement,
    });
    // Read-only everywhere but drift/: a drift check can never change a model. It reads its own folder
    // back: the report's history of earlier nights, and the labels it already joined to past runs.
    access.bindToFunction(this.driftFunction, {
      read: [outputs, labels, models, index, drift],
      list: [outputs, labels, models, index, drift],
      write: [drift],
    });
    this.driftFunction.addEnvironment('MODELS', config.models.join(','));
    this.driftSchedule = new FunctionSchedule(this, 'DriftSchedule', {
      fn: this.driftFunction,
      scheduleExpression: config.driftSchedule,
      description: 'Nightly drift check of Propensity models',
      retryAttempts: config.driftRetryAttempts,
      failedInvocations: this.failedInvocations,
    });
    this.driftFunctionAlarms = new FunctionAlarms(this, 'DriftFunctionAlarms', {
      fn: this.driftFunction,
      timeout: driftTimeout,
      alarmTopic,
      label: 'The drift function',
    });

    const retrainTimeout = Duration.seconds(config.retrainTimeoutSeconds);
    this.retrainFunction = new PropensityFunction(this, 'RetrainFunction', {
      entry: 'functions/retrain/handler.ts',
      serviceName: 'propensity-retrain',
      description: 'Trains a challenger on newly labelled data, judges it against the champion, promotes it only if better',
      memorySize: config.retrainMemoryMb,
      timeout: retrainTimeout,
      architecture,
      logLevel: config.logLevel,
      // One nightly run: two at once would train the same challenger twice.
      reservedConcurrentExecutions: 1,
      ...placement,
    });
    // The only writer of models/. It reads incoming/ to join late labels to the customers a run
    // scored, and drift/ for the drift report `onlyOnAlarm` decides on; it writes its record there.
    access.bindToFunction(this.retrainFunction, {
      read: [incoming, outputs, labels, training, models, drift, index],
      list: [outputs, labels, training, models, drift, index],
      write: [models, drift],
    });
    this.retrainFunction.addEnvironment('MODELS', config.models.join(','));
    this.retrainSchedule = new FunctionSchedule(this, 'RetrainSchedule', {
      fn: this.retrainFunction,
      scheduleExpression: config.retrainSchedule,
      description: 'Nightly champion/challenger retraining of Propensity models',
      retryAttempts: config.retrainRetryAttempts,
      failedInvocations: this.failedInvocations,
    });
    this.retrainFunctionAlarms = new FunctionAlarms(this, 'RetrainFunctionAlarms', {
      fn: this.retrainFunction,
      timeout: retrainTimeout,
      alarmTopic,
      label: 'The retrain function',
    });

    this.predict = new PredictEndpoint(this, 'Predict', {
      access,
      alarmTopic,
      architecture,
      logLevel: config.logLevel,
      memoryMb: config.predictMemoryMb,
      timeout: Duration.seconds(config.predictTimeoutSeconds),
      reservedConcurrency: config.predictReservedConcurrency,
      championTtlSeconds: config.championTtlSeconds,
      p99AlarmMs: config.predictP99AlarmMs,
      ...placement,
    });

    this.driftAlarms = new DriftAlarms(this, 'DriftAlarms', { models: config.models, alarmTopic });
    this.alarms = [
      this.failedInvocations.alarm,
      ...this.scoreFunctionAlarms.alarms,
      ...this.driftFunctionAlarms.alarms,
      ...this.retrainFunctionAlarms.alarms,
      ...[...this.driftAlarms.alarms.values()].flatMap((perModel) => Object.values(perModel)),
      ...this.fanOut.alarms,
      ...this.predict.alarms,
    ];
  }
}
