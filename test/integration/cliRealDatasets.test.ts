import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../functions/core/engine/runSummary.js';
import { dataset, writeDatasetBundle } from '../helpers/datasetBundle.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/specs');
let work: string;

const cli = (...args: string[]) => runCliCaptured(args);

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-cli-'));
  await writeDatasetBundle({ specFile: path.join(fixtures, 'bank-marketing.spec.json'), data: dataset('bank-marketing/bank-full.csv'), name: 'bank-marketing', dir: path.join(work, 'bank') });
  await writeDatasetBundle({
    specFile: path.join(fixtures, 'segmentation.spec.json'),
    data: dataset('segmentation/Train.csv'),
    name: 'segmentation',
    dir: path.join(work, 'segmentation'),
    actions: { A: 'discounts and affordability', B: 'reminders and seasonal offers', C: 'VIP programme and feedback', D: 'exclusive perks' },
  });
});

describe('propensity infer-spec', () => {
  it('drafts a spec that validates and fits the file it came from', async () => {
    const out = path.join(work, 'churn.spec.json');
    const data = dataset('ecommerce-churn/E_Commerce_Dataset.csv');
    expect((await cli('infer-spec', data, '--out', out)).code).toBe(0);
    const { parseFeatureSpec } = await import('../../functions/core/spec/featureSpec.js');
    const spec = parseFeatureSpec(JSON.parse(await readFile(out, 'utf8')), out);
    expect(spec.columns.find((c) => c.role === 'id')?.name).toBe('CustomerID');
    expect(spec.columns.find((c) => c.role === 'target')?.name).toBe('Churn');
    await writeDatasetBundle({ specFile: out, data, name: 'ecommerce-churn', dir: path.join(work, 'churn') });
    const scored = path.join(work, 'churn-out');
    expect((await cli('score', '--model', path.join(work, 'churn'), '--input', data, '--out', scored, '--quiet')).code).toBe(0);
    const summary = JSON.parse(await readFile(path.join(scored, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.rows).toMatchObject({ read: 5_630, scored: 5_630, rejected: 0 });
  });
});

describe('propensity score on the real datasets', () => {
  it('scores bank-full.csv (`;`, quoted) with every output and read = scored + rejected', async () => {
    const out = path.join(work, 'bank-out');
    const { code, stderr } = await cli('score', '--model', path.join(work, 'bank'), '--input', dataset('bank-marketing/bank-full.csv'), '--out', out, '--quiet');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.delimiter).toBe(';');
    expect(summary.rows.read).toBe(45_211);
    expect(summary.rows.read).toBe(summary.rows.scored + summary.rows.rejected);
    expect(summary.rows.rejected).toBe(0);
    const scores = (await readFile(path.join(out, 'scores.csv'), 'utf8')).trim().split('\n');
    expect(scores).toHaveLength(45_212);
    const targets = (await readFile(path.join(out, 'targets.csv'), 'utf8')).trim().split('\n');
    expect(targets.length - 1).toBe(summary.selected);
    expect((await readdir(out)).sort()).toEqual(['_SUCCESS', 'rejects.csv', 'report.html', 'report.md', 'scores.csv', 'summary.json', 'targets.csv']);
  });

  it('scores segmentation Train.csv (empty cells imputed) into segments with actions', async () => {
    const out = path.join(work, 'seg-out');
    const { code } = await cli('score', '--model', path.join(work, 'segmentation'), '--input', dataset('segmentation/Train.csv'), '--out', out, '--quiet');
    expect(code).toBe(0);
    const summary = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.rows).toMatchObject({ read: 8_068, scored: 8_068, rejected: 0 });
    expect(summary.segments!.reduce((n, s) => n + s.customers, 0)).toBe(8_068);
    const targets = (await readFile(path.join(out, 'targets.csv'), 'utf8')).trim().split('\n');
    expect(targets[0]).toBe('ID,rank,segment,confidence,action');
    expect(targets).toHaveLength(8_069);
  });

  it('exits 2 naming file and column when a required column is missing, and writes no summary', async () => {
    const input = path.join(work, 'no-age.csv');
    await writeFile(input, 'ID,Gender\n1,Male\n');
    const out = path.join(work, 'bad-out');
    const { code, stderr } = await cli('score', '--model', path.join(work, 'segmentation'), '--input', input, '--out', out);
    expect(code).toBe(2);
    expect(stderr).toContain('EXTRACT_MISSING_COLUMN');
    expect(stderr).toContain(input);
    expect(stderr).toContain('"Ever_Married"');
    expect(await readdir(out)).toEqual(['error.json']);
  });

  it('exits 2 for a missing input file and for usage errors', async () => {
    expect((await cli('score', '--model', path.join(work, 'bank'), '--input', path.join(work, 'nope.csv'), '--out', path.join(work, 'x'))).code).toBe(2);
    expect((await cli('score', '--model', path.join(work, 'bank'))).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
  });

  it('overrides the bundle economics with a per-run file, and refuses an invalid one naming the key', async () => {
    const economics = path.join(work, 'economics.json');
    await writeFile(economics, JSON.stringify({ policy: 'top-k', k: 100 }));
    const out = path.join(work, 'topk-out');
    expect((await cli('score', '--model', path.join(work, 'bank'), '--input', dataset('bank-marketing/bank-full.csv'), '--out', out, '--economics', economics, '--quiet')).code).toBe(0);
    const summary = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.selected).toBe(100);
    await writeFile(economics, JSON.stringify({ policy: 'top-k' }));
    const bad = await cli('score', '--model', path.join(work, 'bank'), '--input', dataset('bank-marketing/bank-full.csv'), '--out', out, '--economics', economics);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('ECONOMICS_INVALID');
    expect(bad.stderr).toContain('k: policy top-k needs k');
  });
});
