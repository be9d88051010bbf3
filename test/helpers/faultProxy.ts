import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What a rule does to the request it matches.
 * - `drop`: forwards the request, sends the response headers and the first `afterBytes` bytes of the
 *   body, then destroys the socket (a connection lost mid-body).
 * - `error`: answers `status` with an S3 XML error body (500 InternalError, 503 SlowDown) without
 *   forwarding; a request body is read and discarded first, as S3 would.
 * - `slow`: forwards, then sends the response body in `chunkBytes` pieces `delayMs` apart.
 * - `stall`: forwards nothing and never answers (until the client gives up or the proxy closes).
 */
export type FaultAction =
  | { readonly kind: 'drop'; readonly afterBytes: number }
  | { readonly kind: 'error'; readonly status: 500 | 503 }
  | { readonly kind: 'slow'; readonly delayMs: number; readonly chunkBytes?: number }
  | { readonly kind: 'stall' };

export interface FaultRule {
  /** HTTP method, e.g. `GET`, `PUT`, `POST`. */
  readonly method: string;
  /** Tested against the decoded path, e.g. `/bucket/incoming/m/a.csv.gz`. */
  readonly path: RegExp;
  /** Tested against the raw query string (without `?`), e.g. `/partNumber=/` for UploadPart, `/uploadId=/` with POST for Complete. */
  readonly query?: RegExp;
  /** First matching request (1-based) the fault applies to. Default 1. */
  readonly nth?: number;
  /** How many consecutive matching requests, from `nth`, get the fault. Default 1: every rule is bounded. */
  readonly times?: number;
  readonly action: FaultAction;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: point the S3 client here. */
  readonly endpoint: string;
  /** Replaces the rules (and resets their counters). */
  setRules(rules: readonly FaultRule[]): void;
  /** How many faults each rule has injected, in rule order. */
  injected(): number[];
  /** Requests seen, as `METHOD path?query`, oldest first. */
  readonly log: string[];
  /** Closes the listener and every open socket. */
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /**
   * Emulate S3's conditional create (`PutObject` with `If-None-Match: *` answers 412 when the key
   * exists), which s3rver ignores. Checked and forwarded under a per-key queue, so it is atomic.
   * Default true.
   */
  readonly conditionalPut?: boolean;
}

