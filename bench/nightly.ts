/**
 * The nightly side at scale: 30 nights of committed runs of a million customers each, outcomes
 * arriving on a few nights, and after every night the drift function's work (profiles merged into
 * the drift check, then realized performance from the run indexes), each night in its own child
 * process so its peak RSS is that night's alone.
 *
 *   npx tsx bench/nightly.ts [--rows 1000000] [--nights 30] [--label-nights 8,15,22] [--labels 50000]
 *
 * The runs are written synthetically (scoring 30 million rows would measure the score function,
 * not the nightly side) but in exactly the format real runs write: the header lines, summary.json,
 * profile.json and report.md of a real run of the bundled ecommerce-churn model on the shared
 * dataset, scores.csv and targets.csv as the engine writes them, `_SUCCESS` with every file's size
 * and sha256, and the index (`formatRunIndexRow`, gzip) under `index/<model>/<day>/<run-id>.csv.gz`.
 * Every object is given its simulated time as LastModified (s3rver reports the file's mtime), and
 * the drift function runs two hours after each night's run, so the 7-day and 120-day windows hold
 * what they would in production. Prints wall time, CPU time and peak RSS per night. Not a test:
 * nothing passes or fails on a timing.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, utimes } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { SUCCESS_FILE, type SuccessManifest } from '../functions/adapters/s3/S3OutputTarget.js';
import { listKeys, putJsonObject, putObject, readObjectBytes } from '../functions/adapters/s3/s3Objects.js';
import { DAY_MS } from '../functions/core/constants.js';
import { csvRecord, formatProbability } from '../functions/core/engine/csvText.js';
import type { RunSummary } from '../functions/core/engine/runSummary.js';
import { formatRunIndexRow, RUN_INDEX_HEADER, runIndexKey } from '../functions/core/runIndex/runIndex.js';
import { createRng } from '../functions/core/training/seededRandom.js';
import { createDriftRuntime } from '../functions/drift/driftRuntime.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../functions/local/embeddedS3.js';
import { createScoreRuntime } from '../functions/score/scoreRuntime.js';
import { findSharedDir } from '../test/helpers/datasets.js';

const MODEL = 'ecommerce-churn';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLED = path.join(REPO, 'model-store');

const environment = (endpoint: string, bucket: string): NodeJS.ProcessEnv => ({
  ...process.env,
  BUCKET: bucket,
  MODELS: MODEL,
  AWS_ENDPOINT_URL: endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  BUNDLED_MODELS_DIR: BUNDLED,
  LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});

/**
 * Gives objects the simulated time as their LastModified. s3rver reports an object's file mtime, so
 * setting it makes the nights' lookback windows (7 days of profiles and label files, 120 days of
 * runs) select what they would in production, instead of every object written minutes ago.
 */
async function backdate(s3: EmbeddedS3, keys: readonly string[], at: Date): Promise<void> {
  for (const key of keys) await utimes(path.join(s3.directory, s3.bucket, `${key}._S3rver_object`), at, at);
}

/** One night of the drift function, in this (child) process: prints one JSON line. */
async function childNight(now: string): Promise<void> {
  const started = performance.now();
  const [check] = await createDriftRuntime(process.env).runChecks(new Date(now));
  const usage = process.resourceUsage();
  process.stdout.write(
    `${JSON.stringify({
      wallMs: Math.round(performance.now() - started),
      // CPU time (user + system) of the night, including start-up: steadier than wall time on a shared machine.
      cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000),
      maxRssMb: Math.round(usage.maxRSS / 1024),
      drift: check!.drift.status,
      profiles: check!.drift.status === 'no-runs' ? 0 : check!.drift.runs,
      realizedRuns: check!.realized?.runs.length ?? 0,
      labelled: check!.realized?.runs.reduce((n, r) => n + r.labelled, 0) ?? 0,
    })}\n`,
  );
}

interface Template {
  readonly scoresHeader: string;
  readonly targetsHeader: string;
  readonly summary: RunSummary;
  readonly profile: Uint8Array;
  readonly report: Uint8Array;
  readonly rejects: Uint8Array;
}

