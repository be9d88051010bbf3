/**
 * `npm start`: the whole serverless path on this machine. An embedded S3 server on 127.0.0.1, the
 * bucket layout, the bundled models published to the S3 registry, a real extract dropped into
 * `incoming/`, and S3's notification delivered to the same Lambda handler that runs in AWS.
 *
 * `npm start -- --watch` keeps serving: any S3 client that puts an object under `incoming/<model>/`
 * gets it scored.
 *
 * `npm start -- --serve` serves `POST /predict/<model>` on 127.0.0.1 instead: the predict function's
 * handler behind a small HTTP server, next to the same embedded S3 registry (with --watch too: both).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { S3Event } from 'aws-lambda';
import { Command, InvalidArgumentError } from 'commander';
import { listKeys, putObject, readObjectBytes } from '../adapters/s3/s3Objects.js';
import { S3Registry } from '../adapters/s3/S3Registry.js';
import { PropensityError } from '../core/errors.js';
import { formatReport } from '../core/engine/formatReport.js';
import { OUTPUT_FILES } from '../core/engine/runOutputs.js';
import { FsRegistry } from '../adapters/fs/fsRegistry.js';
import { findBundledModelsDir } from '../score/config.js';
import type { ScoreS3ObjectResult } from '../score/scoreS3Object.js';
import { EMBEDDED_S3_CREDENTIALS, EMBEDDED_S3_REGION, startEmbeddedS3, type EmbeddedS3 } from './embeddedS3.js';
import { readObjectJson } from './demoFanOut.js';
import { startPredictServer } from './predictServer.js';
import { startLocalStepFunctions, type FanOutHandlers, type LocalStepFunctions } from './localFanOut.js';
import type { RunSummary } from '../core/engine/runSummary.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '..', '..');
/** The real dataset, when the shared datasets folder sits beside the repository. */
const SHARED_BANK_FULL = path.resolve(REPO_ROOT, '..', 'shared', 'datasets', 'bank-marketing', 'bank-full.csv');
/** The same file, gzipped, shipped in the repository for a fresh clone. */
const SHIPPED_BANK_FULL = path.join(HERE, 'sample', 'bank-full.csv.gz');

type Handler = (event: S3Event) => Promise<ScoreS3ObjectResult[]>;

interface DemoOptions {
  readonly watch: boolean;
  readonly port: number;
  readonly bucket: string;
  readonly model: string;
  readonly extract?: string;
  readonly sample: boolean;
  readonly out: string;
  readonly verbose: boolean;
  /** Score the sample through the fan-out path (plan → parts → merge) instead of one invocation. */
  readonly fanOut: boolean;
  /** Serve the predict handler on 127.0.0.1 (and keep serving). */
  readonly serve: boolean;
  readonly servePort: number;
}

/** A customer of bank-full.csv (its first row), for the curl example `--serve` prints. */
const EXAMPLE_CUSTOMER = { age: 58, job: 'management', marital: 'married', education: 'tertiary', default: 'no', balance: 2143, housing: 'yes', loan: 'no', contact: 'unknown', day: 5, month: 'may', campaign: 1, pdays: -1, previous: 0, poutcome: 'unknown' };

/** Parts the demo's extract is split into with --fan-out (the state machine's MaxConcurrency here: 2, one per core). */
const DEMO_FAN_OUT_PARTS = 4;

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0 = any free port)');
  return n;
}

/** The sample extract: the shared bank-full.csv gzipped on the fly, else the copy shipped in the repository. */
async function sampleExtract(file: string | undefined): Promise<{ body: Uint8Array; name: string; from: string }> {
  if (file) {
    const bytes = await readFile(file);
    return { body: bytes, name: path.basename(file), from: file };
  }
  if (existsSync(SHARED_BANK_FULL)) {
    return { body: gzipSync(await readFile(SHARED_BANK_FULL)), name: 'bank-full.csv.gz', from: SHARED_BANK_FULL };
  }
  return { body: await readFile(SHIPPED_BANK_FULL), name: 'bank-full.csv.gz', from: SHIPPED_BANK_FULL };
}

