import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, sha256Hex } from '../../../functions/core/bundle/bundle.js';
import { writeBundleDir } from '../../../functions/adapters/fs/bundleDir.js';
import { driftCommand } from '../../../functions/cli/commands/drift.js';
import type { DriftReport } from '../../../functions/core/drift/checkDrift.js';
import type { DriftBaseline } from '../../../functions/core/drift/driftBaseline.js';
import { ConfigError, DriftError } from '../../../functions/core/errors.js';
import { reportCommand } from '../../../functions/cli/commands/report.js';
import { buildBankBaseline, loadBankFixture, profileRows, shiftRows, type BankFixture } from './bankMarketingFixture.js';

describe('propensity drift (command function)', () => {
  let fixture: BankFixture;
  let dir: string;
  let bundleDir: string;
  let baseline: DriftBaseline;

  /** Writes a finished scoring run folder holding the profile of `rows` and the `_SUCCESS` that lists it. */
  const writeRun = async (name: string, rows: string[][]) => {
    const run = path.join(dir, 'runs', name);
    await mkdir(run, { recursive: true });
    const profile = JSON.stringify(profileRows(fixture, baseline, rows, name));
    await writeFile(path.join(run, 'profile.json'), profile);
    const files = [{ name: 'profile.json', bytes: Buffer.byteLength(profile), sha256: sha256Hex(profile) }];
    await writeFile(path.join(run, '_SUCCESS'), JSON.stringify({ completedAt: '2026-11-30T00:00:00.000Z', files }));
    return run;
  };

  beforeAll(async () => {
    fixture = await loadBankFixture();
    baseline = buildBankBaseline(fixture);
    dir = await mkdtemp(path.join(tmpdir(), 'propensity-drift-'));
    bundleDir = path.join(dir, 'bundle');
    // Only the manifest matters to the drift check: the model file is never loaded.
    const bundle = createBundle(
      {
        schemaVersion: 1,
        name: 'bank-marketing',
        version: 'v1',
        created: '2026-11-23T00:00:00.000Z',
        task: 'binary',
        classes: fixture.fitted.classes!,
        positiveClass: 'yes',
        format: 'onnx',
        model: { file: 'model.onnx', inputName: 'features', outputName: 'probability', output: 'positive-probability' },
        featureSpec: fixture.fitted,
        economics: { costPerContact: 8, valuePerResponse: 120 },
        baseline,
      },
      new Map([['model.onnx', new Uint8Array([1, 2, 3])]]),
    );
    await writeBundleDir(bundleDir, bundle);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exits 3 on the shifted runs, prints the table and writes the report', async () => {
    const shifted = shiftRows(fixture.header, fixture.holdout);
    const runs = [await writeRun('2026-11-22', shifted.slice(0, 4500)), await writeRun('2026-11-23', shifted.slice(4500))];
    const reportFile = path.join(dir, 'shifted.json');

    const result = await driftCommand({ model: bundleDir, runs, report: reportFile });

    expect(result.exitCode).toBe(3);
    const written = JSON.parse(await readFile(reportFile, 'utf8')) as DriftReport;
    expect(written).toEqual(JSON.parse(JSON.stringify(result.report)));
    expect(written).toMatchObject({ model: 'bank-marketing', modelVersion: 'v1', status: 'alert', runs: ['2026-11-22', '2026-11-23'] });
    expect(written.driftedFeatures).toEqual(['age', 'job', 'balance']);
    expect(result.summary).toContain('Drift check: bank-marketing v1');
    expect(result.summary).toMatch(/\nage +num/);
    // The page beside the JSON, and what `propensity report` renders from the JSON alone.
    expect(result.htmlFile).toBe(path.join(dir, 'shifted.html'));
    const page = await readFile(result.htmlFile, 'utf8');
    expect(page).toContain('<h1>Drift report: bank-marketing v1</h1>');
    for (const feature of ['age', 'job', 'balance']) expect(page).toContain(`<h3>${feature}</h3>`);
    const again = await reportCommand({ input: reportFile, out: path.join(dir, 'again.html') });
    expect(await readFile(again, 'utf8')).toBe(page);
  });

  it('propensity report refuses what is not a run, a bundle or a drift report', async () => {
    const notJson = path.join(dir, 'notes.txt');
    await writeFile(notJson, 'hello');
    await expect(reportCommand({ input: notJson })).rejects.toMatchObject({ code: 'USAGE', message: `${notJson}: INPUT: give a run folder, a bundle, or a drift report .json` });
    const other = path.join(dir, 'other.json');
    await writeFile(other, '{"schemaVersion": 1}');
    await expect(reportCommand({ input: other })).rejects.toBeInstanceOf(ConfigError);
    const unfinished = path.join(dir, 'unfinished');
    await mkdir(unfinished, { recursive: true });
    await writeFile(path.join(unfinished, 'summary.json'), '{}');
    await expect(reportCommand({ input: unfinished })).rejects.toThrow(/not a finished run/);
  });

  it('exits 0 on an unshifted run, with options from a file', async () => {
    const run = await writeRun('2026-11-24', fixture.holdout);
    const optionsFile = path.join(dir, 'drift-options.json');
    await writeFile(optionsFile, JSON.stringify({ psiWarn: 0.05, psiAlert: 0.2 }));

    const result = await driftCommand({ model: bundleDir, runs: [path.join(run, 'profile.json')], options: optionsFile, report: path.join(dir, 'ok.json') });

    expect(result.exitCode).toBe(0);
    expect(result.report.status).toBe('ok');
    expect(result.report.options).toMatchObject({ psiWarn: 0.05, psiAlert: 0.2 });
  });

  it('reads only finished runs: a folder without _SUCCESS, a _SUCCESS without the profile, an edited profile', async () => {
    const refused = async (run: string) => driftCommand({ model: bundleDir, runs: [run], report: path.join(dir, 'x.json') }).catch((e: unknown) => e);
    // A failed run: error.json and a profile, but no _SUCCESS.
    const failed = path.join(dir, 'runs', 'failed');
    await mkdir(failed, { recursive: true });
    await writeFile(path.join(failed, 'profile.json'), JSON.stringify(profileRows(fixture, baseline, fixture.holdout.slice(0, 600), 'failed')));
    await writeFile(path.join(failed, 'error.json'), '{"status":"failed"}');
    const noSuccess = await refused(failed);
    expect(noSuccess).toBeInstanceOf(DriftError);
    expect(noSuccess).toMatchObject({ code: 'DRIFT_INPUT_INVALID', message: `${failed}: not a finished run (no readable _SUCCESS); only runs that completed are read` });
    expect(await refused(path.join(failed, 'profile.json'))).toMatchObject({ message: `${failed}: not a finished run (no readable _SUCCESS); only runs that completed are read` });

    // A finished run of a bundle without a baseline: _SUCCESS lists no profile.
    const noProfile = path.join(dir, 'runs', 'no-profile');
    await mkdir(noProfile, { recursive: true });
    await writeFile(path.join(noProfile, '_SUCCESS'), JSON.stringify({ completedAt: '2026-11-30T00:00:00.000Z', files: [] }));
    expect(await refused(noProfile)).toMatchObject({ code: 'DRIFT_INPUT_INVALID', message: `${noProfile}: _SUCCESS does not list profile.json` });

    // A finished run whose profile was changed afterwards.
    const edited = await writeRun('edited', fixture.holdout.slice(0, 600));
    await writeFile(path.join(edited, 'profile.json'), '{}');
    expect(await refused(edited)).toMatchObject({ code: 'DRIFT_INPUT_INVALID', message: `${edited}: profile.json no longer matches the sha256 its _SUCCESS records` });
  });
});
