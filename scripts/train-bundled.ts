/**
 * Retrains the bundled models in model-store/ from their specs: `npm run train:bundled`.
 *
 * bank-marketing, audiobooks, ecommerce-churn and segmentation train on the shared datasets
 * (--datasets DIR, default ../shared/datasets), holding out the bench/quality split so each bundle's
 * stored evaluation is comparable with the baselines; card-offer trains on synthetic data from
 * generateCardOfferTable (seed 7, 20,000 customers), written to --data-out (default a temp folder)
 * so the same run can be repeated with `propensity train`. Each model's old versions are replaced:
 * one version per model stays in git, promoted to champion.
 *
 * usage: npx tsx scripts/train-bundled.ts [--only NAME ...] [--datasets DIR] [--data-out DIR]
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { formatEvaluation } from '../functions/core/evaluation/formatEvaluation.js';
import { cardOfferCsvLines, generateCardOfferTable } from '../functions/core/training/syntheticCardOffer.js';
import { train } from '../functions/core/training/train.js';
import type { ExtractBytes, TrainingTable } from '../functions/core/training/trainingTable.js';
import { FsRegistry } from '../functions/adapters/fs/fsRegistry.js';
import { localExtract } from '../functions/adapters/fs/localExtract.js';
import { tfjsTrainingRuntime } from '../functions/adapters/model/tfjsTrainingRuntime.js';
import { findDatasetsDir } from '../test/helpers/datasets.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Bundles ship in git and load in Lambda: each file stays under a megabyte (issue 11's bar). The
 * weights are stored twice (model.onnx and tfjs/weights.bin), which is what MAX_MERGED_WEIGHTS sizes.
 */
const MAX_FILE_BYTES = 1024 * 1024;

interface BundledModel {
  readonly name: string;
  /** Dataset file under --datasets, or `synthetic` for card-offer. */
  readonly file: string;
}

const MODELS: readonly BundledModel[] = [
  { name: 'bank-marketing', file: 'bank-marketing/bank-full.csv' },
  { name: 'audiobooks', file: 'audiobooks/Audiobooks_data.csv' },
  { name: 'ecommerce-churn', file: 'ecommerce-churn/E_Commerce_Dataset.csv' },
  { name: 'segmentation', file: 'segmentation/Train.csv' },
  { name: 'card-offer', file: 'synthetic' },
];

function flag(name: string): string[] {
  const args = process.argv.slice(2);
  const at = args.indexOf(name);
  if (at < 0) return [];
  const values: string[] = [];
  for (let i = at + 1; i < args.length && !args[i]!.startsWith('--'); i++) values.push(args[i]!);
  return values;
}

const only = flag('--only');
const datasets = path.resolve(flag('--datasets')[0] ?? findDatasetsDir());
const dataOut = flag('--data-out')[0] ?? (await mkdtemp(path.join(tmpdir(), 'propensity-bundled-')));
const registry = new FsRegistry(path.join(repo, 'model-store'));
const summary: string[] = [];
let failed = false;

for (const entry of MODELS) {
  if (only.length > 0 && !only.includes(entry.name)) continue;
  const specFile = path.join(repo, 'model-store', entry.name, 'spec.json');
  const spec = JSON.parse(await readFile(specFile, 'utf8')) as unknown;
  let data: ExtractBytes | TrainingTable;
  let testRows: number[] | undefined;
  if (entry.file === 'synthetic') {
    await mkdir(dataOut, { recursive: true });
    const csv = path.join(dataOut, 'card-offer.csv');
    const generated = generateCardOfferTable({ customers: 20000, seed: 7 });
    await pipeline(Readable.from(cardOfferCsvLines(generated)), createWriteStream(csv));
    const table: TrainingTable = { ...generated, source: csv };
    // The same rows as the CSV, named by how to make them again rather than by a temp path.
    data = { ...table, source: 'synthetic card-offer data (generateCardOfferTable, seed 7, 20000 customers)' };
  } else {
    // Relative to the repository, so the bundle's notes do not record this machine's folders.
    const file = path.relative(process.cwd(), path.join(datasets, entry.file));
    data = localExtract(file);
    const split = JSON.parse(await readFile(path.join(repo, 'bench', 'quality', 'splits', `${entry.name}.json`), 'utf8')) as { testIndices: number[] };
    testRows = split.testIndices;
  }
  console.log(`\n=== ${entry.name}: ${data.source}`);
  const result = await train({
    data,
    spec,
    specSource: path.relative(repo, specFile),
    runtime: tfjsTrainingRuntime,
    ...(testRows ? { testRows } : {}),
    log: (line) => console.log(`  ${line}`),
  });
  const { manifest, files } = result.bundle;
  const sizes = new Map([...files].map(([name, b]) => [name, b.length]));
  sizes.set('manifest.json', Buffer.byteLength(`${JSON.stringify(manifest, null, 2)}\n`));
  const bytes = [...sizes.values()].reduce((n, b) => n + b, 0);

  // One version per bundled model: drop the old ones (and their promotion log) before writing.
  const dir = path.join(repo, 'model-store', entry.name);
  for (const item of await readdir(dir, { withFileTypes: true })) {
    if (item.isDirectory() || item.name === 'champion.json' || item.name === 'history.json') await rm(path.join(dir, item.name), { recursive: true, force: true });
  }
  await registry.write(result.bundle);
  await registry.promote(entry.name, manifest.version, 'npm run train:bundled');

  console.log(formatEvaluation(result.evaluation, { maxFeatures: 12 }));
  const e = result.evaluation;
  const line =
    `${entry.name.padEnd(16)} ${manifest.version}  ROC AUC ${e.rocAuc.toFixed(4)}  accuracy ${e.accuracy.toFixed(4)}  ` +
    `ECE ${e.expectedCalibrationError.toFixed(4)}  trained in ${result.timings.total.toFixed(1)} s  bundle ${(bytes / 1024).toFixed(0)} KiB`;
  summary.push(line);
  for (const [name, size] of sizes) {
    if (size <= MAX_FILE_BYTES) continue;
    console.error(`${entry.name}: ${name} is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit per file`);
    failed = true;
  }
}

console.log(`\n=== summary (backend: tfjs ${(await import('../functions/adapters/model/tfjsModel.js')).tfBackendName()})`);
for (const line of summary) console.log(line);
if (only.length === 0 || only.includes('card-offer')) console.log(`card-offer training data: ${path.join(dataOut, 'card-offer.csv')}`);
if (failed) process.exitCode = 1;
