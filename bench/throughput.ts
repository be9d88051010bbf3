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
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, rmSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { LocalOutputTarget } from '../functions/adapters/fs/localOutputTarget.js';
import { tempFileSpool } from '../functions/adapters/fs/tempFileSpool.js';
import { resolveEconomics } from '../functions/core/economics/campaignEconomics.js';
import { loadBundle } from '../functions/core/engine/loadBundle.js';
import { scorePart } from '../functions/core/engine/scorePart.js';
import { writeRunOutputs } from '../functions/core/engine/writeRunOutputs.js';
import { planParts } from '../functions/core/extract/planParts.js';
import { localByteRanges } from '../functions/adapters/fs/localByteRanges.js';
import { openExtract } from '../functions/core/extract/readExtract.js';
import { exportTfjsToOnnx } from '../functions/core/model/exportOnnx.js';
import { initTf } from '../functions/adapters/model/tfjsModel.js';
import { parseFeatureSpec } from '../functions/core/spec/featureSpec.js';
import { fitSpec } from '../functions/core/spec/fitSpec.js';
import { compileEncoder } from '../functions/core/spec/rowEncoder.js';
import { createBundle } from '../functions/core/bundle/bundle.js';
import { readBundleDir, writeBundleDir } from '../functions/adapters/fs/bundleDir.js';
import { findSharedDir } from '../test/helpers/datasets.js';
import { bundleCommand, partWorkerCommand } from '../infra/constructs/propensityFunction.js';
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

/**
 * Time per stage on one core, as cumulative passes over the same file (each pass does the work of
 * the one before plus one stage): parse; + encode; + model, economics and spool (= scorePart); then
 * the merge that writes every output (writeRunOutputs). A stage's time is the difference.
 */
async function stagesChild(bundleDir: string, input: string, out: string): Promise<void> {
  const files = await readBundleDir(bundleDir);
  const bundle = await loadBundle(files, loadModel);
  const economics = resolveEconomics(files.manifest.economics);
  const timed = async (work: () => Promise<void>) => {
    const t = performance.now();
    await work();
    return (performance.now() - t) / 1000;
  };
  const parse = await timed(async () => {
    const extract = await openExtract(createReadStream(input), { source: input, header: true, delimiter: 'auto' });
    for (let batch = await extract.nextBatch(); batch !== null; batch = await extract.nextBatch());
  });
  const encode = await timed(async () => {
    const extract = await openExtract(createReadStream(input), { source: input, header: true, delimiter: 'auto' });
    const encoder = compileEncoder(bundle.featureSpec, extract.header, input);
    const x = new Float32Array(8192 * encoder.width);
    let row = 0;
    for (let batch = await extract.nextBatch(); batch !== null; batch = await extract.nextBatch()) {
      for (const item of batch) if (item.kind === 'record') encoder.encode(item.record.fields, x, (row = (row + 1) % 8192) * encoder.width);
    }
  });
  let part: Awaited<ReturnType<typeof scorePart>> | undefined;
  const score = await timed(async () => {
    part = await scorePart({ input: createReadStream(input), source: input, bundle, economics, spool: tempFileSpool() });
  });
  const merge = await timed(async () => {
    await writeRunOutputs([part!], { bundle, economics, output: new LocalOutputTarget(out), source: input, startedAt: new Date() });
  });
  await part!.spool.dispose();
  await bundle.model.dispose();
  const plan = await timed(async () => {
    await planParts(await localByteRanges(input), 64);
  });
  process.stdout.write(`${JSON.stringify({ rows: part!.rowsScored, bytes: (await stat(input)).size, parse, encode: encode - parse, model_economics_spool: score - encode, merge_and_write: merge, plan_scan: plan })}\n`);
}

interface RunFigures {
  rows: number;
  seconds_total: number;
  peak_rss_mib: number;
}

interface StageFigures {
  rows: number;
  bytes: number;
  parse: number;
  encode: number;
  model_economics_spool: number;
  merge_and_write: number;
  plan_scan: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function runChild(args: string[]): string {
  return runNode(['--import', 'tsx', fileURLToPath(import.meta.url), ...args]);
}

function runNode(argv: string[]): string {
  const run = spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.status !== 0) throw new Error(run.stderr);
  return run.stdout.trim().split('\n').at(-1)!;
}

/** How a scoring run is started: from the TypeScript source through tsx (as `npx propensity`), or the esbuild bundle (as the Lambda). */
interface RunBuild {
  readonly name: string;
  readonly argv: readonly string[];
}

const SCORE_RUN = fileURLToPath(new URL('./scoreRun.ts', import.meta.url));
/** Inside node_modules, so that the bundle finds the external onnxruntime-node as the Lambda's does beside it. */
const BUNDLED_DIR = fileURLToPath(new URL('../node_modules/.cache/propensity-bench/', import.meta.url));

