/**
 * Latency and throughput of the online predict path against the batch path's per-row cost, both
 * measured in this run with the bundled bank-marketing model on real bank-full customers.
 *
 *   npx tsx bench/predict.ts [--seconds 5] [--max-requests 50000] [--connections 16]
 *
 * The server is `npm start -- --serve` in its own process (the predict handler behind node:http on
 * 127.0.0.1, the registry on the embedded S3): one Node thread, as one Lambda container. The load
 * comes from this process over keep-alive connections, bounded by time and by requests. Printed:
 * the cold start (first request: champion lookup, bundle read, ORT session, encoder), then p50/p99
 * latency and requests/s for 1 and for 100 customers per request, on one connection (latency
 * alone) and on many (throughput), each beside the batch path's cost per row, measured by scoring
 * an extract of bank-full through the core batch path (scoreExtract) in this process. The handler is
 * also timed alone, called in this process without HTTP (what Lambda's Duration would count).
 * Not a test: nothing here passes or fails on a timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { parse } from 'csv-parse/sync';
import { FsRegistry } from '../functions/adapters/fs/fsRegistry.js';
import { LocalOutputTarget } from '../functions/adapters/fs/localOutputTarget.js';
import { tempFileSpool } from '../functions/adapters/fs/tempFileSpool.js';
import { loadModel } from '../functions/adapters/model/modelLoader.js';
import { resolveEconomics } from '../functions/core/economics/campaignEconomics.js';
import { loadBundle } from '../functions/core/engine/loadBundle.js';
import { scoreExtract } from '../functions/core/engine/scoreExtract.js';
import { functionUrlEvent } from '../functions/local/functionUrlEvent.js';
import { findSharedDir } from '../test/helpers/datasets.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BANK_FULL = path.join(findSharedDir(), 'datasets', 'bank-marketing', 'bank-full.csv');
const MODEL = 'bank-marketing';

interface Options {
  readonly seconds: number;
  readonly maxRequests: number;
  readonly connections: number;
}

interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
}

const positive = (value: string): number => {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number');
  return n;
};

/** Starts `npm start -- --serve` (S3 and predict on free ports) and resolves with the predict URL and the embedded S3's. */
async function startServer(): Promise<{ url: string; s3: { endpoint: string; bucket: string }; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/local/demo.ts', '--serve', '--serve-port', '0', '--port', '0'], {
    cwd: REPO_ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    const match = /^Predict on (http:\/\/127\.0\.0\.1:\d+):/m.exec(text);
    const s3 = /^Embedded S3 on (http:\/\/127\.0\.0\.1:\d+), bucket "([^"]+)"/m.exec(text);
    if (match && s3) return { url: match[1]!, s3: { endpoint: s3[1]!, bucket: s3[2]! }, child };
  }
  throw new Error(`the predict server exited before serving:\n${text}`);
}

/** The first `count` customers of bank-full.csv as JSON objects (numbers as numbers), and the extract they come from. */
async function bankCustomers(count: number): Promise<{ customers: Record<string, string | number>[]; extract: string }> {
  const lines = (await readFile(BANK_FULL, 'utf8')).split('\n');
  const extract = `${lines.slice(0, count + 1).join('\n')}\n`;
  const records = parse<Record<string, string>>(extract, { delimiter: ';', columns: true });
  const customers = records.map((record) => Object.fromEntries(Object.entries(record).map(([column, cell]) => [column, /^-?\d+$/.test(cell) ? Number(cell) : cell])));
  return { customers, extract };
}

/** One POST on a keep-alive agent; resolves with the status once the whole body is read. */
function post(agent: Agent, url: URL, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** Closed-loop load: `connections` callers, each sending the next request when the last answered, until time or the request budget runs out. */
async function load(url: URL, body: Buffer, connections: number, seconds: number, maxRequests: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let failures = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const caller = async () => {
    while (performance.now() < deadline && sent < maxRequests) {
      sent++;
      const t0 = performance.now();
      const status = await post(agent, url, body);
      latencies.push(performance.now() - t0);
      if (status !== 200) failures++;
    }
  };
  await Promise.all(Array.from({ length: connections }, caller));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]!;
  return { requests: latencies.length, seconds: elapsed, p50Ms: quantile(0.5), p99Ms: quantile(0.99), failures };
}

/** The batch path's cost per row: the same model scoring an extract of the same customers through scoreExtract. */
async function batchCostPerRow(extract: string, rows: number): Promise<{ microsPerRow: number; rows: number; seconds: number }> {
  const bundle = await loadBundle(await new FsRegistry(path.join(REPO_ROOT, 'model-store')).read(MODEL), loadModel);
  const out = await mkdtemp(path.join(tmpdir(), 'propensity-bench-predict-'));
  const file = path.join(out, 'extract.csv');
  await writeFile(file, extract);
  const economics = resolveEconomics(bundle.manifest.economics);
  const run = async () => {
    const started = performance.now();
    await scoreExtract({ input: createReadStream(file), source: file, bundle, economics, spool: tempFileSpool(), output: new LocalOutputTarget(path.join(out, 'run')) });
    return (performance.now() - started) / 1000;
  };
  await run(); // warm: JIT, first ORT run
  const seconds = Math.min(await run(), await run());
  await bundle.model.dispose();
  await rm(out, { recursive: true, force: true });
  return { microsPerRow: (seconds * 1e6) / rows, rows, seconds };
}

