import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATA_PREFIXES } from '../../infra/constructs/dataBucket.js';
import type { PropensityStack } from '../../infra/stacks/propensityStack.js';
import { functionRoleStatements, identityPolicies, propertiesOf, resourceProperties, type ResourceProperties, type Statement } from './cfnResources.js';
import { logicalIdOf, synthPropensity } from './synthPropensity.js';

/** One `LambdaFunctionConfigurations` entry of the S3 bucket notifications custom resource. */
interface LambdaFunctionConfiguration {
  Events: unknown;
  LambdaFunctionArn: unknown;
  Filter: { Key: { FilterRules: { Name: string; Value: string }[] } };
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** `arn:…:bucket/prefix*` as the template writes it: `Fn::Join ['', [GetAtt bucket Arn, '/prefix*']]`. */
function objectArn(bucketId: string, pattern: string) {
  return { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${pattern}`]] };
}

let stack: PropensityStack;
let template: Template;
let bucketId: string;
let scoreId: string;
let driftId: string;
let retrainId: string;
let queueId: string;
let topicId: string;

/** Statements of the policies attached to a function's role. */
const roleStatements = (functionId: string): Statement[] => functionRoleStatements(template, functionId);

function statementWithSid(statements: Statement[], sid: string): Statement {
  const found = statements.find((statement) => statement.Sid === sid);
  if (!found) throw new Error(`no statement ${sid} in ${JSON.stringify(statements)}`);
  return found;
}

beforeAll(() => {
  ({ stack, template } = synthPropensity());
  bucketId = logicalIdOf(stack, stack.data.bucket);
  scoreId = logicalIdOf(stack, stack.scoreFunction);
  driftId = logicalIdOf(stack, stack.driftFunction);
  retrainId = logicalIdOf(stack, stack.retrainFunction);
  queueId = logicalIdOf(stack, stack.failedInvocations.queue);
  topicId = logicalIdOf(stack, stack.alarmTopic.topic);
});

describe('data bucket', () => {
  it('is encrypted under the data key with an S3 Bucket Key, versioned, private and logs access to the log bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [logicalIdOf(stack, stack.dataKey!.key), 'Arn'] } },
            BucketKeyEnabled: true,
          },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalIdOf(stack, stack.data.accessLogBucket) } },
    });
  });

  it('expires raw extracts under incoming/ after 30 days, what runs wrote about customers after 400, noncurrent versions after 30', () => {
    const rules = propertiesOf(template, 'AWS::S3::Bucket', bucketId).LifecycleConfiguration.Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({ Prefix: 'incoming/', ExpirationInDays: 30, Status: 'Enabled' }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
    );
    // Extracts go first; a run's outputs, index and contact-history entry after a year and a bit (the late
    // labels' join window is 120 days); models, labels, training snapshots and drift reports are kept.
    const expiring = rules.filter((rule) => 'ExpirationInDays' in rule).map((rule) => [rule.Prefix, rule.ExpirationInDays]);
    expect(expiring).toEqual([['incoming/', 30], ['outputs/', 400], ['index/', 400], ['history/', 400]]);
  });

  it('denies every request that is not over TLS, on both buckets', () => {
    const tlsDeny = Match.objectLike({
      Effect: 'Deny',
      Action: 's3:*',
      Principal: { AWS: '*' },
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    for (const bucket of [stack.data.bucket, stack.data.accessLogBucket]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalIdOf(stack, bucket) },
        PolicyDocument: { Statement: Match.arrayWith([tlsDeny]) },
      });
    }
  });
});

describe('S3 notifications', () => {
  it('invoke the score function for .csv and .csv.gz uploads under incoming/ only', () => {
    const configurations = new Capture();
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: bucketId },
      NotificationConfiguration: { LambdaFunctionConfigurations: configurations },
    });
    const filters = (configurations.asArray() as unknown as LambdaFunctionConfiguration[]).map((configuration) => {
      expect(configuration.Events).toEqual(['s3:ObjectCreated:*']);
      expect(configuration.LambdaFunctionArn).toEqual({ 'Fn::GetAtt': [scoreId, 'Arn'] });
      const rules = configuration.Filter.Key.FilterRules;
      return Object.fromEntries(rules.map((rule) => [rule.Name, rule.Value]));
    });
    expect(filters).toEqual([
      { prefix: 'incoming/', suffix: '.csv' },
      { prefix: 'incoming/', suffix: '.csv.gz' },
    ]);
    expect(template.findResources('Custom::S3BucketNotifications')).toSatisfy((found: object) => Object.keys(found).length === 1);
  });

  it('are allowed to invoke the score function only from this bucket', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [scoreId, 'Arn'] },
      Principal: 's3.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [bucketId, 'Arn'] },
    });
  });
});

describe('score function', () => {
  it('runs on nodejs22.x or newer with memory, /tmp, timeout and reserved concurrency from context', () => {
    const fn = propertiesOf(template, 'AWS::Lambda::Function', scoreId);
    const runtime = /^nodejs(\d+)\.x$/.exec(fn.Runtime);
    expect(runtime, `runtime ${fn.Runtime}`).not.toBeNull();
    expect(Number(runtime![1])).toBeGreaterThanOrEqual(22);
    // Two whole vCPUs (Lambda gives one per 1,769 MB): one scoring worker thread each.
    expect((fn as unknown as { MemorySize: number }).MemorySize).toBeGreaterThanOrEqual(2 * 1769);
    expect(fn).toMatchObject({
      Handler: 'index.handler',
      MemorySize: 3584,
      EphemeralStorage: { Size: 4096 },
      Timeout: 900,
      ReservedConcurrentExecutions: 10,
      Architectures: ['x86_64'],
    });
  });

  it('gets the bucket, its prefixes and the Powertools settings as environment variables', () => {
    const fn = propertiesOf(template, 'AWS::Lambda::Function', scoreId);
    expect(fn.Environment.Variables).toMatchObject({
      BUCKET: { Ref: bucketId },
      MODELS_PREFIX: 'models/',
      OUTPUTS_PREFIX: 'outputs/',
      INCOMING_PREFIX: 'incoming/',
      POWERTOOLS_SERVICE_NAME: 'propensity-score',
      POWERTOOLS_METRICS_NAMESPACE: 'Propensity',
      LOG_LEVEL: 'INFO',
    });
  });

  it('retries a failed S3 event twice, then sends it to the failed-invocation queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: scoreId },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });
});

/** The schedule rule whose target is a function. */
function ruleTargeting(functionId: string): ResourceProperties['AWS::Events::Rule'] {
  const rules = Object.values(resourceProperties(template, 'AWS::Events::Rule')).filter((rule) =>
    rule.Targets.some((target) => JSON.stringify(target.Arn) === JSON.stringify({ 'Fn::GetAtt': [functionId, 'Arn'] })),
  );
  expect(rules).toHaveLength(1);
  return rules[0]!;
}

describe('drift function', () => {
  it('runs daily at 06:00 UTC from its own EventBridge rule', () => {
    expect(ruleTargeting(driftId)).toMatchObject({ ScheduleExpression: 'cron(0 6 * * ? *)', State: 'ENABLED' });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [driftId, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
  });

  it('is small and short: it reads reports and scores, it trains nothing', () => {
    expect(propertiesOf(template, 'AWS::Lambda::Function', driftId)).toMatchObject({ MemorySize: 1024, Timeout: 300 });
    // Nor does it load a model: its asset leaves out onnxruntime and tfjs; the others keep them.
    expect([stack.scoreFunction, stack.driftFunction, stack.retrainFunction].map((fn) => fn.modelRuntimes)).toEqual([true, false, true]);
  });

  it('retries a failed run twice, then sends it to the failed-invocation queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: driftId },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('gets every prefix it uses and the watched models as environment variables, and no other prefix', () => {
    const variables = propertiesOf(template, 'AWS::Lambda::Function', driftId).Environment.Variables;
    expect(variables).toMatchObject({
      BUCKET: { Ref: bucketId },
      OUTPUTS_PREFIX: 'outputs/',
      LABELS_PREFIX: 'labels/',
      MODELS_PREFIX: 'models/',
      DRIFT_PREFIX: 'drift/',
      MODELS: 'bank-marketing,audiobooks,ecommerce-churn,segmentation,card-offer',
      POWERTOOLS_SERVICE_NAME: 'propensity-drift',
    });
    expect(Object.keys(variables).filter((name) => name.endsWith('_PREFIX')).sort()).toEqual(['DRIFT_PREFIX', 'INDEX_PREFIX', 'LABELS_PREFIX', 'MODELS_PREFIX', 'OUTPUTS_PREFIX']);
  });
});

describe('retrain function', () => {
  it('runs daily at 07:00 UTC, after the drift function, from its own EventBridge rule', () => {
    expect(ruleTargeting(retrainId)).toMatchObject({ ScheduleExpression: 'cron(0 7 * * ? *)', State: 'ENABLED' });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [retrainId, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
  });

  it('has the memory and the time to train', () => {
    expect(propertiesOf(template, 'AWS::Lambda::Function', retrainId)).toMatchObject({ MemorySize: 3008, Timeout: 900 });
  });

  it('retries a failed run once, then sends it to the same failed-invocation queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: retrainId },
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('gets every prefix it uses and the watched models as environment variables', () => {
    const fn = propertiesOf(template, 'AWS::Lambda::Function', retrainId);
    expect(fn.Environment.Variables).toMatchObject({
      BUCKET: { Ref: bucketId },
      OUTPUTS_PREFIX: 'outputs/',
      LABELS_PREFIX: 'labels/',
      TRAINING_PREFIX: 'training/',
      MODELS_PREFIX: 'models/',
      DRIFT_PREFIX: 'drift/',
      MODELS: 'bank-marketing,audiobooks,ecommerce-churn,segmentation,card-offer',
      POWERTOOLS_SERVICE_NAME: 'propensity-retrain',
    });
    // It reads extracts under incoming/ to join late labels to the customers a run scored.
    expect(fn.Environment.Variables).toHaveProperty('INCOMING_PREFIX', 'incoming/');
  });
});

describe('IAM', () => {
  const S3_DATA_ACTION = /^s3:(Get|Put|Delete|List|Abort|Restore)/;

  it('grants no s3:* and no wildcard action anywhere', () => {
    const statements = identityPolicies(template).flatMap(
      (policy) => policy.PolicyDocument.Statement,
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      for (const action of asArray(statement.Action)) {
        expect(action, JSON.stringify(statement)).not.toMatch(/^(\*|s3:\*)$/);
      }
    }
  });

  it('never allows an S3 data action on Resource "*"', () => {
    const statements = identityPolicies(template).flatMap(
      (policy) => policy.PolicyDocument.Statement,
    );
    const s3Statements = statements.filter((statement) => asArray(statement.Action).some((action) => S3_DATA_ACTION.test(action)));
    expect(s3Statements.length).toBeGreaterThan(0);
    for (const statement of s3Statements) expect(asArray(statement.Resource), JSON.stringify(statement)).not.toContain('*');
  });

  it('lets the score function read incoming/, models/, outputs/, index/, suppression/ and history/ (incoming/ by version too), list models/, outputs/, suppression/ and history/, write outputs/, index/ and history/, and delete in outputs/ only', () => {
    const statements = roleStatements(scoreId);
    const read = statementWithSid(statements, 'ReadObjects');
    expect(read).toMatchObject({ Effect: 'Allow', Action: 's3:GetObject' });
    // IAM policy minimization sorts resources: compare as sets.
    expect(asArray(read.Resource)).toEqual(expect.arrayContaining(['incoming/*', 'models/*', 'outputs/*', 'index/*', 'suppression/*', 'history/*'].map((p) => objectArn(bucketId, p))));
    expect(asArray(read.Resource)).toHaveLength(6);
    // The event of a versioned bucket names the extract's version, and a GET naming one needs this.
    expect(statementWithSid(statements, 'ReadObjectVersions')).toMatchObject({ Effect: 'Allow', Action: 's3:GetObjectVersion', Resource: objectArn(bucketId, 'incoming/*') });
    const listed = statementWithSid(statements, 'ListPrefixes');
    expect(listed).toMatchObject({ Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] } });
    expect([...(listed.Condition!.StringLike!['s3:prefix'] as string[])].sort()).toEqual(['history/*', 'models/*', 'outputs/*', 'suppression/*']);
    const write = statementWithSid(statements, 'WriteObjects');
    expect(asArray(write.Action).sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    expect(asArray(write.Resource)).toEqual(expect.arrayContaining(['outputs/*', 'index/*', 'history/*'].map((p) => objectArn(bucketId, p))));
    expect(asArray(write.Resource)).toHaveLength(3);
    // Its run lock is released and a failed run's partial outputs removed: delete, in outputs/ only.
    expect(statementWithSid(statements, 'DeleteObjects')).toMatchObject({ Effect: 'Allow', Action: 's3:DeleteObject', Resource: objectArn(bucketId, 'outputs/*') });
    // Nothing else touches S3 (test/integration/s3AccessAllowed.test.ts checks these against the requests a run makes).
    const s3Sids = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:'))).map((s) => s.Sid);
    expect(s3Sids.sort()).toEqual(['DeleteObjects', 'ListPrefixes', 'ReadObjectVersions', 'ReadObjects', 'WriteObjects']);
  });

  it('lets the drift function read and list outputs/, labels/, models/, index/ and drift/ (its own reports and joined labels), and write drift/ only', () => {
    const statements = roleStatements(driftId);
    // IAM policy minimization sorts resources: compare as sets.
    const read = asArray(statementWithSid(statements, 'ReadObjects').Resource);
    expect(read).toEqual(expect.arrayContaining(['outputs/*', 'labels/*', 'models/*', 'index/*', 'drift/*'].map((p) => objectArn(bucketId, p))));
    expect(read).toHaveLength(5);
    const listed = statementWithSid(statements, 'ListPrefixes').Condition!.StringLike!['s3:prefix'] as string[];
    expect([...listed].sort()).toEqual(['drift/*', 'index/*', 'labels/*', 'models/*', 'outputs/*']);
    const write = statementWithSid(statements, 'WriteObjects');
    expect(asArray(write.Resource)).toEqual([objectArn(bucketId, 'drift/*')]);
    const s3Sids = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:'))).map((s) => s.Sid);
    expect(s3Sids.sort()).toEqual(['ListPrefixes', 'ReadObjects', 'WriteObjects']);
  });

  it('lets the retrain function read incoming/, outputs/, labels/, training/, models/, drift/, index/ and write models/ and drift/ only', () => {
    const statements = roleStatements(retrainId);
    const read = statementWithSid(statements, 'ReadObjects');
    expect(asArray(read.Resource)).toEqual(
      expect.arrayContaining(['incoming/*', 'outputs/*', 'labels/*', 'training/*', 'models/*', 'drift/*', 'index/*'].map((p) => objectArn(bucketId, p))),
    );
    expect(asArray(read.Resource)).toHaveLength(7);
    // Never written: the extracts are the warehouse's.
    const write = statementWithSid(statements, 'WriteObjects');
    expect(asArray(write.Resource)).toEqual(expect.arrayContaining([objectArn(bucketId, 'models/*'), objectArn(bucketId, 'drift/*')]));
    expect(asArray(write.Resource)).toHaveLength(2);
  });

  it('lets only the retrain function\'s role write under models/', () => {
    const modelsArn = JSON.stringify(objectArn(bucketId, 'models/*'));
    const writers = identityPolicies(template)
      .filter((policy) =>
        policy.PolicyDocument.Statement.some(
          (statement) =>
            statement.Effect === 'Allow' &&
            asArray(statement.Action).some((action) => /^s3:(PutObject|\*|Put\*)$/.test(action)) &&
            asArray(statement.Resource).some((resource) => JSON.stringify(resource) === modelsArn),
        ),
      )
      .flatMap((policy) => policy.Roles.map((role) => role.Ref));
    const retrainRoleId = propertiesOf(template, 'AWS::Lambda::Function', retrainId).Role['Fn::GetAtt'][0];
    expect(writers).toEqual([retrainRoleId]);
  });

  it('gives the functions roles without AWS-managed or inline policies (one customer-managed policy each); logging is limited to their own log group', () => {
    for (const fnId of [scoreId, driftId, retrainId]) {
      const fn = propertiesOf(template, 'AWS::Lambda::Function', fnId);
      const roleId = fn.Role['Fn::GetAtt'][0];
      expect(propertiesOf(template, 'AWS::IAM::Role', roleId).ManagedPolicyArns).toBeUndefined();
      expect(Object.values(resourceProperties(template, 'AWS::IAM::Policy')).filter((policy) => policy.Roles.some((role) => role.Ref === roleId))).toEqual([]);
      expect(Object.values(resourceProperties(template, 'AWS::IAM::ManagedPolicy')).filter((policy) => policy.Roles.some((role) => role.Ref === roleId))).toHaveLength(1);
      const logGroupId = fn.LoggingConfig.LogGroup.Ref;
      const logs = roleStatements(fnId).find((s) => asArray(s.Action).includes('logs:PutLogEvents'));
      expect(logs?.Resource).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    }
  });

  it('covers every data prefix exactly as documented', () => {
    expect(Object.values(DATA_PREFIXES)).toEqual(['incoming/', 'models/', 'outputs/', 'labels/', 'training/', 'drift/', 'index/', 'suppression/', 'history/']);
  });
});

describe('failure queue and alarms', () => {
  it('keeps failed invocations encrypted under the data key, TLS-only, for 14 days', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(stack, stack.dataKey!.key), 'Arn'] },
      KmsDataKeyReusePeriodSeconds: 24 * 3600,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('alarms to SNS as soon as one message is in the failure queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('alarms on the score function\'s Errors and Throttles', () => {
    for (const metricName of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: scoreId } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: topicId }],
      });
    }
  });

  it.each([
    ['score', () => scoreId, 900],
    ['drift', () => driftId, 300],
    ['retrain', () => retrainId, 900],
  ] as const)('alarms on the %s function\'s Errors, Throttles, and a Duration at 80%% of its timeout', (_name, id, timeoutSeconds) => {
    const alarms = Object.values(
      resourceProperties(template, 'AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: id() } }] } }),
    );
    expect(alarms.map((alarm) => `${alarm.MetricName} ${alarm.Statistic}>=${alarm.Threshold}`).sort()).toEqual([
      `Duration Maximum>=${timeoutSeconds * 1000 * 0.8}`,
      'Errors Sum>=1',
      'Throttles Sum>=1',
    ]);
    for (const alarm of alarms) expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [{ Ref: topicId }] });
  });

  it('keeps every alarm of the template as a stack property, each notifying the topic', () => {
    const inTemplate = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).sort();
    expect(stack.alarms.map((alarm) => logicalIdOf(stack, alarm)).sort()).toEqual(inTemplate);
    // The failure queue, three per function (score, drift, retrain), three per model, three for the fan-out's executions,
    // four for the predict endpoint (its function's three and its p99 duration).
    expect(inTemplate).toHaveLength(1 + 3 * 3 + 5 * 3 + 3 + 4);
    for (const props of Object.values(resourceProperties(template, 'AWS::CloudWatch::Alarm'))) {
      expect(props.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });

  it('publishes to an SNS topic encrypted with a rotating KMS key that CloudWatch may use, TLS only', () => {
    const keyId = logicalIdOf(stack, stack.alarmTopic.key);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has three drift alarms per configured model, at the agreed thresholds, on daily metrics', () => {
    const drift = resourceProperties(template, 'AWS::CloudWatch::Alarm', { Properties: { Namespace: 'Propensity' } });
    const seen = Object.values(drift).map((p) => {
      expect(p).toMatchObject({ Period: 86400, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [{ Ref: topicId }] });
      return `${p.Dimensions[0].Name}=${p.Dimensions[0].Value} ${p.MetricName}>=${p.Threshold}`;
    });
    const expected = ['bank-marketing', 'audiobooks', 'ecommerce-churn', 'segmentation', 'card-offer'].flatMap((model) => [
      `model=${model} FeaturePsiMax>=0.25`,
      `model=${model} DriftedFeatureShare>=0.5`,
      `model=${model} ScorePsi>=0.25`,
    ]);
    expect(seen.sort()).toEqual(expected.sort());
  });
});
