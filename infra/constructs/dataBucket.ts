import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

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
}

/** The data bucket (private, TLS-only, encrypted, versioned, with lifecycle) and its access-log bucket. */
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
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogExpiryDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new Bucket(this, 'Data', {
      encryption: BucketEncryption.S3_MANAGED,
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
        {
          // Versioning protects against overwrites, not forever: old versions go after a while.
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpiryDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
    });
  }
}
