import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../functions/core/engine/runSummary.js';
import { dataset } from '../helpers/datasets.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

/**
 * Must-show of issue 10: a model trained from `infer-spec` without economics says "placeholder
 * economics" in `train`, `inspect`, `score`, summary.json and report.md, until a per-run file sets
 * the money figures. The audiobooks file has no header: its label (col12) is found by position.
 */

const AUDIOBOOKS = dataset('audiobooks/Audiobooks_data.csv');
const NOTICE = 'placeholder economics: EUR 1 per contact, 10 per response — set them with --economics FILE or in spec.json';
let work: string;
let bundle: string;
const summaryOf = async (out: string) => JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as RunSummary;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-economics-'));
  bundle = path.join(work, 'bundle');
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('a model trained from infer-spec without economics', () => {
  it('train and inspect say the economics are placeholders', async () => {
    const featureSpec = path.join(work, 'feature-spec.json');
    expect((await runCliCaptured(['infer-spec', AUDIOBOOKS, '--out', featureSpec])).code).toBe(0);
    // The training spec a new user writes around the draft: a name, the spec, a short training; no economics.
    const spec = { name: 'audiobooks-draft', featureSpec: JSON.parse(await readFile(featureSpec, 'utf8')) as unknown, training: { epochs: 3, patience: 2 } };
    await writeFile(path.join(work, 'spec.json'), JSON.stringify(spec));

    const trained = await runCliCaptured(['train', '--spec', path.join(work, 'spec.json'), '--data', AUDIOBOOKS, '--out', bundle, '--seed', '1', '--quiet']);
    expect(trained.code).toBe(0);
    expect(trained.stdout).toContain(NOTICE);

    const inspected = await runCliCaptured(['inspect', bundle]);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain(NOTICE);
    expect(inspected.stdout.trimEnd().split('\n').length).toBeLessThanOrEqual(40);
    const manifest = JSON.parse((await runCliCaptured(['inspect', bundle, '--json'])).stdout) as { manifest: { economics: { placeholder?: boolean } } };
    expect(manifest.manifest.economics.placeholder).toBe(true);
  });

  it('score says so in its output, summary.json and a banner at the top of report.md', async () => {
    const out = path.join(work, 'run');
    const scored = await runCliCaptured(['score', '--model', bundle, '--input', AUDIOBOOKS, '--out', out, '--workers', '1', '--parts', '1']);
    expect(scored.code).toBe(0);
    expect(scored.stdout).toContain(NOTICE);
    const summary = await summaryOf(out);
    expect(summary.economics.placeholder).toBe(true);
    const report = (await readFile(path.join(out, 'report.md'), 'utf8')).split('\n');
    expect(report[2]).toBe('> **Placeholder economics.** Every money figure below uses EUR 1 per contact, 10 per response — set them with --economics FILE or in spec.json.');
    // The header-less file still carries its label, found by the spec's position.
    expect(summary.labels).toMatchObject({ column: 'col12', task: 'binary', unlabelled: 0 });
  });

  it('a per-run file that sets both money figures clears the flag; one that sets only a budget does not', async () => {
    const set = path.join(work, 'set.json');
    await writeFile(set, JSON.stringify({ costPerContact: 2, valuePerResponse: 30 }));
    const out = path.join(work, 'run-set');
    const scored = await runCliCaptured(['score', '--model', bundle, '--input', AUDIOBOOKS, '--out', out, '--economics', set, '--workers', '1', '--parts', '1']);
    expect(scored.code).toBe(0);
    expect(scored.stdout).not.toContain('placeholder economics');
    expect((await summaryOf(out)).economics.placeholder).toBeUndefined();
    expect(await readFile(path.join(out, 'report.md'), 'utf8')).not.toContain('Placeholder');

    const budgetOnly = path.join(work, 'budget.json');
    await writeFile(budgetOnly, JSON.stringify({ budget: { maxContacts: 100 } }));
    const capped = path.join(work, 'run-budget');
    expect((await runCliCaptured(['score', '--model', bundle, '--input', AUDIOBOOKS, '--out', capped, '--economics', budgetOnly, '--quiet', '--workers', '1', '--parts', '1'])).code).toBe(0);
    expect((await summaryOf(capped)).economics.placeholder).toBe(true);
  });
});
