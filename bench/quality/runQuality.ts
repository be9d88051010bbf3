/**
 * Quality bench: trains each bundled spec on the fixed 80 % part of its dataset (the same rows as
 * scikit-learn's train_test_split(stratify=y, test_size=0.2, random_state=42), exported once into
 * splits/) and prints our metrics on the 20 % test part next to the baselines measured on that split
 * (../shared/bench/quality_baselines.json). Writes results.json and RESULTS.md beside this file.
 *
 * usage: npx tsx bench/quality/runQuality.ts [--only NAME ...] [--datasets DIR] [--baselines FILE] [--no-write]
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { train } from '../../functions/core/training/train.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

interface Dataset {
  readonly name: string;
  /** Entry name in quality_baselines.json. */
  readonly baseline: string;
  readonly file: string;
}

const DATASETS: readonly Dataset[] = [
  { name: 'audiobooks', baseline: 'audiobooks', file: 'audiobooks/Audiobooks_data.csv' },
  { name: 'bank-marketing', baseline: 'bank-marketing (no duration)', file: 'bank-marketing/bank-full.csv' },
  { name: 'ecommerce-churn', baseline: 'ecommerce-churn', file: 'ecommerce-churn/E_Commerce_Dataset.csv' },
  { name: 'segmentation', baseline: 'segmentation', file: 'segmentation/Train.csv' },
];

interface BaselineModel {
  accuracy: number;
  macro_f1: number;
  roc_auc?: number;
  roc_auc_ovr_macro?: number;
}

function argValues(flag: string): string[] {
  const out: string[] = [];
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== flag) continue;
    for (let j = i + 1; j < args.length && !args[j]!.startsWith('--'); j++) out.push(args[j]!);
  }
  return out;
}

const only = argValues('--only');
const datasetsDir = argValues('--datasets')[0] ?? path.resolve(repo, '..', 'shared', 'datasets');
const baselinesFile = argValues('--baselines')[0] ?? path.resolve(repo, '..', 'shared', 'bench', 'quality_baselines.json');
const write = !process.argv.includes('--no-write');

const baselines = JSON.parse(await readFile(baselinesFile, 'utf8')) as { results: { dataset: string; models: Record<string, BaselineModel> }[] };
const rows: Record<string, unknown>[] = [];
const f4 = (v: number) => v.toFixed(4);

for (const dataset of DATASETS) {
  if (only.length > 0 && !only.includes(dataset.name)) continue;
  const spec = JSON.parse(await readFile(path.join(repo, 'model-store', dataset.name, 'spec.json'), 'utf8')) as unknown;
  const split = JSON.parse(await readFile(path.join(here, 'splits', `${dataset.name}.json`), 'utf8')) as { testIndices: number[] };
  const result = await train({
    data: path.join(datasetsDir, dataset.file),
    spec,
    specSource: `model-store/${dataset.name}/spec.json`,
    testRows: split.testIndices,
    now: new Date('2026-11-23T00:00:00Z'),
    log: (line) => console.error(`  [${dataset.name}] ${line}`),
  });
  const e = result.evaluation;
  const models = baselines.results.find((r) => r.dataset === dataset.baseline)?.models ?? {};
  const aucOf = (m: BaselineModel) => m.roc_auc ?? m.roc_auc_ovr_macro ?? Number.NaN;
  const ranked = Object.entries(models).sort((a, b) => aucOf(b[1]) - aucOf(a[1]));
  const [bestName, best] = ranked[0] ?? ['none', { accuracy: Number.NaN, macro_f1: Number.NaN }];
  const bestAccuracy = Math.max(...Object.values(models).map((m) => m.accuracy));
  const bar = {
    aucWithin001: e.rocAuc >= aucOf(best) - 0.01,
    eceAtMost003: e.expectedCalibrationError <= 0.03,
    ...(e.task === 'multiclass' ? { accuracyAtLeastBest: e.accuracy >= bestAccuracy } : {}),
    trainsUnder2Minutes: result.timings.total < 120,
  };
  const row = {
    dataset: dataset.name,
    baselineEntry: dataset.baseline,
    testRows: e.rows,
    ours: {
      rocAuc: e.rocAuc,
      prAuc: e.prAuc,
      accuracy: e.accuracy,
      macroF1: e.macroF1,
      logLoss: e.logLoss,
      ece: e.expectedCalibrationError,
      calibration: result.calibration.method,
      architecture: result.bundle.manifest.metrics.training,
      threshold: result.bundle.manifest.threshold ?? null,
      trainSeconds: result.timings.total,
      epochs: result.history.length,
      searchTimedOut: result.search.timedOut,
      backend: result.backend,
    },
    bestBaseline: { model: bestName, rocAuc: aucOf(best), accuracy: best.accuracy, macroF1: best.macro_f1 },
    bestBaselineAccuracy: bestAccuracy,
    baselines: Object.fromEntries(ranked.map(([n, m]) => [n, { rocAuc: aucOf(m), accuracy: m.accuracy, macroF1: m.macro_f1 }])),
    bar,
  };
  rows.push(row);
  console.log(`\n## ${dataset.name} (${e.rows} test rows; baseline entry "${dataset.baseline}")`);
  console.log(`| model | ROC AUC | accuracy | macro F1 | ECE | train s |`);
  console.log(`|---|---|---|---|---|---|`);
  console.log(`| **propensity (tfjs ${result.bundle.manifest.metrics.training && (result.bundle.manifest.metrics.training as { architecture: { kind: string } }).architecture.kind}, ${result.calibration.method})** | **${f4(e.rocAuc)}** | **${f4(e.accuracy)}** | **${f4(e.macroF1)}** | **${f4(e.expectedCalibrationError)}** | **${result.timings.total.toFixed(1)}** |`);
  for (const [n, m] of ranked) console.log(`| ${n} | ${f4(aucOf(m))} | ${f4(m.accuracy)} | ${f4(m.macro_f1)} | | |`);
  console.log(`bar: ${Object.entries(bar).map(([k, v]) => `${k} ${v ? 'yes' : 'NO'}`).join(', ')}`);
}

if (write && only.length === 0) {
  await writeFile(path.join(here, 'results.json'), `${JSON.stringify({ generatedBy: 'bench/quality/runQuality.ts', rows }, null, 1)}\n`);
}
