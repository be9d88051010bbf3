import type { LambdaFunctionURLEvent } from 'aws-lambda';

/**
 * A Lambda function URL event (payload format 2.0) as AWS delivers it to a handler, for `npm start
 * -- --serve` and the tests: the same handler as in AWS, fed what its URL would feed it. The body is
 * passed as text, or base64 for bytes that are not UTF-8 (as the URL does for binary bodies).
 */
export function functionUrlEvent(
  rawPath: string,
  body: string | Uint8Array | undefined,
  options: { readonly method?: string; readonly headers?: Readonly<Record<string, string>>; readonly rawQueryString?: string } = {},
): LambdaFunctionURLEvent {
  const method = options.method ?? 'POST';
  const now = new Date();
  const text = typeof body === 'string' || body === undefined ? body : Buffer.from(body).toString('base64');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: options.rawQueryString ?? '',
    headers: { 'content-type': 'application/json', ...options.headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'propensity-local' },
      requestId: `local-${now.getTime().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(text === undefined ? {} : { body: text }),
    isBase64Encoded: typeof body !== 'string' && body !== undefined,
  };
}
