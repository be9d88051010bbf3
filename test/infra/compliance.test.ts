import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KEY_USE_ACTIONS } from '../../infra/constructs/dataKey.js';
import { NETWORK_INTERFACE_ACTIONS } from '../../infra/constructs/functionNetwork.js';
import type { PropensityStack } from '../../infra/stacks/propensityStack.js';
import { functionRoleStatements, resourceProperties, type ResourceProperties, type Statement } from './cfnResources.js';
import { logicalIdOf, synthPropensity } from './synthPropensity.js';

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

let stack: PropensityStack;
let template: Template;
let keyArn: { 'Fn::GetAtt': [string, 'Arn'] };
/** The seven Propensity functions by logical id (not CDK's own deploy-time handlers). */
let functions: Record<string, ResourceProperties['AWS::Lambda::Function']>;

beforeAll(() => {
  ({ stack, template } = synthPropensity());
  keyArn = { 'Fn::GetAtt': [logicalIdOf(stack, stack.dataKey!.key), 'Arn'] };
  const { scoreFunction, driftFunction, retrainFunction, predict, fanOut } = stack;
  const ids = new Set([scoreFunction, driftFunction, retrainFunction, predict.fn, fanOut.planFunction, fanOut.partFunction, fanOut.finishFunction].map((fn) => logicalIdOf(stack, fn)));
  functions = Object.fromEntries(Object.entries(resourceProperties(template, 'AWS::Lambda::Function')).filter(([id]) => ids.has(id)));
});

/** The data key's policy statements. */
function keyPolicy(): Statement[] {
  const [key] = Object.values(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('customer data') } })) as Array<{
    Properties: { KeyPolicy: { Statement: Statement[] } };
  }>;
  return key!.Properties.KeyPolicy.Statement;
}

describe('encryption at rest under one customer-managed key', () => {
  it('is a rotating key that the stack keeps when it is deleted', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, RotationPeriodInDays: 365, Description: Match.stringLikeRegexp('customer data') },
      DeletionPolicy: 'Retain',
    });
  });

  it('encrypts every log group: the functions\', the state machine\'s and the flow logs\'', () => {
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup')) as Array<{ Properties: { KmsKeyId?: unknown } }>;
    // Seven functions, the state machine, the VPC flow logs.
    expect(logGroups).toHaveLength(9);
    for (const logGroup of logGroups) expect(logGroup.Properties.KmsKeyId).toEqual(keyArn);
  });

  it('encrypts every queue', () => {
    const queues = Object.values(template.findResources('AWS::SQS::Queue')) as Array<{ Properties: { KmsMasterKeyId?: unknown } }>;
    expect(queues.length).toBeGreaterThan(0);
    for (const queue of queues) expect(queue.Properties.KmsMasterKeyId).toEqual(keyArn);
  });

  it('keeps use of the key out of IAM: the account administers it, each function role is named for Decrypt and GenerateDataKey', () => {
    const statements = keyPolicy();
    const admin = statements.find((s) => s.Sid === 'KeyAdministration')!;
    expect(asArray(admin.Action)).not.toContain('kms:*');
    expect(asArray(admin.Action).filter((action) => /^kms:(Decrypt|GenerateDataKey|Encrypt|ReEncrypt)/.test(action))).toEqual([]);
    const rolesWithUse = statements
      .filter((s) => JSON.stringify(asArray(s.Action).sort()) === JSON.stringify([...KEY_USE_ACTIONS].sort()))
      .flatMap((s) => asArray((s as unknown as { Principal: { AWS?: unknown } }).Principal.AWS ?? []))
      .map((principal) => JSON.stringify(principal));
    for (const fn of Object.values(functions)) expect(rolesWithUse, JSON.stringify(fn.Role)).toContain(JSON.stringify({ 'Fn::GetAtt': [fn.Role['Fn::GetAtt'][0], 'Arn'] }));
  });

  it('lets CloudWatch Logs use the key for this account\'s log groups only, and EventBridge for this account only', () => {
    const statements = keyPolicy();
    expect(statements.find((s) => s.Sid === 'CloudWatchLogsOfThisAccount')?.Condition).toEqual({
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*']] } },
    });
    expect(statements.find((s) => s.Sid === 'EventBridgeDeadLetters')?.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
  });
});

