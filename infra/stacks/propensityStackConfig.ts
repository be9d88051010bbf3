import type { Construct } from 'constructs';
import { z } from 'zod';
import { ConfigError } from '../../functions/core/errors.js';
import { firstIssue } from '../../functions/core/validation.js';
import { LABEL_JOIN_WINDOW_DAYS } from '../../functions/core/constants.js';

/** `-c key=value` on the CLI arrives as a string; cdk.json gives real JSON. Accept both. */
const positiveInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Lambda retries an asynchronous invocation at most twice. */
const retryAttempts = z.coerce.number().int().min(0).max(2);

const scheduleExpression = z.string().regex(/^(cron|rate)\(.+\)$/, 'an EventBridge schedule expression: cron(...) or rate(...)');

const stringList = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  return text.startsWith('[') ? (JSON.parse(text) as unknown) : text.split(',').map((name) => name.trim()).filter(Boolean);
}, z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'model names are lower-case words joined by "-"')).min(1));

/** `-c flag=false` arrives as a string; cdk.json gives a real boolean. Accept both, and nothing else. */
const flag = z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());

/** The cdk-nag packs `cdk synth` can run. */
export const COMPLIANCE_PACKS = ['AwsSolutions', 'Serverless', 'NIST.800.53.R5', 'PCI.DSS.321'] as const;
export type CompliancePack = (typeof COMPLIANCE_PACKS)[number];

const packList = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(',').map((name) => name.trim()).filter(Boolean) : value),
  z.array(z.enum(COMPLIANCE_PACKS)).min(1),
);

/**
 * Every CDK context key the stack reads, with its default. cdk.json repeats these defaults so they are
 * visible; a test keeps the two in step.
 */