const S3_ERRORS = {
  500: { code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  503: { code: 'SlowDown', message: 'Please reduce your request rate.' },
} as const;

function xmlError(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;
}

interface ArmedRule {
  readonly rule: FaultRule;
  seen: number;
  fired: number;
}

/**
 * A reverse proxy on 127.0.0.1 in front of an S3-compatible server that injects faults by rule
 * (method + path + nth occurrence), for testing how the functions behave when S3 misbehaves.
 * The Host header is forwarded unchanged, so SigV4 signatures still verify upstream.
 *
 * @example
 * const proxy = await startFaultProxy(s3.endpoint);
 * proxy.setRules([{ method: 'GET', path: /\/incoming\//, action: { kind: 'error', status: 503 } }]);
 * const client = createEmbeddedS3Client(proxy.endpoint);
 */
export async function startFaultProxy(upstream: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const target = new URL(upstream);
  let armed: ArmedRule[] = [];
  const log: string[] = [];
  const sockets = new Set<Socket>();
  const keyQueues = new Map<string, Promise<void>>();
  const agent = new http.Agent({ keepAlive: false });

  const forward = (req: IncomingMessage, headers: http.OutgoingHttpHeaders, body: IncomingMessage | Buffer | undefined): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const out = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, resolve);
      out.on('error', reject);
      if (Buffer.isBuffer(body)) out.end(body);
      else if (body) body.pipe(out);
      else out.end();
    });

  const pick = (req: IncomingMessage): FaultAction | undefined => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const pathname = decodeURIComponent(url.pathname);
    const query = url.search.replace(/^\?/, '');
    for (const entry of armed) {
      const { rule } = entry;
      if (rule.method !== req.method || !rule.path.test(pathname) || (rule.query && !rule.query.test(query))) continue;
      entry.seen += 1;
      const first = rule.nth ?? 1;
      if (entry.seen >= first && entry.seen < first + (rule.times ?? 1)) {
        entry.fired += 1;
        return rule.action;
      }
    }
    return undefined;
  };

  const drain = (req: IncomingMessage): Promise<void> =>
    new Promise((resolve) => {
      req.on('data', () => undefined);
      req.on('end', resolve);
      req.on('close', resolve);
    });

  const sendUpstream = async (req: IncomingMessage, res: ServerResponse, action: FaultAction | undefined): Promise<void> => {
    const upstreamRes = await forward(req, req.headers, req);
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
    if (!action) {
      upstreamRes.pipe(res);
      return;
    }
    if (action.kind === 'drop') {
      let sent = 0;
      upstreamRes.on('data', (chunk: Buffer) => {
        if (sent >= action.afterBytes) return;
        const part = chunk.subarray(0, action.afterBytes - sent);
        sent += part.length;
        res.write(part);
        if (sent >= action.afterBytes) {
          upstreamRes.destroy();
          // Let the partial body reach the client, then cut the connection.
          setImmediate(() => res.socket?.destroy());
        }
      });
      upstreamRes.on('end', () => res.socket?.destroy());
      return;
    }
    if (action.kind === 'slow') {
      const chunkBytes = action.chunkBytes ?? 64 * 1024;
      upstreamRes.pause();
      const chunks: Buffer[] = [];
      upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
      upstreamRes.resume();
      await new Promise((resolve) => upstreamRes.on('end', resolve));
      const all = Buffer.concat(chunks);
      for (let offset = 0; offset < all.length && !res.destroyed; offset += chunkBytes) {
        await new Promise((resolve) => setTimeout(resolve, action.delayMs));
        res.write(all.subarray(offset, offset + chunkBytes));
      }
      res.end();
    }
  };

  /** PutObject with `If-None-Match: *`: 412 when the key exists, else forwarded, one request per key at a time. */
  const conditionalPut = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const previous = keyQueues.get(url.pathname) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    keyQueues.set(url.pathname, previous.then(() => mine));
    await previous;
    try {
      const body = await new Promise<Buffer>((resolve, reject) => {
        const parts: Buffer[] = [];
        req.on('data', (chunk: Buffer) => parts.push(chunk));
        req.on('end', () => resolve(Buffer.concat(parts)));
        req.on('error', reject);
      });
      // Anonymous HEAD: s3rver only checks signatures that are present.
      const head = await new Promise<number>((resolve, reject) => {
        const out = http.request({ host: target.hostname, port: target.port, method: 'HEAD', path: url.pathname, agent }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        });
        out.on('error', reject);
        out.end();
      });
      if (head === 200) {
        const text = xmlError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        res.writeHead(412, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      const upstreamRes = await forward(req, req.headers, body);
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
      await new Promise((resolve) => res.on('close', resolve));
    } finally {
      release();
    }
  };

  const server = http.createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const action = pick(req);
    const handle = async (): Promise<void> => {
      if (action?.kind === 'error') {
        await drain(req);
        const { code, message } = S3_ERRORS[action.status];
        const text = xmlError(code, message);
        res.writeHead(action.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      if (action?.kind === 'stall') {
        req.resume();
        return;
      }
      const isConditional = req.method === 'PUT' && req.headers['if-none-match'] === '*' && !(req.url ?? '').includes('uploadId=');
      if (!action && isConditional && options.conditionalPut !== false) return conditionalPut(req, res);
      return sendUpstream(req, res, action);
    };
    handle().catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };

  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    setRules(rules) {
      armed = rules.map((rule) => ({ rule, seen: 0, fired: 0 }));
    },
    injected: () => armed.map((entry) => entry.fired),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
}