/** Publishes every bundled model (its champion, else its newest version) to the S3 registry and promotes it. */
async function publishBundledModels(s3: EmbeddedS3): Promise<string[]> {
  const dir = process.env.BUNDLED_MODELS_DIR || findBundledModelsDir(path.join(REPO_ROOT, 'functions', 'score'));
  if (!dir) return [];
  const bundled = new FsRegistry(dir);
  const registry = new S3Registry(s3.client, s3.bucket);
  const published: string[] = [];
  for (const name of await bundled.listModels()) {
    const bundle = await bundled.read(name);
    const { version } = await registry.write(bundle);
    await registry.promote(name, version, `published by npm start from ${path.relative(process.cwd(), dir) || dir}`);
    published.push(`${name}@${version}`);
  }
  return published;
}

/** Copies a run's outputs from S3 to a local folder, so they outlive the embedded server. */
async function downloadRun(s3: EmbeddedS3, prefix: string, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const key of await listKeys(s3.client, s3.bucket, prefix)) {
    const bytes = await readObjectBytes(s3.client, s3.bucket, key);
    if (bytes) await writeFile(path.join(dir, key.slice(prefix.length)), bytes);
  }
}

function describeFailure(error: unknown): string {
  return error instanceof PropensityError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
}

/** Delivers one notification to the handler, printing a line per record (watch mode). */
async function deliver(handler: Handler, event: S3Event, print: (line: string) => void): Promise<ScoreS3ObjectResult[] | undefined> {
  try {
    const results = await handler(event);
    for (const r of results) {
      if (r.status === 'scored') {
        const roi = r.summary.campaign?.selection.roi;
        print(`scored ${r.key}: ${r.summary.rows.scored} rows, ${r.summary.selected} selected${typeof roi === 'number' ? `, ROI ${(roi * 100).toFixed(1)} %` : ''} → ${r.outputs}`);
      } else if (r.status === 'skipped') print(`skipped ${r.key}: already scored in ${r.outputs}`);
      else if (r.status === 'superseded') print(`skipped ${r.key}: ${r.reason} since the notification`);
      else if (r.status === 'refused') print(`refused ${r.key}: ${r.reason} (error.json in ${r.outputs})`);
      else if (r.status === 'fanned-out') print(`fanning out ${r.key}: ${r.bytes.toLocaleString('en-US')} bytes, above FAN_OUT_BYTES → execution ${r.execution}${r.started ? '' : ' (already started)'}`);
    }
    return results;
  } catch (error) {
    print(`failed ${decodeURIComponent(event.Records[0]?.s3.object.key.replace(/\+/g, ' ') ?? '')}: ${describeFailure(error)} (error.json written under outputs/)`);
    return undefined;
  }
}