export const propensityStackConfigSchema = z.object({
  /** Days a raw extract stays under incoming/ before S3 expires it. */
  rawExtractExpiryDays: positiveInt(1, 3650).default(30),
  /** Days a noncurrent (overwritten or deleted) object version is kept before S3 removes it. */
  noncurrentVersionExpiryDays: positiveInt(1, 3650).default(30),
  /** Days server access logs are kept in the log bucket. */
  accessLogExpiryDays: positiveInt(1, 3650).default(90),
  /**
   * Days a run's outputs (scores, target lists and rejects hold customer ids) stay under outputs/:
   * about a year of campaigns and the late labels that follow them, then S3 expires them.
   */
  outputExpiryDays: positiveInt(1, 3650).default(400),
  /** Days a run's index (ids, scores, selected) stays under index/; the nightly functions join labels to the last LABEL_JOIN_WINDOW_DAYS of it. */
  runIndexExpiryDays: positiveInt(1, 3650).default(400),
  /** Days a run's contact-history entry stays under history/: keep it longer than any model's frequency-cap window. */
  contactHistoryExpiryDays: positiveInt(1, 3650).default(400),
  /**
   * Score function memory. Lambda gives one vCPU per 1,769 MB, and the function scores on one worker
   * thread per vCPU (`os.availableParallelism()`): 3,584 MB is the smallest round size with two whole
   * vCPUs (3,538 MB needed; the former 3,008 MB gave 1.7, so the second worker would share a core).
   */
  scoreMemoryMb: positiveInt(128, 10240).default(3584),
  /**
   * The score function's `/tmp` (its spools: scored and rejected lines wait there for the merge).
   * Measured on the 1M-row bench extract (51 features, short ids): 44 MB of scored lines per million
   * rows; a rejected row costs its raw line plus a reason (~150 bytes), at most 5 % of rows in a run
   * that passes the reject-rate guard. 4,096 MB holds ~90 million scored rows, about what two vCPUs
   * score in Lambda's 15 minutes.
   */
  scoreEphemeralStorageMb: positiveInt(512, 10240).default(4096),
  scoreTimeoutSeconds: positiveInt(1, 900).default(900),
  /** Caps concurrent scoring runs so a burst of extracts cannot starve the account. */
  scoreReservedConcurrency: positiveInt(1, 1000).default(10),
  /** Times Lambda retries a failed asynchronous (S3-triggered) invocation: 0, 1 or 2. */
  scoreRetryAttempts: retryAttempts.default(2),
  /** How long an S3 event may wait for a retry before it goes to the failure queue (60 s to 6 h). */
  scoreMaxEventAgeSeconds: positiveInt(60, 21600).default(21600),
  /** CPU architecture of every function; onnxruntime-node ships binaries for both. */
  lambdaArchitecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
  /** EventBridge schedule of the drift function (UTC). */
  driftSchedule: scheduleExpression.default('cron(0 6 * * ? *)'),
  /** The drift check reads JSON profiles and a run's scores; it trains nothing. */
  driftMemoryMb: positiveInt(128, 10240).default(1024),
  driftTimeoutSeconds: positiveInt(1, 900).default(300),
  /** Times Lambda retries a failed drift run: 0, 1 or 2 (a rerun rewrites the same day's report). */
  driftRetryAttempts: retryAttempts.default(2),
  /**
   * EventBridge schedule of the retrain function (UTC): after the drift function's, so that
   * `onlyOnAlarm` reads tonight's drift report.
   */
  retrainSchedule: scheduleExpression.default('cron(0 7 * * ? *)'),
  /** Training runs tfjs on wasm; Lambda's CPU share grows with memory. */
  retrainMemoryMb: positiveInt(128, 10240).default(3008),
  retrainTimeoutSeconds: positiveInt(1, 900).default(900),
  /**
   * Times Lambda retries a failed retrain run: 0, 1 or 2. A rerun is safe (labels already used are
   * not used again) but costs up to a full timeout, hence one.
   */
  retrainRetryAttempts: retryAttempts.default(1),
  /** Models the drift and retrain functions look after (their MODELS), and the drift alarms watch (one set per model). */
  models: stringList.default(['bank-marketing', 'audiobooks', 'ecommerce-churn', 'segmentation', 'card-offer']),
  /** Optional e-mail address subscribed to the alarm topic. */
  alarmEmail: z.email().optional(),
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /** Extracts larger than this (bytes as stored) are scored by the fan-out state machine, not the score function (1 GiB). */
  fanOutBytes: positiveInt(1, Number.MAX_SAFE_INTEGER).default(1024 ** 3),
  /** Target bytes of one fan-out part (256 MiB: minutes of one part function). */
  fanOutPartBytes: positiveInt(1024 ** 2, 10 * 1024 ** 3).default(256 * 1024 ** 2),
  /** Parts scored at once by one execution (the Distributed Map's MaxConcurrency). */
  fanOutMaxConcurrency: positiveInt(1, 1000).default(10),
  /** Memory of the part and merge functions (CPU grows with it). */
  fanOutMemoryMb: positiveInt(128, 10240).default(3008),
  /** An execution running longer than this times out (and alarms). */
  fanOutTimeoutMinutes: positiveInt(5, 24 * 60).default(240),
  /** Retries of a fan-out step that failed for a reason a retry can fix (S3, Lambda service errors). */
  fanOutRetryAttempts: z.coerce.number().int().min(0).max(5).default(2),
  /**
   * Reserved concurrency of the fan-out's part function: parts scored at once across all executions.
   * A throttled part is retried (Lambda.TooManyRequestsException is a retryable step error).
   */
  fanOutPartReservedConcurrency: positiveInt(1, 1000).default(20),
  /**
   * A customer-managed KMS key (rotated yearly) for the data bucket, the log groups and the failure
   * queue. Sandbox opt-out only: without it the PCI DSS and NIST packs fail the synth (see compliancePacks).
   */
  customerManagedKey: flag.default(true),
  /**
   * The functions run in private isolated subnets of a VPC, reaching S3 through a gateway endpoint.
   * Sandbox opt-out only: without it the PCI DSS and NIST packs fail the synth (see compliancePacks).
   */
  isolatedNetwork: flag.default(true),
  /** Opt-in: a public subnet and one NAT gateway give the functions an internet route (needed by nothing today). */
  allowInternetEgress: flag.default(false),
  /**
   * The id of an existing VPC to run the functions in (looked up at synth), instead of one the stack
   * creates. Its isolated subnets are used, and it must bring its own S3 gateway and Step Functions endpoints.
   */
  vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'a VPC id such as vpc-0123456789abcdef0').optional(),
  /** The cdk-nag packs that run in `cdk synth`; an unacknowledged finding of any of them fails it. */
  compliancePacks: packList.default([...COMPLIANCE_PACKS]),
  /** Predict function memory: 1,769 MB is one whole vCPU, all a request's single thread of work can use. */
  predictMemoryMb: positiveInt(128, 10240).default(1769),
  /** Predict timeout: a cold start (bundle read, model load) plus 1,000 customers explained fits well inside. */
  predictTimeoutSeconds: positiveInt(1, 900).default(15),
  /** Predict containers at once: callers beyond it get 429 (and the throttles alarm fires). */
  predictReservedConcurrency: positiveInt(1, 1000).default(10),
  /** How long a warm predict container serves a champion before asking the registry again (a promotion shows within this). */
  championTtlSeconds: z.coerce.number().int().min(0).max(86400).default(300),
  /** The predict latency alarm: p99 Duration (5-minute periods, three running) above this many milliseconds. */
  predictP99AlarmMs: positiveInt(1, 900000).default(1000),
}).refine((config) => config.retrainSchedule !== config.driftSchedule, {
  path: ['retrainSchedule'],
  message: 'must differ from driftSchedule: the retrain function reads the report the drift function writes first',
}).refine((config) => config.runIndexExpiryDays > LABEL_JOIN_WINDOW_DAYS, {
  path: ['runIndexExpiryDays'],
  message: `must be more than ${LABEL_JOIN_WINDOW_DAYS}: the drift and retrain functions join late labels to runs that old`,
});

/** Validated stack settings, read once from CDK context. */
export type PropensityStackConfig = z.infer<typeof propensityStackConfigSchema>;

/** The context keys the stack understands. */
export const PROPENSITY_CONTEXT_KEYS = Object.keys(propensityStackConfigSchema.shape) as (keyof PropensityStackConfig)[];

/**
 * Reads and validates the stack's settings from CDK context (cdk.json, `-c key=value`).
 *
 * @throws ConfigError (`CONFIG_INVALID`) naming the first offending context key.
 * @example
 * const config = readPropensityStackConfig(app); // config.scoreMemoryMb === 3008 unless overridden
 */
export function readPropensityStackConfig(scope: Construct): PropensityStackConfig {
  const raw: Record<string, unknown> = {};
  for (const key of PROPENSITY_CONTEXT_KEYS) {
    const value: unknown = scope.node.tryGetContext(key);
    if (value !== undefined) raw[key] = value;
  }
  let parsed: ReturnType<typeof propensityStackConfigSchema.safeParse>;
  try {
    parsed = propensityStackConfigSchema.safeParse(raw);
  } catch (cause) {
    // JSON.parse inside the list preprocessor throws instead of reporting an issue.
    throw new ConfigError('CONFIG_INVALID', 'is not valid JSON', { key: 'models', source: 'CDK context', cause });
  }
  if (!parsed.success) {
    const issue = firstIssue(parsed.error, { root: 'context' });
    throw new ConfigError('CONFIG_INVALID', `${issue.message} (got ${JSON.stringify(raw[String(issue.segments[0])])})`, {
      key: issue.path,
      source: 'CDK context',
    });
  }
  return parsed.data;
}
