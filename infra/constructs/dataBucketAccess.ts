import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { DataPrefix } from './dataBucket.js';
import { grantKeyUse } from './dataKey.js';

/** What a function may do under which prefixes of the data bucket. */
export interface PrefixAccess {
  /** s3:GetObject on `<prefix>*`. */
  readonly read?: readonly DataPrefix[];
  /**
   * s3:GetObjectVersion on `<prefix>*`: a GET that names a version id (the one an S3 event of the
   * versioned bucket carries, so a run reads exactly what was dropped) needs it instead of s3:GetObject.
   */
  readonly readVersions?: readonly DataPrefix[];
  /** s3:ListBucket, allowed only when the request's s3:prefix starts with one of these (`<prefix>*` also matches the bare prefix). */
  readonly list?: readonly DataPrefix[];
  /** s3:PutObject and s3:AbortMultipartUpload on `<prefix>*` (multipart uploads need both). */
  readonly write?: readonly DataPrefix[];
  /** s3:DeleteObject on `<prefix>*` (a run lock released, a failed run's partial outputs removed). */
  readonly remove?: readonly DataPrefix[];
}

/** Environment variable that carries a prefix to the function code: `'models/'` → `MODELS_PREFIX`. */
export function prefixEnvName(prefix: DataPrefix): string {
  return `${prefix.replace(/\/$/, '').toUpperCase()}_PREFIX`;
}

/** Environment variable holding the data bucket's name. */
export const BUCKET_ENV_NAME = 'BUCKET';

/**
 * Grants a function access to prefixes of the data bucket and, in the same call, sets the environment
 * variables its code reads to find them, so permissions and configuration cannot drift apart.
 */
export class DataBucketAccess {
  constructor(private readonly bucket: IBucket) {}

  /**
   * Adds prefix-scoped S3 statements to the function's role, names the role in the bucket key's policy
   * (SSE-KMS: reading and writing need the key), and sets `BUCKET` and `<NAME>_PREFIX` for every prefix named.
   *
   * @example
   * access.bindToFunction(scoreFunction, { read: ['incoming/', 'models/'], write: ['outputs/'] });
   */
  bindToFunction(fn: LambdaFunction, access: PrefixAccess): void {
    const read = access.read ?? [];
    const readVersions = access.readVersions ?? [];
    const list = access.list ?? [];
    const write = access.write ?? [];
    if (read.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({
          sid: 'ReadObjects',
          effect: Effect.ALLOW,
          actions: ['s3:GetObject'],
          resources: read.map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
        }),
      );
    }
    if (readVersions.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({
          sid: 'ReadObjectVersions',
          effect: Effect.ALLOW,
          actions: ['s3:GetObjectVersion'],
          resources: readVersions.map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
        }),
      );
    }
    if (list.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({
          sid: 'ListPrefixes',
          effect: Effect.ALLOW,
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': list.map((prefix) => `${prefix}*`) } },
        }),
      );
    }
    if (write.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({
          sid: 'WriteObjects',
          effect: Effect.ALLOW,
          actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
          resources: write.map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
        }),
      );
    }
    const remove = access.remove ?? [];
    if (remove.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({
          sid: 'DeleteObjects',
          effect: Effect.ALLOW,
          actions: ['s3:DeleteObject'],
          resources: remove.map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
        }),
      );
    }
    grantKeyUse(this.bucket.encryptionKey, fn);
    fn.addEnvironment(BUCKET_ENV_NAME, this.bucket.bucketName);
    for (const prefix of new Set([...read, ...readVersions, ...list, ...write, ...remove])) fn.addEnvironment(prefixEnvName(prefix), prefix);
    this.acknowledgePrefixWildcards(fn, new Set([...read, ...readVersions, ...write, ...remove]));
  }

  /** cdk-nag flags `<bucket>/<prefix>*`; that wildcard is the point of a prefix grant, so say so where it is made. */
  private acknowledgePrefixWildcards(fn: LambdaFunction, prefixes: ReadonlySet<DataPrefix>): void {
    const cfnBucket = this.bucket.node.defaultChild;
    if (!(cfnBucket instanceof CfnElement) || prefixes.size === 0) return;
    const bucketArn = `<${Stack.of(cfnBucket).getLogicalId(cfnBucket)}.Arn>`;
    Validations.of(fn.role ?? fn).acknowledge(
      ...[...prefixes].map((prefix) => ({
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}*]`,
        reason: `Object actions are limited to the ${prefix} prefix; the keys under it are only known at run time (one folder per model, extract or run).`,
      })),
    );
  }
}