describe('the data bucket policy', () => {
  const bucketPolicy = () => {
    const [policy] = Object.values(
      template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: logicalIdOf(stack, stack.data.bucket) } } }),
    ) as Array<{ Properties: { PolicyDocument: { Statement: Statement[] } } }>;
    return policy!.Properties.PolicyDocument.Statement;
  };

  it('refuses every request that is not over TLS', () => {
    expect(bucketPolicy()).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('refuses an upload that asks for encryption other than SSE-KMS, or another KMS key, and lets the default encrypt the rest', () => {
    const statements = bucketPolicy();
    const header = 's3:x-amz-server-side-encryption';
    expect(statements.find((s) => s.Sid === 'DenyEncryptionOtherThanKms')).toMatchObject({
      Effect: 'Deny',
      Action: 's3:PutObject',
      Condition: { Null: { [header]: 'false' }, StringNotEquals: { [header]: 'aws:kms' } },
    });
    const keyHeader = 's3:x-amz-server-side-encryption-aws-kms-key-id';
    expect(statements.find((s) => s.Sid === 'DenyKmsKeyOtherThanTheDataKey')).toMatchObject({
      Effect: 'Deny',
      Action: 's3:PutObject',
      Condition: { Null: { [keyHeader]: 'false' }, StringNotEquals: { [keyHeader]: keyArn } },
    });
  });

  it('leaves the access-log bucket versioned, expiring logs and their old versions', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: Match.absent(),
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' })]),
      },
    });
  });
});

describe('the functions\' network', () => {
  it('runs every function in the isolated subnets with the functions\' security group, and lets its role attach it', () => {
    expect(Object.keys(functions)).toHaveLength(7);
    const sg = logicalIdOf(stack, stack.network!.functionSecurityGroup);
    const isolated = stack.network!.vpc.isolatedSubnets.map((subnet) => ({ Ref: logicalIdOf(stack, subnet) }));
    expect(isolated).toHaveLength(2);
    for (const [id, fn] of Object.entries(functions)) {
      expect(fn.VpcConfig, id).toEqual({ SubnetIds: isolated, SecurityGroupIds: [{ 'Fn::GetAtt': [sg, 'GroupId'] }] });
      const attach = functionRoleStatements(template, id).find((statement) => statement.Sid === 'AttachToVpc');
      // IAM policy minimization sorts actions: compare as sets.
      expect(asArray(attach!.Action).sort(), id).toEqual([...NETWORK_INTERFACE_ACTIONS].sort());
      expect(attach!.Resource).toBe('*');
    }
  });

  it('has no route to the internet: no NAT gateway, no internet gateway, no default route', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    expect(Object.values(template.findResources('AWS::EC2::Route'))).toEqual([]);
  });

  it('reaches S3 through a gateway endpoint on the functions\' route tables that admits the data bucket only', () => {
    const bucketId = logicalIdOf(stack, stack.data.bucket);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['.s3'])] }),
      RouteTableIds: stack.network!.vpc.isolatedSubnets.map((subnet) => stack.resolve(subnet.routeTable.routeTableId) as unknown),
      PolicyDocument: {
        Statement: [
          {
            Sid: 'OnlyTheDataBucket',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Resource: [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] }],
          },
        ],
      },
    });
  });

  it('has interface endpoints for Step Functions and X-Ray only, with private DNS, behind the endpoints\' security group', () => {
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } })) as Array<{
      Properties: { ServiceName: unknown; PrivateDnsEnabled: boolean; SecurityGroupIds: unknown[] };
    }>;
    // com.amazonaws.<region>.<service>, the region a token.
    const services = endpoints.map((endpoint) => /\.(\w+)"\]\]\}$/.exec(JSON.stringify(endpoint.Properties.ServiceName))?.[1]);
    expect(services.sort()).toEqual(['states', 'xray']);
    const sg = { 'Fn::GetAtt': [logicalIdOf(stack, stack.network!.endpointSecurityGroup!), 'GroupId'] };
    for (const endpoint of endpoints) expect(endpoint.Properties).toMatchObject({ PrivateDnsEnabled: true, SecurityGroupIds: [sg] });
  });

  it('lets nothing into the functions and only HTTPS out; lets only the functions into the endpoints', () => {
    const functionSg = logicalIdOf(stack, stack.network!.functionSecurityGroup);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
      SecurityGroupIngress: Match.absent(),
      GroupDescription: Match.stringLikeRegexp('^Propensity functions'),
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [functionSg, 'GroupId'] },
      GroupId: { 'Fn::GetAtt': [logicalIdOf(stack, stack.network!.endpointSecurityGroup!), 'GroupId'] },
    });
    expect(Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))).toHaveLength(1);
  });

  it('logs every flow of the VPC', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
  });
});

