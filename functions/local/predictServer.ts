import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { MAX_REQUEST_BYTES } from '../core/predict/predictRequest.js';
import { functionUrlEvent } from './functionUrlEvent.js';

/** The predict handler as Lambda calls it: a function URL event in, a structured result out. */
export type FunctionUrlHandler = (event: LambdaFunctionURLEvent) => Promise<{ statusCode: number; headers?: Record<string, string | number | boolean>; body: string }>;

export interface PredictServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The body, or its first MAX_REQUEST_BYTES + 1 bytes: enough for the handler to answer 413 without holding more. */
async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    if (bytes > MAX_REQUEST_BYTES) continue;
    chunks.push(chunk);
    bytes += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, MAX_REQUEST_BYTES + 1);
}

/**
 * A small HTTP server on 127.0.0.1 in front of the predict handler, for `npm start -- --serve` and the
 * bench: each request becomes the function URL event AWS would deliver (no signature check: the
 * server listens on the loopback interface only), and the handler's answer is written back as is.
 * A handler that throws answers 502, as a function URL does.
 */
export async function startPredictServer(handler: FunctionUrlHandler, options: { readonly port?: number; readonly address?: string } = {}): Promise<PredictServer> {
  const server = createServer((request, response) => {
    void (async () => {
      try {
        const url = new URL(request.url ?? '/', 'http://localhost');
        const body = await readBody(request);
        const event = functionUrlEvent(url.pathname, body.toString('utf8'), { method: request.method ?? 'GET', rawQueryString: url.search.slice(1) });
        const result = await handler(event);
        response.writeHead(result.statusCode, Object.fromEntries(Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)])));
        response.end(result.body);
      } catch {
        response.writeHead(502, { 'content-type': 'application/json' });
        response.end('{"message":"Internal Server Error"}');
      }
    })();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.address ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