async function runDemo(options: DemoOptions): Promise<number> {
  const started = Date.now();
  // The SDK's notice about an older local Node is for deployments (Lambda runs the Node of infra's NODE_MAJOR); it would only clutter the demo.
  if (!options.verbose) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const s3 = await startEmbeddedS3({ bucket: options.bucket, port: options.port });
  let closeStepFunctions: (() => Promise<void>) | undefined;
  let stop = async () => {
    await closeStepFunctions?.().catch(() => undefined);
    await s3.stop().catch(() => undefined);
  };
  try {
    // The handler reads its configuration at import, as at a Lambda cold start: set it first.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: s3.endpoint,
      AWS_REGION: EMBEDDED_S3_REGION,
      AWS_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
      BUCKET: s3.bucket,
      POWERTOOLS_SERVICE_NAME: 'propensity-score',
    });
    if (!options.verbose) {
      // The JSON logs and EMF lines are for CloudWatch; here a person reads the summary.
      process.env.LOG_LEVEL = 'SILENT';
      process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    }
    let stepFunctions: LocalStepFunctions | undefined;
    // --serve alone starts serving at once; with --watch the sample is dropped as --watch would.
    const extract = options.serve && !options.watch ? undefined : options.sample || !options.watch ? await sampleExtract(options.extract) : undefined;
    if (options.fanOut && extract) {
      // A gzip cannot be split: fan out the plain text, with a threshold and part size that make 4 parts.
      if (extract.body[0] === 0x1f && extract.body[1] === 0x8b) {
        Object.assign(extract, { body: gunzipSync(extract.body), name: extract.name.replace(/\.gz$/, ''), from: `${extract.from} (gunzipped)` });
      }
      Object.assign(process.env, {
        FAN_OUT_BYTES: String(Math.floor(extract.body.length / 2)),
        PART_BYTES: String(Math.ceil(extract.body.length / DEMO_FAN_OUT_PARTS) + 1),
        STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:propensity-fan-out-local',
      });
      const fanOutHandlers = (await import('../fanout/handlers.js')) as FanOutHandlers;
      const started = await startLocalStepFunctions(fanOutHandlers, { concurrency: 2 });
      stepFunctions = started;
      closeStepFunctions = () => started.close();
      process.env.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;
    }
    const { handler } = await import('../score/handler.js');

    // The layout: empty "folder" objects, as the S3 console creates them.
    for (const folder of ['incoming/', 'models/', 'outputs/']) await putObject(s3.client, s3.bucket, folder, '');
    const published = await publishBundledModels(s3);
    if (published.length === 0) {
      print('No bundled models found in model-store/ (expected model-store/<name>/<version>/manifest.json).');
      await stop();
      return 1;
    }
    print(`Embedded S3 on ${s3.endpoint}, bucket "${s3.bucket}".`);
    print(`Published to s3://${s3.bucket}/models/: ${published.join(', ')}`);

    // One listener, as one Lambda function subscribed to the bucket; `waiters` lets the sample run be awaited.
    const pending = new Set<Promise<unknown>>();
    const waiters = new Map<string, (results: ScoreS3ObjectResult[] | undefined) => void>();
    s3.onEvent((event) => {
      const key = decodeURIComponent((event.Records[0]?.s3.object.key ?? '').replace(/\+/g, ' '));
      const task = deliver(handler, event, print);
      pending.add(task);
      void task.finally(() => pending.delete(task));
      const waiter = waiters.get(key);
      if (waiter) {
        waiters.delete(key);
        void task.then(waiter);
      }
    });

    if (extract) {
      const key = `incoming/${options.model}/${new Date().toISOString().slice(0, 10)}/${extract.name}`;
      print(`Dropping ${path.relative(process.cwd(), extract.from) || extract.from} as s3://${s3.bucket}/${key} …`);
      const result = new Promise<ScoreS3ObjectResult[] | undefined>((resolve) => waiters.set(key, resolve));
      await putObject(s3.client, s3.bucket, key, extract.body, 'text/csv');
      const [run] = (await result) ?? [];
      let finished: { summary: RunSummary; files: ReadonlyArray<{ name: string }>; outputs: string; runId: string } | undefined = run?.status === 'scored' ? run : undefined;
      if (run?.status === 'fanned-out' && stepFunctions) {
        // The local stand-in runs the state machine's steps; the outputs land where a single run's would.
        const outcome = await stepFunctions.executions.get(run.execution)!.done;
        if (outcome.status !== 'succeeded') {
          print(`fan-out failed in its ${outcome.step} step: ${describeFailure(outcome.error)} (error.json in ${run.outputs})`);
          await stop();
          return 1;
        }
        print(`Fanned out: ${run.bytes.toLocaleString('en-US')} bytes in ${outcome.parts} parts (plan → parts, 2 at a time → merge), execution ${run.execution}.`);
        const prefix = run.outputs.replace(`s3://${s3.bucket}/`, '');
        const summary = await readObjectJson<RunSummary>(s3, `${prefix}summary.json`);
        const manifest = await readObjectJson<{ files: Array<{ name: string }> }>(s3, `${prefix}_SUCCESS`);
        finished = { summary, files: manifest.files, outputs: run.outputs, runId: run.runId };
      }
      if (finished) {
        print('');
        print(formatReport(finished.summary).trimEnd());
        print('');
        const prefix = finished.outputs.replace(`s3://${s3.bucket}/`, '');
        const local = path.join(options.out, options.model, finished.runId);
        await downloadRun(s3, prefix, local);
        print(`Outputs: ${finished.outputs} (${[...finished.files.map((f) => f.name), '_SUCCESS'].join(", ")})`);
        print(`         copied to ${local}`);
        if (finished.files.some((f) => f.name === OUTPUT_FILES.reportHtml)) print(`HTML report: ${path.join(local, OUTPUT_FILES.reportHtml)}`);
        print(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
      } else if (!options.watch) {
        await stop();
        return 1;
      }
    }

    if (!options.watch && !options.serve) {
      await Promise.all(pending);
      await stop();
      return 0;
    }
    if (options.serve) {
      const { handler: predictHandler } = await import('../predict/handler.js');
      const server = await startPredictServer(predictHandler, { port: options.servePort });
      const closeServer = () => server.close();
      const stopS3 = stop;
      stop = async () => {
        await closeServer();
        await stopS3();
      };
      print('');
      print(`Predict on ${server.url}: the predict function's handler, as its function URL would call it (no signature on 127.0.0.1).`);
      print(`  curl -s -X POST ${server.url}/predict/${options.model} -H 'content-type: application/json' \\`);
      print(`    -d '${JSON.stringify({ customers: [EXAMPLE_CUSTOMER], explain: true })}'`);
    }
    if (options.watch) {
      print('');
      print('Watching: put a .csv or .csv.gz under incoming/<model>/ and it is scored, as Lambda would.');
      print(`  endpoint   ${s3.endpoint}`);
      print(`  bucket     ${s3.bucket}`);
      print(`  region     ${EMBEDDED_S3_REGION}`);
      print(`  access key ${EMBEDDED_S3_CREDENTIALS.accessKeyId}`);
      print(`  secret key ${EMBEDDED_S3_CREDENTIALS.secretAccessKey}`);
      print(`  e.g. AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER aws --endpoint-url ${s3.endpoint} s3 cp extract.csv s3://${s3.bucket}/incoming/${options.model}/`);
    }
    print('Ctrl-C stops the server.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await Promise.all(pending);
    await stop();
    return 0;
  } catch (error) {
    await stop();
    throw error;
  }
}

