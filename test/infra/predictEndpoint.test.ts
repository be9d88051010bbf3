import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccountPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataBucketAccess } from '../../infra/constructs/dataBucketAccess.js';
import { PredictEndpoint } from '../../infra/constructs/predictEndpoint.js';
import type { PropensityStack } from '../../infra/stacks/propensityStack.js';
import { propertiesOf, resourceProperties, functionRoleStatements } from './cfnResources.js';
import { FAST_SYNTH_CONTEXT, logicalIdOf, synthPropensity } from './synthPropensity.js';

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

let stack: PropensityStack;
let template: Template;
let predictId: string;
let bucketId: string;
let topicId: string;

beforeAll(() => {
  ({ stack, template } = synthPropensity());
  predictId = logicalIdOf(stack, stack.predict.fn);
  bucketId = logicalIdOf(stack, stack.data.bucket);
  topicId = logicalIdOf(stack, stack.alarmTopic.topic);
});

describe('the predict endpoint in the stack', () => {
  it('puts the predict function behind a function URL with AuthType AWS_IAM, and outputs its address', () => {
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [predictId, 'Arn'] } });
    const outputs = Object.values(template.findOutputs('*')) as Array<{ Value: unknown }>;
    expect(outputs).toContainEqual(expect.objectContaining({ Value: { 'Fn::GetAtt': [logicalIdOf(stack, stack.predict.url), 'FunctionUrl'] } }));
  });

  it('runs the predict handler with one vCPU, a 15 s timeout, reserved concurrency and the champion TTL from context', () => {
    expect(propertiesOf(template, 'AWS::Lambda::Function', predictId)).toMatchObject({
      Handler: 'index.handler',
      MemorySize: 1769,
      Timeout: 15,
      ReservedConcurrentExecutions: 10,
      Environment: { Variables: { CHAMPION_TTL_SECONDS: '300', MODELS_PREFIX: 'models/', BUCKET: { Ref: bucketId }, POWERTOOLS_SERVICE_NAME: 'propensity-predict' } },
    });
    expect(stack.predict.fn.node.tryGetContext('aws:cdk:bundling-stacks')).toEqual([]);
  });

  it('may only read and list models/: no write, no delete, no other prefix', () => {
    const s3 = functionRoleStatements(template, predictId).filter((s) => asArray(s.Action).some((action) => action.startsWith('s3:')));
    expect(s3).toEqual([
      expect.objectContaining({ Sid: 'ReadObjects', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/models/*']] } }),
      expect.objectContaining({ Sid: 'ListPrefixes', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] }, Condition: { StringLike: { 's3:prefix': ['models/*'] } } }),
    ]);
  });

  it('alarms to the topic on errors, throttles, duration near the timeout and a p99 duration above 1 s for 15 minutes', () => {
    const byId = Object.entries(resourceProperties(template, 'AWS::CloudWatch::Alarm')).filter(([, alarm]) => JSON.stringify(alarm.Dimensions ?? []).includes(predictId));
    const alarms = byId.map(([, alarm]) => alarm as unknown as Record<string, unknown>);
    const summary = alarms.map((a) => `${String(a.MetricName)} ${String(a.Statistic ?? a.ExtendedStatistic)} ${String(a.ComparisonOperator)} ${String(a.Threshold)} x${String(a.EvaluationPeriods)}`).sort();
    expect(summary).toEqual([
      'Duration Maximum GreaterThanOrEqualToThreshold 12000 x1',
      'Duration p99 GreaterThanThreshold 1000 x3',
      'Errors Sum GreaterThanOrEqualToThreshold 1 x1',
      'Throttles Sum GreaterThanOrEqualToThreshold 1 x1',
    ]);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
    expect(stack.predict.alarms.map((alarm) => logicalIdOf(stack, alarm)).sort()).toEqual(byId.map(([id]) => id).sort());
    expect(stack.alarms).toEqual(expect.arrayContaining([stack.predict.errors, stack.predict.p99Duration]));
  });

  it('takes its settings from CDK context', () => {
    const { stack: other, template: t } = synthPropensity({ championTtlSeconds: '30', predictReservedConcurrency: 3, predictP99AlarmMs: 250, predictMemoryMb: 1024 });
    const id = logicalIdOf(other, other.predict.fn);
    expect(propertiesOf(t, 'AWS::Lambda::Function', id)).toMatchObject({ MemorySize: 1024, ReservedConcurrentExecutions: 3, Environment: { Variables: { CHAMPION_TTL_SECONDS: '30' } } });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { ExtendedStatistic: 'p99', Threshold: 250 });
  });
});

describe('PredictEndpoint.grantInvoke', () => {
  it('allows one caller InvokeFunctionUrl (AWS_IAM only) and InvokeFunction only through the URL', () => {
    // Prepare: the construct on its own, as another stack would use it.
    const app = new App({ context: FAST_SYNTH_CONTEXT });
    const own = new Stack(app, 'Own');
    const endpoint = new PredictEndpoint(own, 'Predict', {
      access: new DataBucketAccess(new Bucket(own, 'Data')),
      alarmTopic: new Topic(own, 'Alarms'),
      architecture: Architecture.X86_64,
      logLevel: 'INFO',
    });
    const caller = new Role(own, 'CallCentre', { assumedBy: new AccountPrincipal('111122223333') });
    // Act
    endpoint.grantInvoke(caller);
    // Assess
    const t = Template.fromStack(own);
    const fnArn = { 'Fn::GetAtt': [own.getLogicalId(endpoint.fn.node.defaultChild as never), 'Arn'] };
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: own.getLogicalId(caller.node.defaultChild as never) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'lambda:InvokeFunctionUrl', Resource: fnArn, Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } } }),
          Match.objectLike({ Action: 'lambda:InvokeFunction', Resource: fnArn, Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } } }),
        ]),
      },
    });
  });
});