/**
 * The handler alone, called in this process with function URL events (no HTTP): what Lambda's
 * Duration counts for a warm invocation. Reads the registry of the server's embedded S3.
 */
async function handlerAlone(s3: { endpoint: string; bucket: string }, bodies: ReadonlyMap<number, Buffer>, calls: number): Promise<Map<number, { p50Ms: number; p99Ms: number; perSecond: number }>> {
  Object.assign(process.env, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_ENDPOINT_URL: s3.endpoint, BUCKET: s3.bucket, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', LOG_LEVEL: 'SILENT' });
  const { handler } = await import('../functions/predict/handler.js');
  const results = new Map<number, { p50Ms: number; p99Ms: number; perSecond: number }>();
  for (const [size, body] of bodies) {
    const event = functionUrlEvent(`/predict/${MODEL}`, body.toString('utf8'));
    for (let i = 0; i < Math.min(500, calls); i++) await handler(event);
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await handler(event);
      latencies.push(performance.now() - t0);
    }
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    results.set(size, { p50Ms: latencies[Math.ceil(0.5 * calls) - 1]!, p99Ms: latencies[Math.ceil(0.99 * calls) - 1]!, perSecond: calls / seconds });
  }
  return results;
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const int = (value: number) => Math.round(value).toLocaleString('en-US');

async function main(options: Options): Promise<void> {
  const { customers, extract } = await bankCustomers(45_211);
  process.stdout.write(`Batch path: scoring ${int(customers.length)} bank-full rows through scoreExtract (best of 2 after a warm run) …\n`);
  const batch = await batchCostPerRow(extract, customers.length);
  const batchNote = `batch ${batch.microsPerRow.toFixed(1)} µs/row`;
  process.stdout.write(`  ${int(batch.rows)} rows in ${batch.seconds.toFixed(2)} s: ${batch.microsPerRow.toFixed(1)} µs/row, ${int(batch.rows / batch.seconds)} rows/s (parse, encode, score, economics, outputs)\n`);

  const { url, s3, child } = await startServer();
  try {
    const endpoint = new URL(`${url}/predict/${MODEL}`);
    const bodyOf = (count: number, offset = 0) => Buffer.from(JSON.stringify({ customers: customers.slice(offset, offset + count) }));
    const agent = new Agent({ keepAlive: true });
    const t0 = performance.now();
    const coldStatus = await post(agent, endpoint, bodyOf(1));
    const coldMs = performance.now() - t0;
    const t1 = performance.now();
    await post(agent, endpoint, bodyOf(1, 1));
    const warmMs = performance.now() - t1;
    agent.destroy();
    if (coldStatus !== 200) throw new Error(`the first request answered ${coldStatus}`);
    process.stdout.write(`\nPredict server: ${url} (npm start -- --serve, one Node thread)\n`);
    process.stdout.write(`cold start: first request ${ms(coldMs)} (champion lookup, bundle read from S3, ORT session, encoder), the next ${ms(warmMs)}  | ${batchNote}\n`);

    const alone = await handlerAlone(s3, new Map([1, 100].map((size) => [size, bodyOf(size, 1000)])), Math.min(options.maxRequests, 5000));
    for (const [size, r] of alone) {
      process.stdout.write(
        `${String(size).padStart(3)} customer${size === 1 ? ' ' : 's'}/request, handler alone (no HTTP, as Lambda's Duration): p50 ${ms(r.p50Ms)}  p99 ${ms(r.p99Ms)}  ${int(r.perSecond)} calls/s (${(1e6 / (r.perSecond * size)).toFixed(1)} µs/customer)  | ${batchNote}\n`,
      );
    }
    // Warm-up: JIT and socket pools, not counted.
    await load(endpoint, bodyOf(1), options.connections, 1, options.maxRequests);
    for (const size of [1, 100]) {
      const body = bodyOf(size, 1000);
      for (const connections of [1, options.connections]) {
        const r = await load(endpoint, body, connections, options.seconds, options.maxRequests);
        const perSecond = r.requests / r.seconds;
        const microsPerCustomer = 1e6 / (perSecond * size);
        process.stdout.write(
          `${String(size).padStart(3)} customer${size === 1 ? ' ' : 's'}/request, ${String(connections).padStart(2)} connection${connections === 1 ? ' ' : 's'}: ` +
            `p50 ${ms(r.p50Ms)}  p99 ${ms(r.p99Ms)}  ${int(perSecond)} requests/s (${int(perSecond * size)} customers/s, ${microsPerCustomer.toFixed(1)} µs/customer)` +
            `  ${int(r.requests)} requests in ${r.seconds.toFixed(1)} s${r.failures ? `, ${r.failures} not 200` : ''}  | ${batchNote}\n`,
        );
      }
    }
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

const program = new Command('bench/predict.ts')
  .description('Online predict latency and throughput beside the batch path\'s per-row cost')
  .option('--seconds <n>', 'seconds of load per scenario', positive, 5)
  .option('--max-requests <n>', 'most requests per scenario', positive, 50_000)
  .option('--connections <n>', 'concurrent keep-alive connections of the throughput runs', positive, 16)
  .action(async (options: Options) => {
    await main(options);
  });

await program.parseAsync(process.argv);
