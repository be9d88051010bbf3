import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccountRootPrincipal, Effect, type IGrantable, PolicyDocument, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** What a role needs to read and write data under the key: S3 SSE-KMS (multipart uploads decrypt too) and the encrypted queue. */
export const KEY_USE_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;

/**
 * Key administration only: the account can manage the key (and so recover it), but using it to
 * decrypt takes a statement below that names the role. The key policy does not delegate use to IAM.
 */
const KEY_ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/**
 * Lets a role use a customer-managed key by naming it in the key policy (IAM statements alone do
 * not work: the {@link DataKey} policy does not delegate use to IAM). A no-op without a key.
 *
 * @example grantKeyUse(bucket.encryptionKey, scoreFunction);
 */
export function grantKeyUse(key: IKey | undefined, grantee: IGrantable): void {
  key?.addToResourcePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      principals: [grantee.grantPrincipal],
      actions: [...KEY_USE_ACTIONS],
      resources: ['*'],
    }),
  );
}

/**
 * The customer-managed KMS key of Propensity's data at rest: the data bucket, the log groups and the
 * failure queue. Rotated yearly, retained when the stack is deleted (the data it protects is too), and
 * a key policy that names who may use it: the function roles (added where each is granted its data),
 * CloudWatch Logs for this account's log groups, and EventBridge for the failure queue.
 */
export class DataKey extends Construct {
  public readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'Encrypts Propensity customer data at rest: data bucket, log groups, failure queue',
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new PolicyDocument({
        statements: [
          new PolicyStatement({ sid: 'KeyAdministration', principals: [new AccountRootPrincipal()], actions: KEY_ADMIN_ACTIONS, resources: ['*'] }),
          new PolicyStatement({
            sid: 'CloudWatchLogsOfThisAccount',
            principals: [new ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
            actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
            resources: ['*'],
            conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
          }),
          // The schedule rules' dead-letter queue is encrypted with this key.
          new PolicyStatement({
            sid: 'EventBridgeDeadLetters',
            principals: [new ServicePrincipal('events.amazonaws.com')],
            actions: [...KEY_USE_ACTIONS],
            resources: ['*'],
            conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
          }),
        ],
      }),
    });
    this.key.addAlias(`alias/${Stack.of(this).stackName}-data`);
  }
}
