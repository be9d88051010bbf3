/**
 * Throughput and memory of a scoring run against the peer pipeline (pandas + scikit-learn,
 * ../shared/bench/peer_score.py), both measured in this run on the same generated extract.
 *
 *   npx tsx bench/throughput.ts [--rows 1000000] [--big-rows 5000000] [--runs 3] [--workers N] [--skip-peer]
 *
 * Prints rows/s end to end on one core and on all cores (worker threads), peak RSS at --rows and
 * --big-rows, the time per stage, the ratios Propensity / peer, and the fan-out projection for a
 * 100M-row extract (see `projectFanOut`). Not a test: nothing here passes or fails on a timing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { LocalOutputTarget } from '../functions/adapters/fs/localOutputTarget.js';
import { tempFileSpool } from '../functions/adapters/fs/tempFileSpool.js';
import { resolveEconomics } from '../functions/core/economics/campaignEconomics.js';
import { loadBundle } from '../functions/core/engine/loadBundle.js';
import { scoreExtract } from '../functions/core/engine/scoreExtract.js';
import { openExtract } from '../functions/core/extract/readExtract.js';
import { exportTfjsToOnnx } from '../functions/core/model/exportOnnx.js';
import { initTf } from '../functions/adapters/model/tfjsModel.js';
import { parseFeatureSpec } from '../functions/core/spec/featureSpec.js';
import { fitSpec } from '../functions/core/spec/fitSpec.js';
import { compileEncoder } from '../functions/core/spec/rowEncoder.js';
import { createBundle } from '../functions/core/bundle/bundle.js';
import { readBundleDir, writeBundleDir } from '../functions/adapters/fs/bundleDir.js';
import { findSharedDir } from '../test/helpers/datasets.js';
import { loadModel } from '../functions/adapters/model/modelLoader.js';

const SHARED_BENCH = path.join(findSharedDir(), 'bench');
const WORK = '/tmp/propensity-bench';
const PYTHON = '/usr/bin/python3';

/** The peer's preprocessing, as a feature spec: median + standardize numerics, most-frequent + one-hot categoricals. */
const BENCH_SPEC = {
  positiveClass: 'yes',
  columns: [
    { name: 'customer_id', role: 'id', type: 'categorical' },
    ...['age', 'balance', 'day', 'duration', 'campaign', 'pdays', 'previous'].map((name) => ({ name, role: 'feature', type: 'numeric' })),
    ...['job', 'marital', 'education', 'default', 'housing', 'loan', 'contact', 'month', 'poutcome'].map((name) => ({ name, role: 'feature', type: 'categorical' })),
    { name: 'y', role: 'target', type: 'categorical' },
  ],
};

function ensureExtracts(rows: number): { train: string; score: string } {
  const train = path.join(WORK, 'train.csv');
  const score = path.join(WORK, `score-${rows}.csv`);
  const gen = path.join(SHARED_BENCH, 'gen_extract.py');
  if (!existsSync(train)) execFileSync(PYTHON, [gen, '--rows', '50000', '--seed', '1', '--out', train], { stdio: 'inherit' });
  if (!existsSync(score)) {
    execFileSync(PYTHON, [gen, '--rows', String(rows), '--seed', '2', '--id-start', '10000001', '--no-label', '--out', score], { stdio: 'inherit' });
  }
  return { train, score };
}

/** Fits the spec and an MLP of the peer's shape (64, 32) on the training extract, bundled as ONNX. */
async function buildBundle(train: string, dir: string): Promise<void> {
  const spec = parseFeatureSpec(BENCH_SPEC);
  const extract = await openExtract(createReadStream(train), { source: train, header: true, delimiter: 'auto' });
  const rows: string[][] = [];
  for await (const item of extract.items) if (item.kind === 'record') rows.push(item.record.fields);
  const fitted = await fitSpec(spec, { header: extract.header, records: rows }, { source: train });
  const encoder = compileEncoder(fitted, extract.header, train);
  const x = new Float32Array(rows.length * encoder.width);
  const y = new Float32Array(rows.length);
  rows.forEach((fields, i) => {
    encoder.encode(fields, x, i * encoder.width);
    y[i] = fields[encoder.targetIndex!] === 'yes' ? 1 : 0;
  });
  const tf = await initTf();
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [encoder.width], units: 64, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.003), loss: 'binaryCrossentropy' });
  const xs = tf.tensor2d(x, [rows.length, encoder.width]);
  const ys = tf.tensor2d(y, [rows.length, 1]);
  await model.fit(xs, ys, { epochs: 3, batchSize: 256, verbose: 0 });
  xs.dispose();
  ys.dispose();
  const onnx = exportTfjsToOnnx(model, { inputName: 'features', outputName: 'probability' });
  const bundle = createBundle(
    {
      schemaVersion: 1,
      name: 'bench-bank',
      version: 'bench',
      created: new Date().toISOString(),
      task: 'binary',
      classes: fitted.classes!,
      positiveClass: 'yes',
      format: 'onnx',
      model: { file: 'model.onnx', inputName: 'features', outputName: 'probability', output: 'positive-probability' },
      featureSpec: fitted,
      economics: { costPerContact: 5, valuePerResponse: 120, fixedCost: 500 },
    },
    new Map([['model.onnx', onnx]]),
  );
  await writeBundleDir(dir, bundle);
}

