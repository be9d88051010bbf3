import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DEFAULT_CONTACT_POLICY_PREFIXES } from '../../functions/core/constants.js';

/**
 * The prefixes of the data bucket. One bucket keeps one TLS policy, one notification configuration and
 * one access-log target; IAM statements scoped per prefix give each function only its part.
 */
export const DATA_PREFIXES = {
  /** Raw customer extracts land here; an upload triggers scoring. */
  incoming: 'incoming/',
  /** Model bundles (manifest + model file) and the registry. */
  models: 'models/',
  /** Scores, target lists, ROI summaries, rejects, one folder per run. */
  outputs: 'outputs/',
  /** Observed outcomes (who responded) that the drift and retrain functions join to past scores. */
  labels: 'labels/',
  /** Training snapshots that retraining reads. */
  training: 'training/',
  /** Drift reports (drift function) and retraining records (retrain function). */
  drift: 'drift/',
  /** Per committed run, customer id → score and selection (score function), so the nightly functions read no run's files whole. */
  index: 'index/',
  /** Ids never to contact (`suppression/*.csv` for every model, `suppression/<model>/*.csv` for one), kept by the bank; scoring reads them. */
  suppression: DEFAULT_CONTACT_POLICY_PREFIXES.suppression,
  /** Who each committed run contacted (`history/<model>/<run-id>.csv`), for frequency caps: scoring writes and reads it. */
  history: DEFAULT_CONTACT_POLICY_PREFIXES.history,
} as const;

/** One of the data bucket's prefixes, e.g. `'incoming/'`. */
export type DataPrefix = (typeof DATA_PREFIXES)[keyof typeof DATA_PREFIXES];

export interface DataBucketProps {
  /** Days before a raw extract under incoming/ expires. */
  readonly rawExtractExpiryDays: number;
  /** Days a noncurrent object version is kept. */
  readonly noncurrentVersionExpiryDays: number;
  /** Days server access logs are kept. */
  readonly accessLogExpiryDays: number;
  /** Days a run's outputs (customer ids and scores) are kept under outputs/. */
  readonly outputExpiryDays: number;
  /** Days a run's index is kept under index/. */
  readonly runIndexExpiryDays: number;
  /** Days a run's contact-history entry is kept under history/. */
  readonly contactHistoryExpiryDays: number;
  /**
   * The customer-managed key of the data bucket (SSE-KMS with an S3 Bucket Key).
   * @default - SSE-S3 (a sandbox only: the PCI DSS and NIST packs reject it)
   */
  readonly encryptionKey?: IKey;
}

/** The compliance packs that ask every bucket for cross-region replication. */
const REPLICATION_RULES = ['NIST.800.53.R5-S3BucketReplicationEnabled', 'PCI.DSS.321-S3BucketReplicationEnabled'];

/**
 * The data bucket (private, TLS-only, KMS-encrypted with the stack's key, versioned, with lifecycle)
 * and its access-log bucket (versioned, SSE-S3: the only encryption S3 log delivery writes to).
 */
export class DataBucket extends Construct {
  public readonly bucket: Bucket;
  public readonly accessLogBucket: Bucket;

  constructor(scope: Construct, id: string, props: DataBucketProps) {
    super(scope, id);

    // cdk-nag S1 accepts this bucket unlogged because it is the data bucket's log destination.
    this.accessLogBucket = new Bucket(this, 'AccessLogs', {
      // Server access log delivery only supports SSE-S3 on the target bucket.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // Versioned, so a deleted or overwritten log stays recoverable until its noncurrent expiry.
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(props.accessLogExpiryDays),
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpiryDays),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogBucket).acknowledge(
      ...['NIST.800.53.R5-S3DefaultEncryptionKMS', 'PCI.DSS.321-S3DefaultEncryptionKMS'].map((id) => ({
        id,
        reason: 'S3 server access logging delivers only to a target bucket encrypted with SSE-S3; a KMS default encryption would stop the logs.',
      })),
      ...REPLICATION_RULES.map((id) => ({
        id,
        reason: 'Access logs are an audit copy kept for a set number of days in the data\'s own region; replicating them would move them across a residency boundary.',
      })),
    );

    const key = props.encryptionKey;
    this.bucket = new Bucket(this, 'Data', {
      ...(key ? { encryption: BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true } : { encryption: BucketEncryption.S3_MANAGED }),
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'data-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          // Raw extracts hold personal data; keep them no longer than a rerun needs.
          id: 'expire-raw-extracts',
          prefix: DATA_PREFIXES.incoming,
          expiration: Duration.days(props.rawExtractExpiryDays),
        },
        // What a run wrote about customers is kept for a set time, not for ever (storage limitation).
        { id: 'expire-run-outputs', prefix: DATA_PREFIXES.outputs, expiration: Duration.days(props.outputExpiryDays) },
        { id: 'expire-run-index', prefix: DATA_PREFIXES.index, expiration: Duration.days(props.runIndexExpiryDays) },
        { id: 'expire-contact-history', prefix: DATA_PREFIXES.history, expiration: Duration.days(props.contactHistoryExpiryDays) },
        {
          // Versioning protects against overwrites, not forever: old versions go after a while.
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpiryDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
    });
    if (key) this.refuseUploadsNotUnder(key);
    Validations.of(this.bucket).acknowledge(
      ...REPLICATION_RULES.map((id) => ({
        id,
        reason: 'Cross-region replication copies customer data to a second region: a data-residency decision for the bank, not a default. Versioning and RETAIN already guard against loss.',
      })),
    );
  }

  /**
   * Refuses an upload that asks for other encryption than SSE-KMS under this key. An upload that sends
   * no encryption header is allowed: the bucket default encrypts it with this key (the functions rely on
   * that). Denying a *missing* header would break them; denying a *different* one still closes the door.
   */
  private refuseUploadsNotUnder(key: IKey): void {
    const deny = (sid: string, header: string, expected: string) =>
      new PolicyStatement({
        sid,
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        // Null false: the header is present. Without it, StringNotEquals would also match a missing header.
        conditions: { Null: { [header]: 'false' }, StringNotEquals: { [header]: expected } },
      });
    this.bucket.addToResourcePolicy(deny('DenyEncryptionOtherThanKms', 's3:x-amz-server-side-encryption', 'aws:kms'));
    this.bucket.addToResourcePolicy(deny('DenyKmsKeyOtherThanTheDataKey', 's3:x-amz-server-side-encryption-aws-kms-key-id', key.keyArn));
  }
}
