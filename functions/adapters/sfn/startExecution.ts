import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** The outcome of a StartExecution: a new execution, or one of that name that already exists. */
export type StartExecutionResult =
  | { readonly status: 'started'; readonly executionArn: string }
  | { readonly status: 'already-exists' };

/** Starts a state machine execution by name (the port the score function's fan-out uses). */
export type StartExecution = (request: { readonly name: string; readonly input: unknown }) => Promise<StartExecutionResult>;

/** A Step Functions API error (`__type` of its JSON body), e.g. `AccessDeniedException`. */
export class StepFunctionsError extends Error {
  constructor(
    readonly type: string,
    readonly statusCode: number,
    message: string,
  ) {
    super(`Step Functions ${type} (HTTP ${statusCode}): ${message}`);
    this.name = 'StepFunctionsError';
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** node:crypto as the SHA-256 / HMAC the signer asks for. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

function post(url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'POST', headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`Step Functions did not answer within 30 s (${url.host})`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * StartExecution over Step Functions' JSON API, signed with SigV4 from the function's role (the
 * SDK's default credential chain). A small client of one call instead of `@aws-sdk/client-sfn`,
 * which the project does not ship; the request and its errors are those of the API reference.
 * `ExecutionAlreadyExists` is an answer, not an error: the name is the run id, so it means this run
 * was started before (a redelivered event).
 *
 * @param options.endpoint another endpoint (the local stand-in of `npm start` and the tests)
 * @example const start = stepFunctionsStarter({ stateMachineArn, region: 'eu-west-1' });
 * await start({ name: 'bank-full-3f2a9c0d1e2b', input: run });
 */
export function stepFunctionsStarter(options: { readonly stateMachineArn: string; readonly region?: string | undefined; readonly endpoint?: string | undefined }): StartExecution {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const url = new URL(options.endpoint ?? `https://states.${region}.amazonaws.com/`);
  const signer = new SignatureV4({ service: 'states', region, credentials: defaultProvider(), sha256: NodeSha256 });
  return async ({ name, input }) => {
    const body = JSON.stringify({ stateMachineArn: options.stateMachineArn, name, input: JSON.stringify(input) });
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.StartExecution',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    const response = await post(url, signed.headers, body);
    const json = (response.text ? JSON.parse(response.text) : {}) as { executionArn?: string; __type?: string; message?: string };
    if (response.status === 200 && json.executionArn) return { status: 'started', executionArn: json.executionArn };
    const type = (json.__type ?? 'UnknownError').replace(/^.*#/, '');
    if (type === 'ExecutionAlreadyExists') return { status: 'already-exists' };
    throw new StepFunctionsError(type, response.status, json.message ?? response.text.slice(0, 200));
  };
}