/** A real run of the bundled champion on the shared dataset: the headers and small files every synthetic run copies. */
async function realRun(endpoint: string, bucket: string): Promise<Template> {
  const [header, ...rows] = (await readFile(path.join(findSharedDir(), 'datasets', 'ecommerce-churn', 'E_Commerce_Dataset.csv'), 'utf8')).trimEnd().split(/\r?\n/).map((l) => l.split(','));
  const churn = header!.indexOf('Churn');
  const extract = `${[header!, ...rows].map((r) => r.filter((_, i) => i !== churn).join(',')).join('\n')}\n`;
  const runtime = createScoreRuntime(environment(endpoint, bucket));
  await putObject(runtime.client, bucket, `incoming/${MODEL}/template.csv`, extract);
  const result = await runtime.scoreObject({ bucket, key: `incoming/${MODEL}/template.csv` });
  if (result.status !== 'scored') throw new Error(`the template run was ${result.status}`);
  const folder = `outputs/${MODEL}/${result.runId}/`;
  const read = async (name: string) => (await readObjectBytes(runtime.client, bucket, `${folder}${name}`))!;
  const firstLine = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8').split('\n')[0]!;
  return {
    scoresHeader: firstLine(await read('scores.csv')),
    targetsHeader: firstLine(await read('targets.csv')),
    summary: result.summary,
    profile: await read('profile.json'),
    report: await read('report.md'),
    rejects: await read('rejects.csv'),
  };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** One committed run of `rows` customers (the same customer base every night, new scores), with its index. */
async function writeNight(s3: EmbeddedS3, bucket: string, template: Template, night: number, rows: number, committedAt: Date): Promise<{ indexBytes: number }> {
  const rng = createRng(night);
  const { costPerContact } = template.summary.economics;
  const value = Number(template.summary.economics.valuePerResponse);
  const runId = `night-${String(night).padStart(2, '0')}-${sha256(Buffer.from(`night ${night}`)).slice(0, 12)}`;
  const probabilities = new Float64Array(rows);
  for (let i = 0; i < rows; i++) probabilities[i] = Number(formatProbability(0.25 * rng() ** 5));
  // Selected: p·value − cost > 0 (max-expected-profit), ranked by expected value, ties by line.
  const selected: number[] = [];
  for (let i = 0; i < rows; i++) if (probabilities[i]! * value - costPerContact > 0) selected.push(i);
  selected.sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
  const targetValue = new Map<number, true>(selected.map((i) => [i, true]));
  const order = Float64Array.from(probabilities).sort().reverse();
  const decileOf = (p: number) => Math.min(10, 1 + Math.floor((10 * lowerBound(order, p)) / rows));

  const scores: string[] = [`${template.scoresHeader}\n`];
  const index: string[] = [`${RUN_INDEX_HEADER.join(',')}\n`];
  for (let i = 0; i < rows; i++) {
    const id = `C${String(i).padStart(7, '0')}`;
    const p = formatProbability(probabilities[i]!);
    scores.push(csvRecord([id, p, probabilities[i]! >= 0.5 ? '1' : '0', decileOf(probabilities[i]!)]));
    index.push(formatRunIndexRow({ id, score: p, selected: targetValue.has(i), value: targetValue.has(i) ? String(value) : '' }));
  }
  const targets: string[] = [`${template.targetsHeader}\n`];
  selected.forEach((i, rank) => {
    const p = probabilities[i]!;
    targets.push(csvRecord([`C${String(i).padStart(7, '0')}`, rank + 1, formatProbability(p), value, Math.round((p * value - costPerContact) * 1e6) / 1e6]));
  });
  const summary: RunSummary = { ...template.summary, source: `s3://${bucket}/incoming/${MODEL}/night-${night}.csv`, rows: { ...template.summary.rows, read: rows, scored: rows, rejected: 0 }, selected: selected.length };
  const files: Array<[string, Uint8Array]> = [
    ['scores.csv', Buffer.from(scores.join(''), 'utf8')],
    ['rejects.csv', template.rejects],
    ['targets.csv', Buffer.from(targets.join(''), 'utf8')],
    ['profile.json', template.profile],
    ['report.md', template.report],
    ['summary.json', Buffer.from(`${JSON.stringify(summary, null, 2)}\n`, 'utf8')],
  ];
  const folder = `outputs/${MODEL}/${runId}/`;
  for (const [name, bytes] of files) await putObject(s3.client, bucket, `${folder}${name}`, bytes);
  const manifest: SuccessManifest = {
    runId,
    source: { bucket, key: `incoming/${MODEL}/night-${night}.csv` },
    model: { name: MODEL, version: template.summary.model.version },
    files: files.map(([name, bytes]) => ({ name, bytes: bytes.length, sha256: sha256(bytes) })),
    completedAt: committedAt.toISOString(),
  };
  await putJsonObject(s3.client, bucket, `${folder}${SUCCESS_FILE}`, manifest);
  const gz = gzipSync(index.join(''));
  const indexKey = runIndexKey('index/', MODEL, committedAt, runId);
  await putObject(s3.client, bucket, indexKey, gz, 'application/gzip');
  await backdate(s3, [...files.map(([name]) => `${folder}${name}`), `${folder}${SUCCESS_FILE}`, indexKey], committedAt);
  return { indexBytes: gz.length };
}

/** Position of the first value ≤ p in a descending array. */
function lowerBound(descending: Float64Array, p: number): number {
  let lo = 0;
  let hi = descending.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (descending[mid]! > p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function labelsFor(s3: EmbeddedS3, bucket: string, night: number, rows: number, count: number, arrivedAt: Date): Promise<void> {
  const rng = createRng(1000 + night);
  const lines = ['CustomerID,outcome'];
  for (let i = 0; i < count; i++) lines.push(`C${String(Math.floor(rng() * rows)).padStart(7, '0')},${rng() < 0.15 ? 1 : 0}`);
  const key = `labels/${MODEL}/outcomes-night-${String(night).padStart(2, '0')}.csv`;
  await putObject(s3.client, bucket, key, `${lines.join('\n')}\n`);
  await backdate(s3, [key], arrivedAt);
}

/** Runs one night in a child process (the parent keeps serving S3 meanwhile) and returns its JSON line. */
function runChild(env: NodeJS.ProcessEnv, now: Date): Promise<Record<string, number | string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', now.toISOString()], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`night failed (exit ${code}): ${out.slice(-500)}`));
      else resolve(JSON.parse(line) as Record<string, number | string>);
    });
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return childNight(process.argv[3]!);
  const options = new Command()
    .option('--rows <n>', 'customers scored per night', '1000000')
    .option('--nights <n>', 'nights to simulate', '30')
    .option('--label-nights <list>', 'nights on which an outcome file arrives', '8,15,22')
    .option('--labels <n>', 'outcomes per outcome file', '50000')
    .parse()
    .opts<{ rows: string; nights: string; labelNights: string; labels: string }>();
  const rows = Number(options.rows);
  const nights = Number(options.nights);
  const labelNights = new Set(options.labelNights.split(',').map(Number));
  const labels = Number(options.labels);

  const s3 = await startEmbeddedS3({ bucket: 'nightly-bench' });
  const env = environment(s3.endpoint, s3.bucket);
  Object.assign(process.env, { LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
  try {
    process.stderr.write(`scoring the template run (real outputs of ${MODEL})…\n`);
    const template = await realRun(s3.endpoint, s3.bucket);
    const today = Date.parse(new Date().toISOString().slice(0, 10));
    // The template run, long before the first night: out of every window.
    await backdate(s3, await listKeys(s3.client, s3.bucket, ''), new Date(today - (nights + 200) * DAY_MS));
    const results: string[] = [];
    results.push('night  rows       index MB  labels  wall ms  CPU ms   peak RSS MB  drift    profiles  realized runs  labelled rows');
    const benchStarted = performance.now();
    for (let night = 1; night <= nights; night++) {
      const committedAt = new Date(today - (nights - night) * DAY_MS + 5 * 3600 * 1000);
      const written = await writeNight(s3, s3.bucket, template, night, rows, committedAt);
      if (labelNights.has(night)) await labelsFor(s3, s3.bucket, night, rows, labels, new Date(committedAt.getTime() + 3600_000));
      // The drift function runs two hours after the night's run (and the night's label file) committed.
      const figures = await runChild(env, new Date(committedAt.getTime() + 2 * 3600_000));
      const line = [
        String(night).padEnd(5),
        String(rows).padEnd(10),
        (written.indexBytes / 2 ** 20).toFixed(2).padEnd(9),
        (labelNights.has(night) ? String(labels) : '-').padEnd(7),
        String(figures.wallMs).padEnd(8),
        String(figures.cpuMs).padEnd(8),
        String(figures.maxRssMb).padEnd(12),
        String(figures.drift).padEnd(8),
        String(figures.profiles).padEnd(9),
        String(figures.realizedRuns).padEnd(14),
        String(figures.labelled),
      ].join('  ');
      results.push(line);
      process.stderr.write(`${line}   (${Math.round((performance.now() - benchStarted) / 1000)} s so far)\n`);
    }
    process.stdout.write(`\nnpx tsx bench/nightly.ts --rows ${rows} --nights ${nights} --label-nights ${[...labelNights].join(',')} --labels ${labels}\n${results.join('\n')}\n`);
  } finally {
    await s3.stop();
  }
}

await main();
