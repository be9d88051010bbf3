import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/core/errors.js';
import {
  PROPENSITY_CONTEXT_KEYS,
  propensityStackConfigSchema,
  readPropensityStackConfig,
} from '../../infra/stacks/propensityStackConfig.js';
import { propertiesOf } from './cfnResources.js';
import { logicalIdOf, synthPropensity } from './synthPropensity.js';

const readWith = (context: Record<string, unknown>) => readPropensityStackConfig(new App({ context }));

function configErrorOf(context: Record<string, unknown>): ConfigError {
  try {
    readWith(context);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`no error for ${JSON.stringify(context)}`);
}

describe('readPropensityStackConfig', () => {
  it('uses the documented defaults when the context is empty', () => {
    expect(readWith({})).toEqual({
      rawExtractExpiryDays: 30,
      noncurrentVersionExpiryDays: 30,
      accessLogExpiryDays: 90,
      outputExpiryDays: 400,
      runIndexExpiryDays: 400,
      contactHistoryExpiryDays: 400,
      scoreMemoryMb: 3584,
      scoreEphemeralStorageMb: 4096,
      scoreTimeoutSeconds: 900,
      scoreReservedConcurrency: 10,
      scoreRetryAttempts: 2,
      scoreMaxEventAgeSeconds: 21600,
      lambdaArchitecture: 'x86_64',
      driftSchedule: 'cron(0 6 * * ? *)',
      driftMemoryMb: 1024,
      driftTimeoutSeconds: 300,
      driftRetryAttempts: 2,
      retrainSchedule: 'cron(0 7 * * ? *)',
      retrainMemoryMb: 3008,
      retrainTimeoutSeconds: 900,
      retrainRetryAttempts: 1,
      models: ['bank-marketing', 'audiobooks', 'ecommerce-churn', 'segmentation', 'card-offer'],
      logLevel: 'INFO',
      fanOutBytes: 1024 ** 3,
      fanOutPartBytes: 256 * 1024 ** 2,
      fanOutMaxConcurrency: 10,
      fanOutMemoryMb: 3008,
      fanOutTimeoutMinutes: 240,
      fanOutRetryAttempts: 2,
      fanOutPartReservedConcurrency: 20,
      customerManagedKey: true,
      isolatedNetwork: true,
      allowInternetEgress: false,
      compliancePacks: ['AwsSolutions', 'Serverless', 'NIST.800.53.R5', 'PCI.DSS.321'],
      predictMemoryMb: 1769,
      predictTimeoutSeconds: 15,
      predictReservedConcurrency: 10,
      championTtlSeconds: 300,
      predictP99AlarmMs: 1000,
    });
  });

  it('accepts the sandbox opt-outs as -c strings and rejects anything but true or false', () => {
    const sandbox = readWith({ customerManagedKey: 'false', isolatedNetwork: 'false', compliancePacks: 'AwsSolutions, Serverless' });
    expect(sandbox).toMatchObject({ customerManagedKey: false, isolatedNetwork: false, compliancePacks: ['AwsSolutions', 'Serverless'] });
    expect(readWith({ allowInternetEgress: 'true' }).allowInternetEgress).toBe(true);
    const error = configErrorOf({ customerManagedKey: 'no' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.key).toBe('customerManagedKey');
  });

  it('names an unknown compliance pack and a VPC id that is not one', () => {
    expect(configErrorOf({ compliancePacks: 'AwsSolutions,HIPAA' }).key).toBe('compliancePacks.1');
    const error = configErrorOf({ vpcId: 'my-vpc' });
    expect(error.key).toBe('vpcId');
    expect(error.message).toContain('a VPC id such as vpc-0123456789abcdef0');
  });

  it('accepts -c strings: numbers, a comma list or a JSON list of models', () => {
    const config = readWith({ scoreMemoryMb: '4096', scoreRetryAttempts: '0', models: 'audiobooks, card-offer' });
    expect(config.scoreMemoryMb).toBe(4096);
    expect(config.scoreRetryAttempts).toBe(0);
    expect(config.models).toEqual(['audiobooks', 'card-offer']);
    expect(readWith({ models: '["segmentation"]' }).models).toEqual(['segmentation']);
  });

  it('names the context key of an out-of-range number', () => {
    const error = configErrorOf({ scoreRetryAttempts: 3 });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.key).toBe('scoreRetryAttempts');
    expect(error.source).toBe('CDK context');
    expect(error.message).toMatch(/^CDK context: scoreRetryAttempts: .*<=2.* \(got 3\)$/);
  });

  it('rejects a schedule that is not an EventBridge expression', () => {
    const error = configErrorOf({ driftSchedule: '0 6 * * *' });
    expect(error.key).toBe('driftSchedule');
    expect(error.message).toContain('an EventBridge schedule expression');
    expect(error.message).toContain('(got "0 6 * * *")');
  });

  it('rejects a retrain schedule that is not an EventBridge expression', () => {
    const error = configErrorOf({ retrainSchedule: 'nightly' });
    expect(error.key).toBe('retrainSchedule');
    expect(error.message).toContain('an EventBridge schedule expression');
  });

  it('rejects a retrain schedule equal to the drift schedule: the drift report must come first', () => {
    const error = configErrorOf({ driftSchedule: 'cron(0 5 * * ? *)', retrainSchedule: 'cron(0 5 * * ? *)' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.key).toBe('retrainSchedule');
    expect(error.message).toContain('must differ from driftSchedule');
  });

  it('rejects a run index kept no longer than the late labels\' join window, which would lose runs the nightly functions still read', () => {
    const error = configErrorOf({ runIndexExpiryDays: 120 });
    expect(error.key).toBe('runIndexExpiryDays');
    expect(error.message).toContain('must be more than 120');
    expect(readWith({ runIndexExpiryDays: 121 }).runIndexExpiryDays).toBe(121);
  });

  it.each(['driftRetryAttempts', 'retrainRetryAttempts'])('names %s when it is more than Lambda\'s two retries', (key) => {
    const error = configErrorOf({ [key]: 3 });
    expect(error.key).toBe(key);
    expect(error.message).toMatch(/<=2.* \(got 3\)$/);
    expect(readWith({ [key]: '0' })[key as 'driftRetryAttempts']).toBe(0);
  });

  it('rejects a models list that is not valid JSON, naming the key', () => {
    const error = configErrorOf({ models: '["audiobooks"' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.key).toBe('models');
    expect(error.message).toBe('CDK context: models: is not valid JSON');
  });

  it('rejects a model name that cannot be a metric dimension or env list item', () => {
    const error = configErrorOf({ models: ['Bank Marketing'] });
    expect(error.key).toBe('models.0');
    expect(error.message).toContain('model names are lower-case words joined by "-"');
  });
});

describe('cdk.json', () => {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    app: string;
    context: Record<string, unknown>;
  };

  it('runs the app with tsx', () => {
    expect(cdkJson.app).toBe('npx tsx infra/bin/app.ts');
  });

  it('lists every stack setting with the same default as the schema', () => {
    const defaults = propensityStackConfigSchema.parse({});
    const listed = Object.fromEntries(
      PROPENSITY_CONTEXT_KEYS.filter((key) => key in cdkJson.context).map((key) => [key, cdkJson.context[key]]),
    );
    // alarmEmail and vpcId have no default: they are the optional keys.
    expect(PROPENSITY_CONTEXT_KEYS.filter((key) => !(key in cdkJson.context))).toEqual(['alarmEmail', 'vpcId']);
    expect(listed).toEqual(defaults);
  });
});

describe('context reaches the template', () => {
  it('sizes the score function, retries, expiry, architecture and schedule from context', () => {
    const { stack, template } = synthPropensity({
      scoreMemoryMb: '4096',
      scoreTimeoutSeconds: 600,
      scoreReservedConcurrency: 3,
      scoreRetryAttempts: 1,
      rawExtractExpiryDays: 7,
      outputExpiryDays: 730,
      lambdaArchitecture: 'arm64',
      driftSchedule: 'rate(12 hours)',
      models: 'audiobooks',
      alarmEmail: 'ops@example.com',
    });
    const scoreId = logicalIdOf(stack, stack.scoreFunction);
    expect(template.findResources('AWS::Lambda::Function')[scoreId]!.Properties).toMatchObject({
      MemorySize: 4096,
      Timeout: 600,
      ReservedConcurrentExecutions: 3,
      Architectures: ['arm64'],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: scoreId }, MaximumRetryAttempts: 1 });
    const rules = propertiesOf(template, 'AWS::S3::Bucket', logicalIdOf(stack, stack.data.bucket)).LifecycleConfiguration.Rules;
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'incoming/', ExpirationInDays: 7 }));
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'outputs/', ExpirationInDays: 730 }));
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(12 hours)' });
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { Namespace: 'Propensity' }, 3);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('sizes, schedules and retries the drift and retrain functions from context', () => {
    const { stack, template } = synthPropensity({
      driftSchedule: 'cron(30 5 * * ? *)',
      driftMemoryMb: 512,
      driftTimeoutSeconds: 120,
      driftRetryAttempts: '0',
      retrainSchedule: 'cron(0 8 ? * MON *)',
      retrainMemoryMb: 4096,
      retrainTimeoutSeconds: 600,
      retrainRetryAttempts: 2,
    });
    const functions = template.findResources('AWS::Lambda::Function');
    const driftId = logicalIdOf(stack, stack.driftFunction);
    const retrainId = logicalIdOf(stack, stack.retrainFunction);
    expect(functions[driftId]!.Properties).toMatchObject({ MemorySize: 512, Timeout: 120 });
    expect(functions[retrainId]!.Properties).toMatchObject({ MemorySize: 4096, Timeout: 600 });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: driftId }, MaximumRetryAttempts: 0 });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: retrainId }, MaximumRetryAttempts: 2 });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(30 5 * * ? *)', Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [driftId, 'Arn'] } })] });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 8 ? * MON *)', Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [retrainId, 'Arn'] } })] });
    // The duration alarm follows the timeout.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', Dimensions: [{ Name: 'FunctionName', Value: { Ref: driftId } }], Threshold: 96_000 });
  });
});