describe('tracing, failure paths and concurrency', () => {
  it('traces every function and the state machine actively with X-Ray', () => {
    for (const [id, fn] of Object.entries(functions)) expect(fn.TracingConfig, id).toEqual({ Mode: 'Active' });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true } });
  });

  it('gives every asynchronously invoked function an on-failure destination, and every schedule target a dead-letter queue', () => {
    const queueArn = { 'Fn::GetAtt': [logicalIdOf(stack, stack.failedInvocations.queue), 'Arn'] };
    const asyncTargets = [stack.scoreFunction, stack.driftFunction, stack.retrainFunction].map((fn) => logicalIdOf(stack, fn));
    const configs = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')) as Array<{ Properties: { FunctionName: { Ref: string }; DestinationConfig: unknown } }>;
    expect(configs.map((config) => config.Properties.FunctionName.Ref).sort()).toEqual([...asyncTargets].sort());
    for (const config of configs) expect(config.Properties.DestinationConfig).toEqual({ OnFailure: { Destination: queueArn } });
    const rules = Object.values(resourceProperties(template, 'AWS::Events::Rule'));
    expect(rules).toHaveLength(2);
    for (const rule of rules) for (const target of rule.Targets) expect(target).toMatchObject({ DeadLetterConfig: { Arn: queueArn } });
  });

  it('caps every function with reserved concurrency', () => {
    const reserved = Object.fromEntries(Object.entries(functions).map(([id, fn]) => [id, fn.ReservedConcurrentExecutions]));
    expect(reserved).toEqual({
      [logicalIdOf(stack, stack.scoreFunction)]: 10,
      [logicalIdOf(stack, stack.driftFunction)]: 1,
      [logicalIdOf(stack, stack.retrainFunction)]: 1,
      [logicalIdOf(stack, stack.predict.fn)]: 10,
      [logicalIdOf(stack, stack.fanOut.planFunction)]: 10,
      [logicalIdOf(stack, stack.fanOut.partFunction)]: 20,
      [logicalIdOf(stack, stack.fanOut.finishFunction)]: 10,
    });
  });
});

describe('the opt-in and opt-outs', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('with vpcId, runs the functions in that VPC\'s isolated subnets and creates no VPC or endpoints of its own', () => {
    // Prepare: what `cdk synth` would have looked up (and cached in cdk.context.json), given as context: no network.
    vi.stubEnv('CDK_DEFAULT_ACCOUNT', '123456789012');
    vi.stubEnv('CDK_DEFAULT_REGION', 'eu-west-1');
    const vpcId = 'vpc-0a1b2c3d4e5f67890';
    const subnet = (letter: string, index: number) => ({ subnetId: `subnet-0${letter}`, cidr: `10.20.${index}.0/24`, availabilityZone: `eu-west-1${letter}`, routeTableId: `rtb-0${letter}` });
    const lookedUp = { vpcId, vpcCidrBlock: '10.20.0.0/16', availabilityZones: [], subnetGroups: [{ name: 'Isolated', type: 'Isolated', subnets: [subnet('a', 1), subnet('b', 2)] }] };
    // Act
    const { stack: imported, template: importedTemplate } = synthPropensity({
      vpcId,
      [`vpc-provider:account=123456789012:filter.vpc-id=${vpcId}:region=eu-west-1:returnAsymmetricSubnets=true`]: lookedUp,
    });
    // Assess
    importedTemplate.resourceCountIs('AWS::EC2::VPC', 0);
    importedTemplate.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    const sg = { 'Fn::GetAtt': [logicalIdOf(imported, imported.network!.functionSecurityGroup), 'GroupId'] };
    importedTemplate.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: { SubnetIds: ['subnet-0a', 'subnet-0b'], SecurityGroupIds: [sg] } });
    importedTemplate.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: vpcId });
  });

  it('with allowInternetEgress, gives the functions private subnets behind one NAT gateway', () => {
    const { stack: egress, template: egressTemplate } = synthPropensity({ allowInternetEgress: true });
    egressTemplate.resourceCountIs('AWS::EC2::NatGateway', 1);
    const subnets = egress.network!.vpc.privateSubnets.map((subnet) => ({ Ref: logicalIdOf(egress, subnet) }));
    expect(subnets).toHaveLength(2);
    egressTemplate.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: { SubnetIds: subnets } });
    egressTemplate.hasResourceProperties('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: Match.anyValue() });
  });

  it('without the key and the network (a sandbox), creates neither and encrypts with AWS-managed keys', () => {
    const { stack: sandbox, template: sandboxTemplate } = synthPropensity({ customerManagedKey: false, isolatedNetwork: false });
    expect([sandbox.dataKey, sandbox.network]).toEqual([undefined, undefined]);
    sandboxTemplate.resourceCountIs('AWS::EC2::VPC', 0);
    // The alarm topic keeps its own key: CloudWatch cannot publish under the AWS-managed SNS key.
    sandboxTemplate.resourceCountIs('AWS::KMS::Key', 1);
    sandboxTemplate.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    for (const fn of Object.values(resourceProperties(sandboxTemplate, 'AWS::Lambda::Function'))) expect(fn.VpcConfig).toBeUndefined();
  });
});
