import { execFile, execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { S3Event } from 'aws-lambda';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { putObject, readJsonObject } from '../../functions/adapters/s3/s3Objects.js';
import { BUNDLED_MODELS_DIRNAME } from '../../functions/core/constants.js';
import { propensityBundling } from '../../infra/constructs/propensityFunction.js';
import { buildPropensityApp, readCdkJsonContext } from '../../infra/propensityApp.js';
import type { PropensityStack } from '../../infra/stacks/propensityStack.js';
import { FsRegistry } from '../../functions/adapters/fs/fsRegistry.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { bankBundle } from './support/bankBundle.js';
import { BANK_FULL_SHIPPED, REPO_ROOT, dropObject, objectJson, objectText, runFiles } from './support/s3Drops.js';

const run = promisify(execFile);

let s3: EmbeddedS3;
let workDir: string;
let assetDir: string;
let handlerFile: string;

/**
 * Builds the score handler the way the stack does: the esbuild options come from the CDK construct's
 * own bundling settings, and its afterBundling commands (onnxruntime-node for Linux) run on the output.
 */
async function buildLikeTheStack(outputDir: string, entry = 'functions/score/handler.ts', options: { modelRuntimes?: boolean; partWorker?: boolean } = {}): Promise<string> {
  const architecture = process.arch === 'arm64' ? Architecture.ARM_64 : Architecture.X86_64;
  const bundling = propensityBundling(architecture, options);
  const esm = bundling.format === OutputFormat.ESM;
  const outfile = path.join(outputDir, esm ? 'index.mjs' : 'index.js');
  await build({
    entryPoints: [path.join(REPO_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: esm ? 'esm' : 'cjs',
    // The stack targets Lambda's Node; this machine runs Node 20, so the syntax target is lowered to match.
    target: 'node20',
    mainFields: bundling.mainFields ?? ['module', 'main'],
    minify: bundling.minify ?? false,
    external: bundling.externalModules ?? [],
    banner: bundling.banner ? { js: bundling.banner } : {},
    logLevel: 'error',
  });
  const commands = bundling.commandHooks?.afterBundling(REPO_ROOT, outputDir) ?? [];
  for (const command of commands) execSync(command, { cwd: REPO_ROOT, stdio: 'pipe' });
  return outfile;
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'propensity-built-'));
  assetDir = path.join(workDir, 'asset');
  // As the stack builds it: with the part worker beside the handler (test/infra checks the stack asks for it).
  handlerFile = await buildLikeTheStack(assetDir, 'functions/score/handler.ts', { partWorker: true });
  // The bundled fallback models ship inside the asset, next to the handler.
  const bundled = new FsRegistry(path.join(assetDir, BUNDLED_MODELS_DIRNAME));
  await bundled.write(bankBundle('2026-11-01T0000-bundled', 'bank-fallback'));
  await bundled.promote('bank-fallback', '2026-11-01T0000-bundled', 'shipped with the function');

  s3 = await startEmbeddedS3({ bucket: 'built-handler-it' });
  const registry = new S3Registry(s3.client, s3.bucket);
  const champion = bankBundle();
  await registry.write(champion);
  await registry.promote('bank-marketing', champion.manifest.version, 'test');
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Invokes the built handler once in a fresh Node process, as the Lambda runtime would import it. */
async function invokeBuilt(event: S3Event, extraEnv: Record<string, string> = {}): Promise<{ results: unknown; stdout: string }> {
  const script = `
    const { handler } = await import(${JSON.stringify(new URL(`file://${handlerFile}`).href)});
    const results = await handler(JSON.parse(process.env.TEST_EVENT));
    process.stdout.write('\\nRESULT ' + JSON.stringify(results) + '\\n');
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: assetDir,
    env: {
      PATH: process.env.PATH,
      // Only what Lambda and the stack would set, plus the embedded endpoint.
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      BUCKET: s3.bucket,
      INCOMING_PREFIX: 'incoming/',
      MODELS_PREFIX: 'models/',
      OUTPUTS_PREFIX: 'outputs/',
      LOG_LEVEL: 'INFO',
      POWERTOOLS_SERVICE_NAME: 'propensity-score',
      POWERTOOLS_METRICS_NAMESPACE: 'Propensity',
      AWS_ENDPOINT_URL: s3.endpoint,
      TEST_EVENT: JSON.stringify(event),
      ...extraEnv,
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  return { results: line ? JSON.parse(line.slice('RESULT '.length)) : undefined, stdout };
}

describe('the built score handler (bundled JavaScript, not the TypeScript source)', () => {
  it('is one ESM file plus onnxruntime-node for one platform, and the part worker beside it', async () => {
    expect(existsSync(handlerFile)).toBe(true);
    expect(existsSync(path.join(assetDir, 'scorePartWorker.mjs'))).toBe(true);
    const code = await readFile(handlerFile, 'utf8');
    // onnxruntime-node stays external (native binary), and is shipped beside the handler.
    expect(code).toMatch(/from\s*"onnxruntime-node"|import\("onnxruntime-node"\)|require\("onnxruntime-node"\)/);
    expect(existsSync(path.join(assetDir, 'node_modules', 'onnxruntime-node', 'package.json'))).toBe(true);
  });

  it('scores one S3 event with two records: an S3 champion and a model bundled in the asset', async () => {
    // Prepare: two drops, delivered to the function as one notification with two records.
    const extract = '"age";"job";"balance";"duration";"campaign"\n58;"management";2143;261;1\n44;"technician";29;151;1\n47;"blue-collar";1506;1692;2\n';
    const a = await dropObject(s3, 'incoming/bank-marketing/built/a.csv.gz', gzipSync(extract));
    const b = await dropObject(s3, 'incoming/bank-fallback/built/b.csv', extract);
    const event: S3Event = { Records: [...a.Records, ...b.Records] };
    // Act
    const { results, stdout } = await invokeBuilt(event);
    // Assess
    const [ra, rb] = results as Array<{ status: string; runId: string; outputs: string; bundleOrigin: string; modelVersion: string; summary: { rows: { read: number } } }>;
    expect(ra).toMatchObject({ status: 'scored', bundleOrigin: 'registry', modelVersion: '2026-11-23T0900-test01', summary: { rows: { read: 3 } } });
    expect(rb).toMatchObject({ status: 'scored', bundleOrigin: 'bundled', modelVersion: '2026-11-01T0000-bundled', summary: { rows: { read: 3 } } });
    for (const result of [ra!, rb!]) {
      const prefix = result.outputs.replace(`s3://${s3.bucket}/`, '');
      expect(await runFiles(s3, prefix)).toEqual(['_SUCCESS', 'rejects.csv', 'report.html', 'report.md', 'scores.csv', 'summary.json', 'targets.csv']);
      expect(await objectJson<{ runId: string }>(s3, `${prefix}_SUCCESS`)).toMatchObject({ runId: result.runId });
    }
    // The built function logs as JSON and emits EMF metrics, both on stdout.
    const json = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.filter((l) => l.message === 'extract scored')).toHaveLength(2);
    expect(json.filter((l) => l._aws !== undefined).map((l) => l.model)).toEqual(['bank-marketing', 'bank-fallback']);

    // A redelivery to the built function finds both runs complete.
    const again = await invokeBuilt(event);
    expect((again.results as Array<{ status: string }>).map((r) => r.status)).toEqual(['skipped', 'skipped']);
  });

  it('scores a plain object on two worker threads over ranged GETs, byte for byte as on one', async () => {
    // Prepare: the whole bank-full (4.6 MB, plain) twice, under two keys.
    const plain = gunzipSync(await readFile(BANK_FULL_SHIPPED));
    const two = await dropObject(s3, 'incoming/bank-marketing/built/workers-2.csv', plain);
    const one = await dropObject(s3, 'incoming/bank-marketing/built/workers-1.csv', plain);
    // Act
    const onTwo = await invokeBuilt(two, { SCORE_WORKERS: '2' });
    const onOne = await invokeBuilt(one, { SCORE_WORKERS: '1' });
    // Assess: two parts on two workers, then the same files as the one-thread run.
    const logs = onTwo.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.find((l) => l.message === 'extract planned')).toMatchObject({ parts: 2, workers: 2 });
    const [r2] = onTwo.results as Array<{ status: string; outputs: string; summary: { rows: unknown } }>;
    const [r1] = onOne.results as Array<{ status: string; outputs: string; summary: { rows: unknown } }>;
    expect(r2).toMatchObject({ status: 'scored', summary: { rows: { read: 45_211, scored: 45_211, rejected: 0 } } });
    const prefix = (r: { outputs: string }) => r.outputs.replace(`s3://${s3.bucket}/`, '');
    expect(await runFiles(s3, prefix(r2!))).toEqual(['_SUCCESS', 'rejects.csv', 'report.html', 'report.md', 'scores.csv', 'summary.json', 'targets.csv']);
    for (const name of ['scores.csv', 'targets.csv', 'rejects.csv']) {
      expect(await objectText(s3, `${prefix(r2!)}${name}`), name).toBe(await objectText(s3, `${prefix(r1!)}${name}`));
    }
  }, 120_000);
});

/** Invokes a built scheduled handler once in a fresh Node process with a schedule event, as Lambda would. */
async function invokeBuiltScheduled(handler: string, cwd: string, env: Record<string, string>): Promise<{ results: unknown; logs: Array<Record<string, unknown>> }> {
  const script = `
    const { handler } = await import(${JSON.stringify(new URL(`file://${handler}`).href)});
    const results = await handler({ time: new Date().toISOString(), 'detail-type': 'Scheduled Event', source: 'aws.events' });
    process.stdout.write('\\nRESULT ' + JSON.stringify(results) + '\\n');
  `;
  const invocation = run(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      LOG_LEVEL: 'INFO',
      AWS_ENDPOINT_URL: s3.endpoint,
      ...env,
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  // A failure shows the end of what the process printed, not the minified bundle in the command line.
  const { stdout, stderr } = await invocation.catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`the built ${path.basename(cwd)} handler failed:\n${(error.stdout ?? '').slice(-3000)}\n${(error.stderr ?? '').slice(-3000)}`);
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  // EMF and info logs go to stdout, warnings to stderr: Lambda sends both to CloudWatch.
  const logs = `${stdout}\n${stderr}`.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { results: line ? JSON.parse(line.slice('RESULT '.length)) : undefined, logs };
}

describe('the built drift and retrain handlers (bundled JavaScript)', () => {
  // The stack's own functions say how each is bundled (synthesized without building assets).
  let synthesized: PropensityStack | undefined;
  const stack = () => (synthesized ??= buildPropensityApp({ context: { ...readCdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, nag: false }).stack);
  let driftAsset: string;
  let driftHandler: string;
  let retrainAsset: string;
  let retrainHandler: string;
  const bucket = 'built-scheduled-it';
  // What the stack sets for each function (DataBucketAccess gives the prefixes it grants).
  const driftEnv = () => ({
    BUCKET: bucket,
    MODELS: 'bank-marketing',
    OUTPUTS_PREFIX: 'outputs/',
    LABELS_PREFIX: 'labels/',
    MODELS_PREFIX: 'models/',
    DRIFT_PREFIX: 'drift/',
    POWERTOOLS_SERVICE_NAME: 'propensity-drift',
  });
  const retrainEnv = () => ({
    ...driftEnv(),
    INCOMING_PREFIX: 'incoming/',
    TRAINING_PREFIX: 'training/',
    RETRAIN_POLICY: JSON.stringify({ minNewLabels: 1000 }),
    TRAINING_OVERRIDES: JSON.stringify({ search: false, training: { epochs: 2, ensemble: 1 } }),
    POWERTOOLS_SERVICE_NAME: 'propensity-retrain',
  });

  beforeAll(async () => {
    driftAsset = path.join(workDir, 'drift');
    // As the stack builds it: without the model runtimes, which a drift check never loads.
    driftHandler = await buildLikeTheStack(driftAsset, 'functions/drift/handler.ts', { modelRuntimes: stack().driftFunction.modelRuntimes });
    retrainAsset = path.join(workDir, 'retrain');
    retrainHandler = await buildLikeTheStack(retrainAsset, 'functions/retrain/handler.ts', { modelRuntimes: stack().retrainFunction.modelRuntimes });
    await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const { createScoreRuntime } = await import('../../functions/score/scoreRuntime.js');
    // Tonight's run, scored by the score function's code with the bundled champion (it writes profile.json).
    const bank = gunzipSync(await readFile(BANK_FULL_SHIPPED)).toString('utf8').trimEnd().split('\n');
    await putObject(s3.client, bucket, 'incoming/bank-marketing/tonight.csv', `${bank.slice(0, 3001).join('\n')}\n`);
    const env = { BUCKET: bucket, AWS_ENDPOINT_URL: s3.endpoint, AWS_REGION: 'us-east-1', LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    expect((await createScoreRuntime(env).scoreObject({ bucket, key: 'incoming/bank-marketing/tonight.csv' })).status).toBe('scored');
    // Labelled outcomes of an earlier campaign, as a full labelled extract.
    // (every tenth customer of the whole file: bank-full is in date order, and some stretches have no previous contacts at all).
    await putObject(s3.client, bucket, 'training/bank-marketing/earlier.csv', `${[bank[0], ...bank.slice(1).filter((_, i) => i % 10 === 0)].join('\n')}\n`);
  }, 180_000);

  it('drift: ships the bundled models but no model runtime', () => {
    expect(existsSync(path.join(driftAsset, BUNDLED_MODELS_DIRNAME))).toBe(true);
    expect(existsSync(path.join(driftAsset, 'node_modules', 'onnxruntime-node'))).toBe(false);
    expect(existsSync(path.join(driftAsset, 'tfjs-backend-wasm'))).toBe(false);
    expect(existsSync(path.join(retrainAsset, 'tfjs-backend-wasm'))).toBe(true);
  });

  it('drift: checks drift with the model shipped in the asset, writes its report and emits EMF', async () => {
    const { results, logs } = await invokeBuiltScheduled(driftHandler, driftAsset, driftEnv());

    const [check] = results as Array<{ drift: { status: string; rows: number; reportKey: string } }>;
    // The first 3,000 rows of bank-full are May 2008 only: the month (and what goes with it) differs from training.
    expect(check!.drift.rows).toBe(3000);
    expect(['ok', 'warn', 'alert']).toContain(check!.drift.status);
    expect(await readJsonObject(s3.client, bucket, check!.drift.reportKey)).toMatchObject({ model: 'bank-marketing', rows: 3000 });
    expect(logs.some((l) => l._aws !== undefined && l.model === 'bank-marketing' && typeof l.FeaturePsiMax === 'number')).toBe(true);
    expect(logs.some((l) => l.message === 'drift checked' && l.model === 'bank-marketing' && l.service === 'propensity-drift')).toBe(true);
    // The drift function trains nothing.
    expect(logs.some((l) => l.message === 'retraining')).toBe(false);
  }, 120_000);

  it('retrain: trains a challenger with tfjs on wasm against the model shipped in the asset, and records it', async () => {
    const { results, logs } = await invokeBuiltScheduled(retrainHandler, retrainAsset, retrainEnv());

    const [step] = results as Array<{ retrain: { status: string; recordKey: string } }>;
    expect(['promoted', 'refused']).toContain(step!.retrain.status);
    expect(await readJsonObject(s3.client, bucket, step!.retrain.recordKey)).toMatchObject({ model: 'bank-marketing', trainRows: expect.any(Number) as unknown });
    expect(logs.some((l) => l.message === 'retraining' && l.service === 'propensity-retrain')).toBe(true);
    // Retraining publishes no drift metrics: those are the drift function's.
    expect(logs.some((l) => l._aws !== undefined)).toBe(false);
  }, 180_000);
});
