import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle } from '../../../functions/core/bundle/bundle.js';
import { writeBundleDir } from '../../../functions/adapters/fs/bundleDir.js';
import { driftCommand } from '../../../functions/cli/commands/drift.js';
import type { DriftReport } from '../../../functions/core/drift/checkDrift.js';
import type { DriftBaseline } from '../../../functions/core/drift/driftBaseline.js';
import { DriftError } from '../../../functions/core/errors.js';
import { buildBankBaseline, loadBankFixture, profileRows, shiftRows, type BankFixture } from './bankMarketingFixture.js';

describe('propensity drift (command function)', () => {
  let fixture: BankFixture;
  let dir: string;
  let bundleDir: string;
  let baseline: DriftBaseline;

  /** Writes a scoring run folder holding only the profile of `rows`. */
  const writeRun = async (name: string, rows: string[][]) => {
    const run = path.join(dir, 'runs', name);
    await mkdir(run, { recursive: true });
    await writeFile(path.join(run, 'profile.json'), JSON.stringify(profileRows(fixture, baseline, rows, name)));
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

  it('names a run folder without a profile', async () => {
    const empty = path.join(dir, 'runs', 'empty');
    await mkdir(empty, { recursive: true });
    const error = await driftCommand({ model: bundleDir, runs: [empty], report: path.join(dir, 'x.json') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftError);
    expect(error).toMatchObject({ code: 'DRIFT_INPUT_INVALID', message: `${path.join(empty, 'profile.json')}: no run profile (profile.json) here` });
  });
});
