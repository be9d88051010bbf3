import { S3Client } from '@aws-sdk/client-s3';
import { logicalIdOf, synthPropensity } from '../infra/synthPropensity.js';

/**
 * Checks S3 requests against the roles of the synthesized stack. The embedded S3 checks no
 * permissions, so a role that is too narrow would only show in AWS, as AccessDenied on the first real
 * run: tests record the requests a function makes on its real paths ({@link recordS3Requests}) and
 * compare them with that function's IAM statements ({@link deniedRequests}).
 */

/** The functions whose roles are checked, by the name a recording gives them. */
export type Actor = 'score' | 'fan-out plan' | 'fan-out part' | 'fan-out finish' | 'drift' | 'retrain' | 'predict';

export interface S3Request {
  readonly actor: Actor;
  readonly action: string;
  /** Object key, or the list prefix for s3:ListBucket. */
  readonly target: string;
}

type CommandInput = { Key?: string; Prefix?: string; VersionId?: string; Delete?: { Objects?: Array<{ Key: string }> } };

/** The IAM action an S3 API call needs, and on what (`GetObject` with a version id needs `GetObjectVersion`). */
function actionsOf(name: string, input: CommandInput): Array<{ action: string; target: string }> {
  const key = input.Key ?? '';
  const versioned = input.VersionId !== undefined;
  switch (name) {
    case 'GetObjectCommand':
    case 'HeadObjectCommand':
      return [{ action: versioned ? 's3:GetObjectVersion' : 's3:GetObject', target: key }];
    case 'PutObjectCommand':
    case 'CreateMultipartUploadCommand':
    case 'UploadPartCommand':
    case 'CompleteMultipartUploadCommand':
      return [{ action: 's3:PutObject', target: key }];
    case 'AbortMultipartUploadCommand':
      return [{ action: 's3:AbortMultipartUpload', target: key }];
    case 'DeleteObjectCommand':
      return [{ action: 's3:DeleteObject', target: key }];
    case 'DeleteObjectsCommand':
      return (input.Delete?.Objects ?? []).map((o) => ({ action: 's3:DeleteObject', target: o.Key }));
    case 'ListObjectsV2Command':
      return [{ action: 's3:ListBucket', target: input.Prefix ?? '' }];
    default:
      throw new Error(`no IAM mapping for ${name}: add it to actionsOf`);
  }
}

export interface S3Recording {
  readonly requests: readonly S3Request[];
  /** Runs `act` with every S3 request (of any client but the test's own) recorded as `actor`'s. */
  as<T>(actor: Actor, act: () => Promise<T>): Promise<T>;
  /** Puts the SDK's `send` back. */
  stop(): void;
}

/**
 * Records the S3 requests of every client in the process except `testClient` (the test plays the
 * warehouse and the analyst with it), so the clients a function builds at its cold start are seen too.
 * Requests made outside {@link S3Recording.as} are an error: each must belong to a function.
 */
export function recordS3Requests(testClient: S3Client): S3Recording {
  const requests: S3Request[] = [];
  let actor: Actor | undefined;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be put back, and called with its client as `this`
  const originalSend = S3Client.prototype.send;
  S3Client.prototype.send = function (this: S3Client, command: { constructor: { name: string }; input: CommandInput }, ...rest: unknown[]) {
    if (this !== testClient) {
      if (!actor) throw new Error(`${command.constructor.name} outside a recorded function (wrap the call in recording.as)`);
      for (const a of actionsOf(command.constructor.name, command.input)) requests.push({ actor, ...a });
    }
    return (originalSend as (...args: unknown[]) => unknown).call(this, command, ...rest);
  } as typeof S3Client.prototype.send;
  return {
    requests,
    async as(who, act) {
      actor = who;
      try {
        return await act();
      } finally {
        actor = undefined;
      }
    },
    stop() {
      S3Client.prototype.send = originalSend;
    },
  };
}

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  /** Resolved: `BUCKET` stands for the data bucket's ARN. */
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const wildcard = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/** The IAM statements of each function's role in the stack as `cdk synth` builds it from cdk.json. */
export function roleStatements(): Record<Actor, readonly Statement[]> {
  const { stack, template } = synthPropensity();
  const bucketId = logicalIdOf(stack, stack.data.bucket);
  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const v = value as Record<string, unknown>;
    if (v['Fn::Join']) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(sep);
    }
    const att = v['Fn::GetAtt'] as [string, string] | undefined;
    if (att && att[0] === bucketId && att[1] === 'Arn') return 'BUCKET';
    return `<${JSON.stringify(value)}>`;
  };
  type Resource = { Properties: Record<string, unknown> };
  const policies = { ...template.findResources('AWS::IAM::ManagedPolicy'), ...template.findResources('AWS::IAM::Policy') } as Record<string, Resource>;
  const functions = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
  const of = (fn: { node: { defaultChild?: unknown } }): Statement[] => {
    const role = (functions[logicalIdOf(stack, fn)]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    return Object.values(policies)
      .filter((p) => asList(p.Properties.Roles as unknown[]).some((r) => (r as { Ref?: string }).Ref === role))
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Array<Omit<Statement, 'Resource'> & { Resource: unknown }> }).Statement)
      .map((s) => ({ ...s, Resource: asList(s.Resource).map(resolve) }));
  };
  return {
    score: of(stack.scoreFunction),
    'fan-out plan': of(stack.fanOut.planFunction),
    'fan-out part': of(stack.fanOut.partFunction),
    'fan-out finish': of(stack.fanOut.finishFunction),
    drift: of(stack.driftFunction),
    retrain: of(stack.retrainFunction),
    predict: of(stack.predict.fn),
  };
}

/** Whether an Allow statement covers the request (object ARN `BUCKET/key`; ListBucket on `BUCKET` under its s3:prefix condition). */
function allowed(statements: readonly Statement[], request: S3Request): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow' || !asList(s.Action).some((a) => wildcard(a).test(request.action))) return false;
    if (request.action !== 's3:ListBucket') return s.Resource.some((r) => wildcard(r).test(`BUCKET/${request.target}`));
    if (!s.Resource.includes('BUCKET')) return false;
    // Only an s3:prefix StringLike condition is understood; any other condition counts as not granting.
    return Object.entries(s.Condition ?? {}).every(
      ([operator, keys]) => operator === 'StringLike' && Object.keys(keys).every((k) => k === 's3:prefix') && asList(keys['s3:prefix']).some((p) => wildcard(p).test(request.target)),
    );
  });
}

/** The requests no statement of their function's role allows, as `actor: action target` lines (one per distinct line). */
export function deniedRequests(roles: Record<Actor, readonly Statement[]>, requests: readonly S3Request[]): string[] {
  return [...new Set(requests.filter((r) => !allowed(roles[r.actor], r)).map((r) => `${r.actor}: ${r.action} ${r.target}`))];
}
