import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATA_PREFIXES } from '../../infra/constructs/dataBucket.js';
import type { PropensityStack } from '../../infra/stacks/propensityStack.js';
import { propertiesOf, resourceProperties, type Statement } from './cfnResources.js';
import { logicalIdOf, synthPropensity } from './synthPropensity.js';

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
let queueId: string;
let topicId: string;

/** Statements of the policy attached to a function's role. */
function roleStatements(functionId: string): Statement[] {
  const fn = propertiesOf(template, 'AWS::Lambda::Function', functionId);
  const roleId = fn.Role['Fn::GetAtt'][0];
  const policies = Object.values(resourceProperties(template, 'AWS::IAM::Policy')).filter((policy) =>
    policy.Roles.some((role) => role.Ref === roleId),
  );
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

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
  queueId = logicalIdOf(stack, stack.failedInvocations.queue);
  topicId = logicalIdOf(stack, stack.alarmTopic.topic);
});

describe('data bucket', () => {
  it('is encrypted, versioned, private and logs access to the log bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
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

  it('expires raw extracts under incoming/ after 30 days and noncurrent versions after 30 days', () => {
    const rules = propertiesOf(template, 'AWS::S3::Bucket', bucketId).LifecycleConfiguration.Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({ Prefix: 'incoming/', ExpirationInDays: 30, Status: 'Enabled' }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
    );
    // Only incoming/ expires: scores, models and labels are kept.
    expect(rules.filter((rule) => 'ExpirationInDays' in rule).map((rule) => rule.Prefix)).toEqual(['incoming/']);
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
    type Configuration = { Events: unknown; LambdaFunctionArn: unknown; Filter: { Key: { FilterRules: { Name: string; Value: string }[] } } };
    const filters = (configurations.asArray() as Configuration[]).map((configuration) => {
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
  it('runs on nodejs22.x or newer with memory, timeout and reserved concurrency from context', () => {
    const fn = propertiesOf(template, 'AWS::Lambda::Function', scoreId);
    const runtime = /^nodejs(\d+)\.x$/.exec(fn.Runtime);
    expect(runtime, `runtime ${fn.Runtime}`).not.toBeNull();
    expect(Number(runtime![1])).toBeGreaterThanOrEqual(22);
    expect(fn).toMatchObject({
      Handler: 'index.handler',
      MemorySize: 3008,
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

describe('drift function', () => {
  it('runs daily at 06:00 UTC from an EventBridge rule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [driftId, 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [driftId, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
  });

  it('sends a run that fails after retries to the same failed-invocation queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: driftId },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('gets every prefix it uses and the watched models as environment variables', () => {
    const fn = propertiesOf(template, 'AWS::Lambda::Function', driftId);
    expect(fn.Environment.Variables).toMatchObject({
      BUCKET: { Ref: bucketId },
      OUTPUTS_PREFIX: 'outputs/',
      LABELS_PREFIX: 'labels/',
      TRAINING_PREFIX: 'training/',
      MODELS_PREFIX: 'models/',
      DRIFT_PREFIX: 'drift/',
      MODELS: 'bank-marketing,audiobooks,ecommerce-churn,segmentation,card-offer',
      POWERTOOLS_SERVICE_NAME: 'propensity-drift',
    });
    // It reads extracts under incoming/ to join late labels to the customers a run scored.
    expect(fn.Environment.Variables).toHaveProperty('INCOMING_PREFIX', 'incoming/');
  });
});

describe('IAM', () => {
  const S3_DATA_ACTION = /^s3:(Get|Put|Delete|List|Abort|Restore)/;

  it('grants no s3:* and no wildcard action anywhere', () => {
    const statements = Object.values(resourceProperties(template, 'AWS::IAM::Policy')).flatMap(
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
    const statements = Object.values(resourceProperties(template, 'AWS::IAM::Policy')).flatMap(
      (policy) => policy.PolicyDocument.Statement,
    );
    const s3Statements = statements.filter((statement) => asArray(statement.Action).some((action) => S3_DATA_ACTION.test(action)));
    expect(s3Statements.length).toBeGreaterThan(0);
    for (const statement of s3Statements) expect(asArray(statement.Resource), JSON.stringify(statement)).not.toContain('*');
  });

  it('lets the score function read incoming/, models/ and outputs/, list models/ and outputs/, and write outputs/ only', () => {
    const statements = roleStatements(scoreId);
    expect(statementWithSid(statements, 'ReadObjects')).toMatchObject({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: [objectArn(bucketId, 'incoming/*'), objectArn(bucketId, 'models/*'), objectArn(bucketId, 'outputs/*')],
    });
    expect(statementWithSid(statements, 'ListPrefixes')).toMatchObject({
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
      Condition: { StringLike: { 's3:prefix': ['models/*', 'outputs/*'] } },
    });
    const write = statementWithSid(statements, 'WriteObjects');
    expect(asArray(write.Action).sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    expect(write.Resource).toEqual(objectArn(bucketId, 'outputs/*'));
    // Nothing else touches S3.
    const s3Sids = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:'))).map((s) => s.Sid);
    expect(s3Sids.sort()).toEqual(['ListPrefixes', 'ReadObjects', 'WriteObjects']);
  });

  it('lets the drift function read incoming/, outputs/, labels/, training/, models/, drift/ and write drift/ and models/ only', () => {
    const statements = roleStatements(driftId);
    const read = statementWithSid(statements, 'ReadObjects');
    expect(asArray(read.Resource)).toEqual(
      expect.arrayContaining(['incoming/*', 'outputs/*', 'labels/*', 'training/*', 'models/*', 'drift/*'].map((p) => objectArn(bucketId, p))),
    );
    expect(asArray(read.Resource)).toHaveLength(6);
    // Never written: the extracts are the warehouse's.
    const write = statementWithSid(statements, 'WriteObjects');
    expect(asArray(write.Resource)).toEqual([objectArn(bucketId, 'drift/*'), objectArn(bucketId, 'models/*')]);
  });

  it('gives the functions roles without managed policies; logging is limited to their own log group', () => {
    for (const fnId of [scoreId, driftId]) {
      const fn = propertiesOf(template, 'AWS::Lambda::Function', fnId);
      const roleId = fn.Role['Fn::GetAtt'][0];
      expect(propertiesOf(template, 'AWS::IAM::Role', roleId).ManagedPolicyArns).toBeUndefined();
      const logGroupId = fn.LoggingConfig.LogGroup.Ref;
      const logs = roleStatements(fnId).find((s) => asArray(s.Action).includes('logs:PutLogEvents'));
      expect(logs?.Resource).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    }
  });

  it('covers every data prefix exactly as documented', () => {
    expect(Object.values(DATA_PREFIXES)).toEqual(['incoming/', 'models/', 'outputs/', 'labels/', 'training/', 'drift/']);
  });
});

describe('failure queue and alarms', () => {
  it('keeps failed invocations encrypted, TLS-only, for 14 days', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
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