/** Bundles the scoring run and the part worker with the score function's esbuild settings. */
function bundledBuild(): RunBuild {
  rmSync(BUNDLED_DIR, { recursive: true, force: true });
  const entry = path.join(BUNDLED_DIR, 'scoreRun.mjs');
  execSync(bundleCommand(SCORE_RUN, entry), { stdio: 'inherit' });
  execSync(partWorkerCommand(BUNDLED_DIR), { stdio: 'inherit' });
  return { name: 'bundled', argv: [entry] };
}

/** Median of `runs` scoring runs of `input` on `workers` threads, each in its own process. */
function measure(build: RunBuild, bundleDir: string, input: string, workers: number, runs: number, label: string): RunFigures {
  const all: RunFigures[] = [];
  for (let i = 0; i < runs; i++) {
    const out = path.join(WORK, 'out');
    rmSync(out, { recursive: true, force: true });
    const figures = JSON.parse(runNode([...build.argv, bundleDir, input, out, String(workers)])) as RunFigures;
    all.push(figures);
    console.log(`  ${build.name}, ${label} run ${i + 1}: ${figures.seconds_total.toFixed(2)} s, ${Math.round(figures.rows / figures.seconds_total)} rows/s, peak RSS ${figures.peak_rss_mib.toFixed(0)} MiB`);
  }
  return { rows: all[0]!.rows, seconds_total: median(all.map((r) => r.seconds_total)), peak_rss_mib: median(all.map((r) => r.peak_rss_mib)) };
}

/**
 * Published prices (us-east-1, x86, on-demand, 2026): Lambda $0.0000166667 per GB-second and $0.20
 * per million requests; Step Functions Standard $0.025 per 1,000 state transitions; S3 Standard
 * $0.0004 per 1,000 GETs and $0.005 per 1,000 PUTs.
 */
const PRICES = { lambdaGbSecond: 0.0000166667, lambdaRequest: 0.2 / 1e6, sfnTransition: 0.025 / 1000, s3Get: 0.0004 / 1000, s3Put: 0.005 / 1000 };

/**
 * The fan-out of an extract of `rows` rows (the bench file's row width), from this run's measured
 * per-row costs. Assumptions, all stated in the output: a Lambda vCPU is as fast as one core here;
 * the part function (PART_BYTES 256 MiB, 3,584 MB = 2 vCPUs) scores its range on one thread at the
 * measured `scorePart` rate; `maxConcurrency` parts run at once; the plan scans the object at the
 * measured local scan rate capped at S3's ~90 MB/s for one sequential reader; the merge runs the
 * measured single-thread merge rate over all rows, its upload overlapped.
 */
function projectFanOut(stages: StageFigures, rows: number, options: { partMiB: number; memoryMb: number; concurrency: number }) {
  const bytesPerRow = stages.bytes / stages.rows;
  const totalBytes = rows * bytesPerRow;
  const partBytes = options.partMiB * 2 ** 20;
  const parts = Math.ceil(totalBytes / partBytes);
  const scoreRowsPerSecond = stages.rows / (stages.parse + stages.encode + stages.model_economics_spool);
  const partSeconds = partBytes / bytesPerRow / scoreRowsPerSecond + 5; // + cold start, download and upload margin
  const planSeconds = totalBytes / Math.min(stages.bytes / stages.plan_scan, 90e6);
  const mergeSeconds = rows * (stages.merge_and_write / stages.rows);
  const waves = Math.ceil(parts / options.concurrency);
  const wall = planSeconds + waves * partSeconds + mergeSeconds;
  const gb = options.memoryMb / 1024;
  const gbSeconds = gb * (planSeconds + parts * partSeconds + mergeSeconds);
  const transitions = 6 + parts * 3;
  const s3Requests = { get: totalBytes / (8 * 2 ** 20) + parts * 4, put: parts * 8 + 20 };
  const cost =
    gbSeconds * PRICES.lambdaGbSecond + (parts + 3) * PRICES.lambdaRequest + transitions * PRICES.sfnTransition + s3Requests.get * PRICES.s3Get + s3Requests.put * PRICES.s3Put;
  return { rows, totalBytes, parts, waves, partSeconds, planSeconds, mergeSeconds, wall, gbSeconds, cost, costPerMillion: cost / (rows / 1e6) };
}

