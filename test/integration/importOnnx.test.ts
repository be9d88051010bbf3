import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftReport } from '../../functions/core/drift/checkDrift.js';
import { readBundleDir } from '../../functions/adapters/fs/bundleDir.js';
import { FsRegistry } from '../../functions/adapters/fs/fsRegistry.js';
import { buildMlpOnnx, buildPipelineOnnx, mlpProbability, pipelineProbability } from '../helpers/pipelineOnnx.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';
import { loadModel } from '../../functions/adapters/model/modelLoader.js';
import { loadBundle } from '../../functions/core/engine/loadBundle.js';
import { compilePredictor, type BinaryPrediction } from '../../functions/core/predict/customerPredictor.js';
import { evaluateOnHoldout } from '../../functions/core/retrain/evaluateOnHoldout.js';
import { parseFeatureSpec } from '../../functions/core/spec/featureSpec.js';

/**
 * Bring your own ONNX, through the real CLI: import a scikit-learn-style pipeline with a string
 * input, the same pipeline ending in ZipMap, and a features-only MLP with a spec in the scikit-learn
 * options; score an extract with missing cells and unseen categories; compare every probability in
 * scores.csv with the same maths in plain JS. Then a baseline from a sample, and a drift check.
 */

const cli = (...args: string[]) => runCliCaptured(args);
let work: string;
let registry: string;
/** Largest |scores.csv − hand-computed| per fixture, printed for the closing note. */
const parity: Record<string, number> = {};

/** A deterministic generator (LCG), so the extracts are the same on every run. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Pipeline extract rows: id, age, income, channel; some cells missing (as pandas writes or reads them), some channels unseen. */
function pipelineRows(count: number, seed: number): string[][] {
  const random = generator(seed);
  const rows: string[][] = [];
  const missing = ['', 'NA', '#N/A', '<NA>', 'nan'];
  for (let i = 0; i < count; i++) {
    const age = random() < 0.08 ? missing[i % missing.length]! : String(Math.round(18 + random() * 60));
    const income = random() < 0.08 ? missing[(i + 2) % missing.length]! : (20_000 + random() * 80_000).toFixed(2);
    const r = random();
    const channel = r < 0.05 ? '' : r < 0.1 ? 'fax' : ['email', 'sms', 'web'][Math.floor(random() * 3)]!;
    rows.push([`c${seed}-${i}`, age, income, channel]);
  }
  return rows;
}

