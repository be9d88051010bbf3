import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listKeys, putObject, readObjectBytes } from '../../functions/adapters/s3/s3Objects.js';
import { FsRegistry } from '../../functions/adapters/fs/fsRegistry.js';
import { createEmbeddedS3Client } from '../helpers/embeddedS3.js';
import { cardOfferLongCsvLines, generateCardOfferTable } from '../../functions/core/training/syntheticCardOffer.js';
import { bankBundle } from './support/bankBundle.js';
import { REPO_ROOT } from './support/s3Drops.js';

let workDir: string;
let testModels: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'propensity-demo-it-'));
  // A bundled registry with known weights, for the watch test (the real bundles are used by `npm start`).
  testModels = path.join(workDir, 'models');
  const registry = new FsRegistry(testModels);
  await registry.write(bankBundle());
  await registry.promote('bank-marketing', '2026-11-23T0900-test01', 'demo test');
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Starts the demo as `npm start` would (tsx), collecting its output. */
function startDemo(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/local/demo.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => text, exited };
}

async function waitFor(output: () => string, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = output().match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output so far:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start', () => {
  it('scores the real bank-marketing extract with the bundled models and prints selection and ROI', async () => {
    const out = path.join(workDir, 'outputs');
    const demo = startDemo(['--out', out]);
    expect(await demo.exited).toBe(0);
    const text = demo.output();
    const selected = Number(text.match(/Selected \*\*([\d,]+)\*\* customers/)![1]!.replaceAll(',', ''));
    expect(selected).toBeGreaterThan(0);
    expect(text).toMatch(/ROI \*\*-?[\d.,]+ %\*\*/);
    expect(text).toMatch(/\| everyone \|/);
    expect(text).toMatch(/\| no one \|/);
    expect(text).toContain('Rows read 45,211 = scored');
    const runDir = text.match(/copied to (\S+)/)![1]!;
    expect((await readdir(runDir)).sort()).toEqual(['_SUCCESS', 'profile.json', 'rejects.csv', 'report.html', 'report.md', 'scores.csv', 'summary.json', 'targets.csv']);
    expect(text).toContain(`HTML report: ${path.join(runDir, 'report.html')}`);
    const summary = JSON.parse(await readFile(path.join(runDir, 'summary.json'), 'utf8')) as { selected: number };
    expect(summary.selected).toBe(selected);
  });

  it('--fan-out scores the extract through plan, 4 parts and merge, with the outputs of one invocation byte for byte', async () => {
    // Prepare: the plain text of the sample (a gzip cannot be split), as --fan-out drops it.
    const { gunzipSync } = await import('node:zlib');
    const { writeFile } = await import('node:fs/promises');
    const plain = path.join(workDir, 'plain', 'bank-full.csv');
    await mkdir(path.dirname(plain), { recursive: true });
    await writeFile(plain, gunzipSync(await readFile(path.join(REPO_ROOT, 'functions', 'local', 'sample', 'bank-full.csv.gz'))));

    // Act: the same extract fanned out, then scored by one invocation.
    const fanned = startDemo(['--fan-out', '--extract', plain, '--out', path.join(workDir, 'fanned')]);
    expect(await fanned.exited).toBe(0);
    const single = startDemo(['--extract', plain, '--out', path.join(workDir, 'single')]);
    expect(await single.exited).toBe(0);

    // Assess
    expect(fanned.output()).toMatch(/Fanned out: 4,610,348 bytes in 4 parts/);
    expect(single.output()).not.toMatch(/Fanned out/);
    const fannedDir = fanned.output().match(/copied to (\S+)/)![1]!;
    const singleDir = single.output().match(/copied to (\S+)/)![1]!;
    expect(path.basename(fannedDir)).toBe(path.basename(singleDir));
    for (const name of ['scores.csv', 'targets.csv', 'rejects.csv', 'profile.json']) {
      expect(await readFile(path.join(fannedDir, name), 'utf8'), name).toBe(await readFile(path.join(singleDir, name), 'utf8'));
    }
  });

  it('--watch keeps serving: an object put by any S3 client under incoming/ is scored, a bad one gets error.json', async () => {
    const demo = startDemo(['--watch', '--port', '0', '--no-sample'], { BUNDLED_MODELS_DIR: testModels });
    try {
      const [, endpoint] = (await waitFor(demo.output, /^ {2}endpoint +(http:\/\/127\.0\.0\.1:\d+)$/m)) as unknown as [string, string];
      // The watch banner may arrive in more than one chunk: wait for its last lines too.
      await waitFor(demo.output, /access key S3RVER/);
      // Act: an unrelated client, as a warehouse export job would be.
      const client = createEmbeddedS3Client(endpoint);
      await putObject(client, 'propensity', 'incoming/bank-marketing/watch/calls.csv', '"age";"balance";"duration";"campaign"\n58;2143;261;1\n44;29;151;1\n');
      await putObject(client, 'propensity', 'incoming/bank-marketing/watch/broken.csv', '"age"\n30\n');
      // Assess
      await waitFor(demo.output, /scored incoming\/bank-marketing\/watch\/calls\.csv: 2 rows, \d+ selected/);
      await waitFor(demo.output, /failed incoming\/bank-marketing\/watch\/broken\.csv: EXTRACT_MISSING_COLUMN/);
      const keys = await listKeys(client, 'propensity', 'outputs/bank-marketing/');
      expect(keys.filter((k) => /\/broken-[0-9a-f]{12}\//.test(k)).map((k) => k.split('/').at(-1))).toEqual(['error.json']);
      expect(keys.filter((k) => /\/calls-[0-9a-f]{12}\/_SUCCESS$/.test(k))).toHaveLength(1);
      client.destroy();
    } finally {
      demo.child.kill('SIGTERM');
    }
    expect(await demo.exited).toBe(0);
  });

  it('--watch scores a long card-offer extract (one row per customer per month) dropped under incoming/card-offer/', async () => {
    const demo = startDemo(['--watch', '--port', '0', '--no-sample']);
    try {
      const [, endpoint] = (await waitFor(demo.output, /^ {2}endpoint +(http:\/\/127\.0\.0\.1:\d+)$/m)) as unknown as [string, string];
      await waitFor(demo.output, /access key S3RVER/);
      const long = [...cardOfferLongCsvLines(generateCardOfferTable({ customers: 300, seed: 21 }), { seed: 5 })].join('');
      const client = createEmbeddedS3Client(endpoint);
      await putObject(client, 'propensity', 'incoming/card-offer/watch/statements.csv', long);
      // 300 customers, 3,000 rows: the summary counts rows.
      await waitFor(demo.output, /scored incoming\/card-offer\/watch\/statements\.csv: 3000 rows, \d+ selected/);
      const keys = await listKeys(client, 'propensity', 'outputs/card-offer/');
      const success = keys.find((k) => /\/statements-[0-9a-f]{12}\/_SUCCESS$/.test(k));
      expect(success).toBeDefined();
      const scores = Buffer.from((await readObjectBytes(client, 'propensity', success!.replace('_SUCCESS', 'scores.csv')))!).toString('utf8').trimEnd().split('\n');
      expect(scores).toHaveLength(1 + 300);
      client.destroy();
    } finally {
      demo.child.kill('SIGTERM');
    }
    expect(await demo.exited).toBe(0);
  });

  it('--serve answers POST /predict/<model> on 127.0.0.1 with the bundled models, and its printed curl example works', async () => {
    const demo = startDemo(['--serve', '--serve-port', '0', '--port', '0']);
    try {
      const [, url] = (await waitFor(demo.output, /^Predict on (http:\/\/127\.0\.0\.1:\d+):/m)) as unknown as [string, string];
      const [, example] = (await waitFor(demo.output, /^ {4}-d '(.+)'$/m)) as unknown as [string, string];
      expect(demo.output()).toContain(`curl -s -X POST ${url}/predict/bank-marketing -H 'content-type: application/json'`);
      // Act: the printed example, as curl would send it.
      const response = await fetch(`${url}/predict/bank-marketing`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: example });
      // Assess: bank-full's first customer, as the batch path scores it with the bundled champion (0.030612 in scores.csv).
      expect(response.status).toBe(200);
      const body = (await response.json()) as { model: string; version: string; customers: Array<{ probability: number; decile: number; selected: boolean; reasons: unknown[] }> };
      expect(body).toMatchObject({ model: 'bank-marketing', version: '2026-12-01T0145-2013a3' });
      expect(body.customers[0]!.probability.toFixed(6)).toBe('0.030612');
      expect(body.customers[0]).toMatchObject({ decile: 9, selected: false });
      expect(body.customers[0]!.reasons).toHaveLength(3);
      const unknown = await fetch(`${url}/predict/no-such-model`, { method: 'POST', body: '{"customers":[{}]}' });
      expect(unknown.status).toBe(404);
    } finally {
      demo.child.kill('SIGTERM');
    }
    expect(await demo.exited).toBe(0);
  });
});
