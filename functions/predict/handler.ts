import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent } from 'aws-lambda';
import { traced } from '../adapters/tracing/traced.js';
import { createPredictRuntime } from './predictRuntime.js';

// Cold start: config is validated once here; a bad variable fails the init with its name.
const runtime = createPredictRuntime();

/** One request, one X-Ray subsegment annotated with its status only: never the body, which holds customers. */
const serve = traced('predict', (request: Parameters<typeof runtime.serve>[0]) => runtime.serve(request), (_request, response) => (response ? { status: response.statusCode } : {}));

/** A function URL result (payload v2), always the structured form: status, headers, JSON body. */
export type PredictUrlResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };

/**
 * Lambda function URL entry (payload v2, `AWS_IAM` auth): `POST /predict/<model>` with
 * `{"customers": [{column: value, …}], "explain": false}`. See `PredictRuntime.serve` for the answers.
 */
export async function handler(event: LambdaFunctionURLEvent): Promise<PredictUrlResult> {
  const body = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  const response = await serve({ method: event.requestContext.http.method, path: event.rawPath, body });
  return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body };
}