const csv = (header: string[], rows: string[][]) => `${[header, ...rows].map((r) => r.join(',')).join('\n')}\n`;
/** pandas 2's default na_values, written out here independently of the code under test. */
const PANDAS_NA = new Set(['', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null']);
const numberOrNull = (cell: string) => (PANDAS_NA.has(cell.trim()) ? null : Number(cell));

/** scores.csv → probability per id. */
async function scoredProbabilities(out: string): Promise<Map<string, number>> {
  const [header, ...lines] = (await readFile(path.join(out, 'scores.csv'), 'utf8')).trimEnd().split('\n');
  const columns = header!.split(',');
  const id = 0;
  const probability = columns.indexOf('probability');
  expect(probability).toBeGreaterThan(0);
  return new Map(lines.map((line) => line.split(',')).map((f) => [f[id]!, Number(f[probability])]));
}

function maxAbsDiff(scored: Map<string, number>, expected: Map<string, number>): number {
  expect([...scored.keys()].sort()).toEqual([...expected.keys()].sort());
  let max = 0;
  for (const [id, p] of expected) max = Math.max(max, Math.abs(scored.get(id)! - p));
  return max;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-import-'));
  registry = path.join(work, 'registry');
  await writeFile(path.join(work, 'pipeline.onnx'), buildPipelineOnnx());
  await writeFile(path.join(work, 'zipmap.onnx'), buildPipelineOnnx({ zipMap: true }));
  const header = ['customer_id', 'age', 'income', 'channel'];
  await writeFile(path.join(work, 'sample.csv'), csv(header, pipelineRows(800, 1)));
  await writeFile(path.join(work, 'extract.csv'), csv(header, pipelineRows(700, 2)));
});

afterAll(async () => {
  console.log(`import parity, max |scores.csv − hand-computed|: ${JSON.stringify(parity)}`);
  await rm(work, { recursive: true, force: true });
});

async function expectedPipeline(file: string): Promise<Map<string, number>> {
  const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').slice(1);
  return new Map(lines.map((l) => l.split(',')).map(([id, age, income, channel]) => [id!, pipelineProbability(numberOrNull(age!), numberOrNull(income!), channel!)]));
}

describe('propensity import: a whole scikit-learn pipeline with a string input', () => {
  it.each([
    ['pipeline', 'pipeline.onnx'],
    ['zipmap', 'zipmap.onnx'],
  ])('imports %s into the registry and scores a CSV with parity ≤ 1e-5', async (name, file) => {
    const imported = await cli('import', path.join(work, file), '--name', name, '--id', 'customer_id', '--registry', registry);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('pipeline: 3 raw columns (age: float, income: float, channel: string)');
    if (name === 'zipmap') expect(imported.stdout).toMatch(/removed the final ZipMap node .* serving the tensor "probabilities"/);
    else expect(imported.stdout).not.toContain('ZipMap');

    // Written as train writes a version: manifest with sha256s, placeholder economics, readable by the registry.
    const [entry] = await new FsRegistry(registry).listVersions(name);
    const bundle = await readBundleDir(path.join(registry, name, entry!.version));
    expect(bundle.manifest.model.inputs).toEqual([
      { name: 'age', column: 'age', type: 'float32' },
      { name: 'income', column: 'income', type: 'float32' },
      { name: 'channel', column: 'channel', type: 'string' },
    ]);
    expect(bundle.manifest.model.outputName).toBe('probabilities');
    expect(bundle.manifest.classes).toEqual(['0', '1']);
    expect(bundle.manifest.economics.placeholder).toBe(true);
    expect(Object.keys(bundle.manifest.files)).toEqual(['model.onnx']);

    const out = path.join(work, `out-${name}`);
    const scored = await cli('score', '--model', path.join(registry, name), '--input', path.join(work, 'extract.csv'), '--out', out, '--workers', '1', '--quiet');
    expect(scored.stderr).toBe('');
    expect(scored.code).toBe(0);
    const diff = maxAbsDiff(await scoredProbabilities(out), await expectedPipeline(path.join(work, 'extract.csv')));
    parity[name] = diff;
    expect(diff).toBeLessThanOrEqual(1e-5);
  });

  it('gets a baseline from a sample, then a scoring run of it gets a drift check with PSI per feature', async () => {
    const model = path.join(registry, 'pipeline');
    const baseline = await cli('baseline', model, '--data', path.join(work, 'sample.csv'));
    expect(baseline.stderr).toBe('');
    expect(baseline.code).toBe(0);
    expect(baseline.stdout).toMatch(/baseline [0-9a-f]{16} from 800 rows of .*sample\.csv: 3 features/);
    const [entry] = await new FsRegistry(registry).listVersions('pipeline');
    const manifest = (await readBundleDir(path.join(registry, 'pipeline', entry!.version))).manifest;
    expect(manifest.baseline).toMatchObject({ rows: 800, features: [{ name: 'age' }, { name: 'income' }, { name: 'channel', categories: ['email', 'sms', 'web', '__other__'] }] });

    const out = path.join(work, 'out-drift');
    const scored = await cli('score', '--model', model, '--input', path.join(work, 'extract.csv'), '--out', out, '--workers', '1', '--quiet');
    expect(scored.code).toBe(0);
    const profile = JSON.parse(await readFile(path.join(out, 'profile.json'), 'utf8')) as { rows: number };
    expect(profile.rows).toBe(700);

    const reportFile = path.join(work, 'drift.json');
    const drift = await cli('drift', '--model', model, out, '--report', reportFile);
    expect(drift.stderr).toBe('');
    expect(drift.code).toBe(0);
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as DriftReport;
    expect(report.rows).toBe(700);
    expect(report.features.map((f) => f.name)).toEqual(['age', 'income', 'channel']);
    // Two draws of the same distribution: small PSI everywhere. `fax` is a channel the model's
    // OneHotEncoder does not know (its categories are the baseline's): the check says so.
    for (const feature of report.features) expect(feature.psi).toBeLessThan(0.1);
    expect(report.score?.psi).toBeLessThan(0.1);
    expect(report.features.map((f) => [f.name, f.level, f.causes])).toEqual([
      ['age', 'ok', []],
      ['income', 'ok', []],
      ['channel', 'alert', ['unseen']],
    ]);
    expect(report.features[2]!.unseenShare).toBeGreaterThan(0.03);
    expect(report.status).toBe('warn');
  });

  it('scores the string input in worker threads too: two parts give the same scores.csv as one thread', async () => {
    // Over 512 KiB, so the extract is split into byte ranges scored by a worker thread each.
    const big = path.join(work, 'big.csv');
    await writeFile(big, csv(['customer_id', 'age', 'income', 'channel'], pipelineRows(24_000, 4)));
    const model = path.join(registry, 'zipmap');
    const one = await cli('score', '--model', model, '--input', big, '--out', path.join(work, 'out-one'), '--workers', '1', '--parts', '1', '--quiet');
    const two = await cli('score', '--model', model, '--input', big, '--out', path.join(work, 'out-two'), '--workers', '2', '--parts', '2', '--quiet');
    expect([one.code, two.code, two.stderr]).toEqual([0, 0, '']);
    expect(await readFile(path.join(work, 'out-two', 'scores.csv'), 'utf8')).toBe(await readFile(path.join(work, 'out-one', 'scores.csv'), 'utf8'));
    expect(maxAbsDiff(await scoredProbabilities(path.join(work, 'out-two')), await expectedPipeline(big))).toBeLessThanOrEqual(1e-5);
  }, 60_000);

  it('serves the imported pipeline online: predict feeds the string input and answers with the same probabilities', async () => {
    const [entry] = await new FsRegistry(registry).listVersions('pipeline');
    const bundle = await loadBundle(await readBundleDir(path.join(registry, 'pipeline', entry!.version)), loadModel);
    try {
      const customers = [
        { customer_id: 'a', age: 34, income: 52000, channel: 'web' },
        { customer_id: 'b', age: null, income: '', channel: 'sms' },
        { customer_id: 'c', age: 61, income: 18000, channel: 'fax' },
      ];
      const response = await compilePredictor(bundle).predict({ customers, explain: true });
      const got = response.customers as BinaryPrediction[];
      expect(got.map((c) => c.id)).toEqual(['a', 'b', 'c']);
      expect(got[0]!.probability).toBeCloseTo(pipelineProbability(34, 52000, 'web'), 5);
      expect(got[1]!.probability).toBeCloseTo(pipelineProbability(null, null, 'sms'), 5);
      expect(got[2]!.probability).toBeCloseTo(pipelineProbability(61, 18000, 'fax'), 5);
      // Explanations blank one column at a time: the imputed row goes through the same string batch.
      const ageReason = got[0]!.reasons!.find((r) => r.feature === 'age');
      expect(ageReason?.contribution).toBeCloseTo(pipelineProbability(34, 52000, 'web') - pipelineProbability(null, 52000, 'web'), 5);
    } finally {
      await bundle.model.dispose();
    }
  });

  it('is judged on labelled rows as retraining judges a champion: the string input reaches the model', async () => {
    const [entry] = await new FsRegistry(registry).listVersions('pipeline');
    const bundle = await readBundleDir(path.join(registry, 'pipeline', entry!.version));
    // An imported pipeline names no target; a team that adds one (as its retraining would) gets it judged.
    const spec = bundle.manifest.featureSpec.spec;
    const withTarget = parseFeatureSpec({ ...spec, positiveClass: '1', columns: [...spec.columns, { name: 'responded', role: 'target', type: 'categorical' }] }, 'spec');
    const labelled = { ...bundle.manifest, featureSpec: { ...bundle.manifest.featureSpec, spec: withTarget } };
    const rows = pipelineRows(400, 9);
    const expected = rows.map(([, age, income, channel]) => pipelineProbability(numberOrNull(age!), numberOrNull(income!), channel!));
    // Labels that follow the probabilities, then the AUC of the hand-computed probabilities by pair counting.
    const random = generator(10);
    const labels = expected.map((p) => (random() < p ? 1 : 0));
    let pairs = 0;
    let wins = 0;
    for (let i = 0; i < rows.length; i++) {
      for (let j = 0; j < rows.length; j++) {
        if (labels[i] !== 1 || labels[j] !== 0) continue;
        pairs++;
        wins += expected[i]! > expected[j]! ? 1 : expected[i] === expected[j] ? 0.5 : 0;
      }
    }
    const holdout = { source: 'holdout.csv', header: ['customer_id', 'age', 'income', 'channel', 'responded'], records: rows.map((row, i) => [...row, String(labels[i])]) };
    const evaluation = await evaluateOnHoldout({ manifest: labelled, files: bundle.files }, holdout, { loadModel });
    expect(evaluation.rows).toBe(400);
    expect(pairs).toBeGreaterThan(1000);
    expect(evaluation.auc).toBeCloseTo(wins / pairs, 6);
  });

  it('refuses an extract without one of the model inputs, naming the column', async () => {
    await writeFile(path.join(work, 'no-income.csv'), csv(['customer_id', 'age', 'channel'], [['a', '30', 'sms']]));
    const scored = await cli('score', '--model', path.join(registry, 'pipeline'), '--input', path.join(work, 'no-income.csv'), '--out', path.join(work, 'out-missing'), '--workers', '1', '--quiet');
    expect(scored.code).toBe(2);
    expect(scored.stderr).toMatch(/EXTRACT_MISSING_COLUMN.*"income"/);
  });
});

/** The features-only MLP: 5 inputs in the model's order plan=basic, plan=plus, plan=pro, tenure, spend. */
const HIDDEN = [
  [0.4, -0.3, 0.2],
  [-0.5, 0.6, 0.1],
  [0.3, 0.2, -0.7],
  [0.9, -0.4, 0.5],
  [-0.6, 0.8, 0.3],
];
const HIDDEN_BIAS = [0.1, -0.2, 0.05];
const OUT = [1.2, -0.8, 0.6];
const OUT_BIAS = -0.3;

/** scikit-learn's fitted values, as a data scientist copies them from imputer.statistics_, scaler.mean_ and scaler.scale_. */
const FEATURES_SPEC = {
  spec: {
    columns: [
      { name: 'customer_id', role: 'id', type: 'categorical' },
      { name: 'tenure', role: 'feature', type: 'numeric', missing: 'pandas', impute: { strategy: 'median' }, scale: 'standard', scaleAfterImpute: true },
      { name: 'spend', role: 'feature', type: 'numeric', missing: 'pandas', impute: { strategy: 'mean' }, scale: 'standard', scaleAfterImpute: true },
      { name: 'plan', role: 'feature', type: 'categorical', missing: 'pandas', trim: false, categories: ['basic', 'plus', 'pro'], unknown: 'ignore', impute: { strategy: 'constant', value: 'basic' } },
    ],
  },
  columns: {
    tenure: { kind: 'numeric', fill: 24, clipLower: null, clipUpper: null, shift: 25.5, scale: 14.2, missingRate: 0.05 },
    spend: { kind: 'numeric', fill: 70.25, clipLower: null, clipUpper: null, shift: 70.25, scale: 30.1, missingRate: 0.02 },
    plan: { kind: 'categorical', vocabulary: ['basic', 'plus', 'pro'], otherIndex: -1, unknown: 'ignore', fillIndex: 0, missingRate: 0 },
  },
  // A ColumnTransformer puts the one-hot block first: the model's input order, not the encoder's.
  featureNames: ['plan=basic', 'plan=plus', 'plan=pro', 'tenure', 'spend'],
  slotOrder: 'featureNames',
};

function expectedMlp(tenure: string, spend: string, plan: string): number {
  const t = numberOrNull(tenure) ?? 24;
  const s = numberOrNull(spend) ?? 70.25;
  // trim off: ' pro' is not 'pro' (unseen, all zeros); a missing plan is the constant 'basic'.
  const p = PANDAS_NA.has(plan) ? 'basic' : plan;
  const onehot = ['basic', 'plus', 'pro'].map((c) => (c === p ? 1 : 0));
  return mlpProbability([...onehot, (t - 25.5) / 14.2, (s - 70.25) / 30.1], HIDDEN, HIDDEN_BIAS, OUT, OUT_BIAS);
}

describe('propensity import: a features-only model with a spec in scikit-learn terms', () => {
  it('imports an MLP with its preprocessing and scores a CSV with parity ≤ 1e-5', async () => {
    await writeFile(path.join(work, 'mlp.onnx'), buildMlpOnnx(HIDDEN, HIDDEN_BIAS, OUT, OUT_BIAS));
    await writeFile(path.join(work, 'preprocessing.json'), JSON.stringify(FEATURES_SPEC));
    const random = generator(3);
    const rows: string[][] = [];
    for (let i = 0; i < 300; i++) {
      const tenure = random() < 0.1 ? ['', '#N/A', '<NA>'][i % 3]! : String(Math.round(random() * 60));
      const spend = random() < 0.1 ? ['NULL', 'n/a', '-nan'][i % 3]! : (10 + random() * 120).toFixed(2);
      const r = random();
      const plan = r < 0.05 ? '' : r < 0.1 ? 'enterprise' : r < 0.13 ? ' pro' : ['basic', 'plus', 'pro'][Math.floor(random() * 3)]!;
      rows.push([`m${i}`, tenure, spend, plan]);
    }
    await writeFile(path.join(work, 'mlp.csv'), csv(['customer_id', 'tenure', 'spend', 'plan'], rows));

    const imported = await cli('import', path.join(work, 'mlp.onnx'), '--name', 'mlp', '--spec', path.join(work, 'preprocessing.json'), '--registry', registry, '--promote');
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('features-only model: 5 encoded features into "features"');
    expect(imported.stdout).toContain('(champion)');

    const out = path.join(work, 'out-mlp');
    const scored = await cli('score', '--model', path.join(registry, 'mlp'), '--input', path.join(work, 'mlp.csv'), '--out', out, '--workers', '1', '--quiet');
    expect(scored.stderr).toBe('');
    expect(scored.code).toBe(0);
    const expected = new Map(rows.map(([id, tenure, spend, plan]) => [id!, expectedMlp(tenure!, spend!, plan!)]));
    const diff = maxAbsDiff(await scoredProbabilities(out), expected);
    parity['features-only'] = diff;
    expect(diff).toBeLessThanOrEqual(1e-5);
  });

  it('refuses a spec whose slots do not fill the model input, naming both widths', async () => {
    const narrow = { ...FEATURES_SPEC, spec: { columns: FEATURES_SPEC.spec.columns.slice(0, 3) }, featureNames: ['tenure', 'spend'], slotOrder: undefined };
    delete (narrow.columns as Record<string, unknown>)['plan'];
    await writeFile(path.join(work, 'narrow.json'), JSON.stringify({ ...narrow, columns: { tenure: FEATURES_SPEC.columns.tenure, spend: FEATURES_SPEC.columns.spend } }));
    const imported = await cli('import', path.join(work, 'mlp.onnx'), '--name', 'narrow', '--spec', path.join(work, 'narrow.json'), '--registry', registry);
    expect(imported.code).toBe(2);
    expect(imported.stderr).toMatch(/BUNDLE_INVALID: mlp\.onnx: .*narrow\.json encodes 2 slots, the model's input "features" takes 5/);
    expect(await new FsRegistry(registry).listVersions('narrow')).toEqual([]);
  });

  it('refuses an out-of-range otherIndex, pointing at unknown "ignore"', async () => {
    const bad = { ...FEATURES_SPEC, columns: { ...FEATURES_SPEC.columns, plan: { kind: 'categorical', vocabulary: ['basic', 'plus', 'pro'], otherIndex: 3, fillIndex: 0, missingRate: 0 } } };
    const spec = { ...bad, spec: { columns: FEATURES_SPEC.spec.columns.map((c) => (c.name === 'plan' ? { ...c, unknown: undefined } : c)) } };
    await writeFile(path.join(work, 'bad-other.json'), JSON.stringify(spec));
    const imported = await cli('import', path.join(work, 'mlp.onnx'), '--name', 'bad-other', '--spec', path.join(work, 'bad-other.json'), '--registry', registry);
    expect(imported.code).toBe(2);
    expect(imported.stderr).toContain('columns.plan.otherIndex 3 is outside the vocabulary\'s 3 slots (0…2); for an all-zero block on unseen values set "unknown": "ignore"');
  });
});