async function main(): Promise<void> {
  const program = new Command('bench/throughput')
    .option('--rows <n>', 'rows in the scoring extract', (v) => Number(v), 1_000_000)
    .option('--big-rows <n>', 'rows in the large extract (peak RSS must not grow with rows); 0 skips it', (v) => Number(v), 5_000_000)
    .option('--runs <n>', 'runs of each side', (v) => Number(v), 3)
    .option('--workers <n>', 'worker threads for the all-cores runs', (v) => Number(v), availableParallelism())
    .option('--skip-peer', 'measure Propensity only')
    .option('--stages <args...>', 'internal: the stage passes')
    .parse();
  const options = program.opts<{ rows: number; bigRows: number; runs: number; workers: number; skipPeer?: boolean; stages?: string[] }>();
  if (options.stages) return stagesChild(options.stages[0]!, options.stages[1]!, options.stages[2]!);

  await mkdir(WORK, { recursive: true });
  const { train, score } = ensureExtracts(options.rows);
  const bundleDir = path.join(WORK, 'bundle');
  await buildBundle(train, bundleDir);
  console.log(`bench file: ${score} (${options.rows} rows), ${options.workers} worker threads for "all cores", ${availableParallelism()} cores here\n`);

  const builds: RunBuild[] = [{ name: 'source (tsx)', argv: ['--import', 'tsx', SCORE_RUN] }, bundledBuild()];
  const figures = builds.map((build) => ({
    build,
    one: measure(build, bundleDir, score, 1, options.runs, 'one core'),
    all: measure(build, bundleDir, score, options.workers, options.runs, `${options.workers} workers`),
  }));
  // Memory against rows: the bundled build (the Lambda's), on all cores, at both sizes.
  const bundled = figures.at(-1)!;
  const big = options.bigRows > 0 ? measure(bundled.build, bundleDir, ensureExtracts(options.bigRows).score, options.workers, 1, `${options.bigRows} rows, ${options.workers} workers`) : null;
  const stages = JSON.parse(runChild(['--stages', bundleDir, score, path.join(WORK, 'out-stages')])) as StageFigures;
  rmSync(path.join(WORK, 'out-stages'), { recursive: true, force: true });

  const rate = (f: RunFigures) => Math.round(f.rows / f.seconds_total);
  for (const { build, one, all } of figures) {
    console.log(`\npropensity ${build.name}, ${options.rows} rows, median of ${options.runs}:`);
    console.log(`  one core:      ${one.seconds_total.toFixed(2)} s = ${rate(one)} rows/s, peak RSS ${one.peak_rss_mib.toFixed(0)} MiB`);
    console.log(`  all cores (${options.workers}): ${all.seconds_total.toFixed(2)} s = ${rate(all)} rows/s, peak RSS ${all.peak_rss_mib.toFixed(0)} MiB`);
  }
  if (big) console.log(`  ${options.bigRows} rows, all cores: ${big.seconds_total.toFixed(2)} s = ${rate(big)} rows/s, peak RSS ${big.peak_rss_mib.toFixed(0)} MiB (×${(big.peak_rss_mib / bundled.all.peak_rss_mib).toFixed(2)} the ${options.rows}-row figure)`);
  const perMillion = (s: number) => `${((s / stages.rows) * 1e6).toFixed(2)} s/M rows`;
  console.log(`\ntime per stage, one core (cumulative passes, differences):`);
  console.log(`  parse ${stages.parse.toFixed(2)} s (${perMillion(stages.parse)}), encode ${stages.encode.toFixed(2)} s, model + economics + spool ${stages.model_economics_spool.toFixed(2)} s, merge + write outputs ${stages.merge_and_write.toFixed(2)} s; plan scan ${(stages.bytes / stages.plan_scan / 1e6).toFixed(0)} MB/s`);

  if (!options.skipPeer) {
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
    console.log(`\npeer (pandas + sklearn): median ${peerSeconds.toFixed(2)} s = ${Math.round(options.rows / peerSeconds)} rows/s end to end, peak RSS ${peerRss.toFixed(0)} MiB`);
    for (const { build, one, all } of figures) {
      console.log(`ratio propensity ${build.name} / peer: all cores ×${(peerSeconds / all.seconds_total).toFixed(2)} throughput, one core ×${(peerSeconds / one.seconds_total).toFixed(2)}; peak memory ×${(all.peak_rss_mib / peerRss).toFixed(2)}`);
    }
    console.log('(Propensity writes scores, targets, rejects, profile, summary and report; the peer writes one ranked score file.)');
  }

  const fanOut = projectFanOut(stages, 100_000_000, { partMiB: 256, memoryMb: 3584, concurrency: 100 });
  console.log(`\nfan-out projection, 100M rows (${(fanOut.totalBytes / 1e9).toFixed(1)} GB): ${fanOut.parts} parts of 256 MiB, maxConcurrency 100 → ${fanOut.waves} wave(s)`);
  console.log(`  plan ${fanOut.planSeconds.toFixed(0)} s + parts ${fanOut.waves} × ${fanOut.partSeconds.toFixed(0)} s + merge ${fanOut.mergeSeconds.toFixed(0)} s = ${fanOut.wall.toFixed(0)} s wall (${(fanOut.wall / 60).toFixed(1)} min)`);
  console.log(`  ${fanOut.gbSeconds.toFixed(0)} GB-s at 3,584 MB → $${fanOut.cost.toFixed(3)} per run, $${fanOut.costPerMillion.toFixed(4)} per 1M rows (Lambda, Step Functions transitions, S3 requests)`);
  console.log('  assumptions: a Lambda vCPU as fast as a core here; a part scores on one thread at the measured rate, +5 s for start, download and upload;');
  console.log('  the plan scans at the measured rate capped at 90 MB/s; the merge at the measured one-thread rate; prices: Lambda $0.0000166667/GB-s + $0.20/M requests,');
  console.log('  Step Functions $0.025/1,000 transitions, S3 $0.0004/1,000 GET and $0.005/1,000 PUT (us-east-1).');
}

await main();
