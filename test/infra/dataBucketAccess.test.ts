import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { DataBucketAccess, prefixEnvName } from '../../infra/constructs/dataBucketAccess.js';
import { resourceProperties } from './cfnResources.js';

function setup() {
  const stack = new Stack(new App(), 'Test');
  const bucket = new Bucket(stack, 'Bucket');
  const fn = new LambdaFunction(stack, 'Fn', { runtime: Runtime.NODEJS_24_X, handler: 'index.handler', code: Code.fromInline('exports.handler=()=>{}') });
  const bucketId = stack.getLogicalId(bucket.node.defaultChild as never);
  return { stack, bucket, fn, bucketId, access: new DataBucketAccess(bucket) };
}

const objectArn = (bucketId: string, pattern: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${pattern}`]] });

describe('prefixEnvName', () => {
  it('turns a prefix into the variable the function reads', () => {
    expect(prefixEnvName('models/')).toBe('MODELS_PREFIX');
    expect(prefixEnvName('incoming/')).toBe('INCOMING_PREFIX');
  });
});

describe('DataBucketAccess.bindToFunction', () => {
  it('adds prefix-scoped statements and the matching environment variables in one call', () => {
    const { stack, fn, bucketId, access } = setup();
    access.bindToFunction(fn, { read: ['labels/'], list: ['labels/'], write: ['drift/'] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Sid: 'ReadObjects', Effect: 'Allow', Action: 's3:GetObject', Resource: objectArn(bucketId, 'labels/*') },
          {
            Sid: 'ListPrefixes',
            Effect: 'Allow',
            Action: 's3:ListBucket',
            Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
            Condition: { StringLike: { 's3:prefix': ['labels/*'] } },
          },
          {
            Sid: 'WriteObjects',
            Effect: 'Allow',
            Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
            Resource: objectArn(bucketId, 'drift/*'),
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { BUCKET: { Ref: bucketId }, LABELS_PREFIX: 'labels/', DRIFT_PREFIX: 'drift/' } },
    });
  });

  it('adds no statement and no prefix variable for access it was not asked for', () => {
    const { stack, fn, access } = setup();
    access.bindToFunction(fn, { read: ['models/'] });
    const template = Template.fromStack(stack);
    const statements = Object.values(resourceProperties(template, 'AWS::IAM::Policy')).flatMap((p) => p.PolicyDocument.Statement);
    expect(statements.map((s) => s.Sid)).toEqual(['ReadObjects']);
    const variables = Object.values(resourceProperties(template, 'AWS::Lambda::Function'))[0]!.Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual(['BUCKET', 'MODELS_PREFIX']);
  });
});