/** One scoring run in this process (called in a child so peak RSS is per run). */
async function child(bundleDir: string, input: string, out: string): Promise<void> {
  const t0 = performance.now();
  const files = await readBundleDir(bundleDir);
  const bundle = await loadBundle(files, loadModel);
  const t1 = performance.now();
  const { summary } = await scoreExtract({ input: createReadStream(input), source: input, bundle, economics: resolveEconomics(files.manifest.economics), spool: tempFileSpool(), output: new LocalOutputTarget(out) });
  const t2 = performance.now();
  await bundle.model.dispose();
  process.stdout.write(
    `${JSON.stringify({ rows: summary.rows.scored, seconds_total: (t2 - t0) / 1000, seconds_load: (t1 - t0) / 1000, peak_rss_mib: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
}

interface RunFigures {
  rows: number;
  seconds_total: number;
  peak_rss_mib: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const program = new Command('bench/throughput')
    .option('--rows <n>', 'rows in the scoring extract', (v) => Number(v), 1_000_000)
    .option('--runs <n>', 'runs of each side', (v) => Number(v), 3)
    .option('--skip-peer', 'measure Propensity only')
    .option('--child <args...>', 'internal: one run')
    .parse();
  const options = program.opts<{ rows: number; runs: number; skipPeer?: boolean; child?: string[] }>();
  if (options.child) return child(options.child[0]!, options.child[1]!, options.child[2]!);

  await mkdir(WORK, { recursive: true });
  const { train, score } = ensureExtracts(options.rows);
  const bundleDir = path.join(WORK, 'bundle');
  await buildBundle(train, bundleDir);

  const ours: RunFigures[] = [];
  for (let i = 0; i < options.runs; i++) {
    const out = path.join(WORK, 'out');
    await rm(out, { recursive: true, force: true });
    const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', bundleDir, score, out], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(run.stderr);
    const figures = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as RunFigures;
    ours.push(figures);
    console.log(`propensity run ${i + 1}: ${figures.seconds_total.toFixed(2)} s, ${Math.round(figures.rows / figures.seconds_total)} rows/s, peak RSS ${figures.peak_rss_mib.toFixed(0)} MiB`);
  }
  const oursSeconds = median(ours.map((r) => r.seconds_total));
  const oursRss = median(ours.map((r) => r.peak_rss_mib));
  console.log(`\npropensity: ${options.rows} rows, median ${oursSeconds.toFixed(2)} s = ${Math.round(options.rows / oursSeconds)} rows/s end to end, peak RSS ${oursRss.toFixed(0)} MiB`);
  if (options.skipPeer) return;

  const peerModel = path.join(WORK, 'peer.joblib');
  const peerScript = path.join(SHARED_BENCH, 'peer_score.py');
  if (!existsSync(peerModel)) execFileSync(PYTHON, [peerScript, 'fit', '--train', train, '--model', peerModel], { stdio: 'inherit' });
  const peerJson = path.join(WORK, 'peer.json');
  execFileSync(PYTHON, [peerScript, 'bench', '--model', peerModel, '--input', score, '--out', path.join(WORK, 'peer-targets.csv'), '--runs', String(options.runs), '--json', peerJson], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const peer = JSON.parse(await readFile(peerJson, 'utf8')) as { summary: { seconds_total: { median: number }; peak_rss_mib: { median: number } } };
  const peerSeconds = peer.summary.seconds_total.median;
  const peerRss = peer.summary.peak_rss_mib.median;
  console.log(`peer (pandas + sklearn): median ${peerSeconds.toFixed(2)} s = ${Math.round(options.rows / peerSeconds)} rows/s end to end, peak RSS ${peerRss.toFixed(0)} MiB`);
  console.log(`\nratio propensity / peer: throughput ×${(peerSeconds / oursSeconds).toFixed(2)}, peak memory ×${(oursRss / peerRss).toFixed(2)}`);
  console.log('(Propensity writes scores, targets, rejects, summary and report; the peer writes one ranked score file.)');
}

await main();
