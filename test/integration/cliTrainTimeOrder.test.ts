import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleDir } from '../../functions/adapters/fs/bundleDir.js';
import type { HoldoutDescription } from '../../functions/core/evaluation/evaluateClassifier.js';
import { dataset } from '../helpers/datasets.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

/**
 * Issue 11's must-shows for time, through `propensity train` on bank-full.csv (its rows are in date
 * order, May 2008 → Nov 2010): the first 60 % with `training.order: "file"` reports out-of-time AUC
 * beside random-split AUC; the first 50 % (where `pdays` is -1, declared missing, in every row)
 * trains, with a warning about pdays. Quick settings (no search, 2 folds, 3 epochs) keep it to seconds;
 * the README gives the figures of full trainings.
 */

const BANK = dataset('bank-marketing/bank-full.csv');
let work: string;

async function firstShare(share: number, name: string): Promise<string> {
  const lines = (await readFile(BANK, 'utf8')).trimEnd().split(/\r?\n/);
  const rows = Math.round((lines.length - 1) * share);
  const file = path.join(work, name);
  await writeFile(file, `${lines.slice(0, 1 + rows).join('\n')}\n`);
  return file;
}

async function quickSpec(name: string, training: Record<string, unknown>): Promise<string> {
  const spec = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../model-store/bank-marketing/spec.json'), 'utf8')) as Record<string, unknown>;
  delete spec['search'];
  spec['training'] = { ...(spec['training'] as object), epochs: 4, patience: 2, learningRate: 0.01, folds: 2, ensemble: 1, importanceRepeats: 0, ...training };
  const file = path.join(work, name);
  await writeFile(file, JSON.stringify(spec));
  return file;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-time-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('propensity train on time-ordered data', () => {
  it('first 60 % of bank-full.csv, file order as time: out-of-time AUC on the latest 20 % beside random-split AUC', async () => {
    const data = await firstShare(0.6, 'bank-first-60.csv');
    const spec = await quickSpec('spec-file-order.json', { order: 'file' });
    const out = path.join(work, 'bank-60');

    const run = await runCliCaptured(['train', '--spec', spec, '--data', data, '--out', out, '--quiet']);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // 27 127 data rows: the latest 5 425 are the holdout, from data row 21 703 on.
    expect(run.stdout).toContain('binary, 5,425 held-out rows');
    expect(run.stdout).toContain('latest 0.2 by file order (row 21703 – row 27127)');
    expect(run.stdout).toMatch(/out-of-time ROC AUC 0\.\d{4} \(latest 0\.2 by file order \(row 21703 – row 27127\)\) vs random-split ROC AUC 0\.\d{4} \(5,425 random earlier rows, also held out of fitting/);
    const { manifest } = await readBundleDir(out);
    const evaluation = manifest.metrics.evaluation as { rocAuc: number; holdout: HoldoutDescription };
    expect(evaluation.holdout).toMatchObject({ rows: 5425, chosen: 'latest 0.2 by file order (row 21703 – row 27127)', inPeriod: { rows: 5425 } });
    expect(manifest.metrics.data).toMatchObject({ testRows: 5425, fitRows: 27127 - 2 * 5425, folds: 2 });
    // Both figures are real AUCs of a model that learnt something.
    expect(evaluation.rocAuc).toBeGreaterThan(0.5);
    expect(evaluation.holdout.inPeriod!.rocAuc).toBeGreaterThan(0.55);
  });

  it('first 50 % of bank-full.csv: pdays is missing in every row, and training succeeds with a warning about it', async () => {
    const data = await firstShare(0.5, 'bank-first-50.csv');
    const spec = await quickSpec('spec-random.json', {});
    const out = path.join(work, 'bank-50');

    const run = await runCliCaptured(['train', '--spec', spec, '--data', data, '--out', out, '--quiet']);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/warning: column "pdays" has no non-missing value in the \d+ training rows: fitted as a constant/);
    const { manifest } = await readBundleDir(out);
    expect(manifest.warnings).toEqual(expect.arrayContaining([expect.stringContaining('column "pdays" has no non-missing value')]));
    expect(manifest.featureSpec.columns['pdays']).toMatchObject({ clipLower: 0, clipUpper: 0, missingRate: 1 });
  });
});