const program = new Command('npm start')
  .description('Score a real extract end to end through an embedded S3 server and the Lambda handler')
  .option('--watch', 'keep serving: score every extract put under incoming/<model>/', false)
  .option('--port <port>', 'port of the embedded S3 server (default: 4568 with --watch, any free port otherwise)', port)
  .option('--bucket <name>', 'bucket name', 'propensity')
  .option('--model <name>', 'model folder the sample extract is dropped into', 'bank-marketing')
  .option('--extract <file>', 'extract to drop instead of bank-full.csv')
  .option('--no-sample', 'with --watch: do not drop the sample extract')
  .option('--out <dir>', 'where to copy the outputs of the sample run', path.join(tmpdir(), 'propensity-demo', 'outputs'))
  .option('--verbose', 'show the handler\'s JSON logs and EMF metrics', false)
  .option('--fan-out', 'score the sample through the fan-out path: plan, 4 parts (2 at a time), merge, as the state machine would', false)
  .option('--serve', 'keep serving POST /predict/<model> on 127.0.0.1 (the predict handler), next to the embedded S3', false)
  .option('--serve-port <port>', 'port of the predict server with --serve (0 = any free port)', port, 8080)
  .action(async (raw: Omit<DemoOptions, 'port'> & { port?: number }) => {
    process.exitCode = await runDemo({ ...raw, port: raw.port ?? (raw.watch ? 4568 : 0) });
  });

await program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`npm start failed: ${describeFailure(error)}\n`);
  process.exitCode = error instanceof PropensityError && error.isInputError ? 2 : 1;
});
