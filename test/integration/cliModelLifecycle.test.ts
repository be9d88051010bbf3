import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftReport } from '../../functions/core/drift/checkDrift.js';
import { FsRegistry } from '../../functions/adapters/fs/fsRegistry.js';
import { readBundleDir } from '../../functions/adapters/fs/bundleDir.js';
import { dataset } from '../helpers/datasets.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

/**
 * The model lifecycle by hand, through the CLI on the real audiobooks data: train two versions
 * into a registry, score, check drift on an unshifted and a shifted extract, promote, roll back.
 */

const AUDIOBOOKS = dataset('audiobooks/Audiobooks_data.csv');
let work: string;
let registryDir: string;

const cli = (...args: string[]) => runCliCaptured(args);

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-lifecycle-'));
  registryDir = path.join(work, 'registry');
  // The bundled audiobooks spec, without the hyperparameter search, one model (no cross-validated
  // ensemble) and few epochs: seconds, not minutes.
  const spec = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../model-store/audiobooks/spec.json'), 'utf8')) as Record<string, unknown>;
  delete spec['search'];
  spec['training'] = { ...(spec['training'] as object), epochs: 6, patience: 3, folds: 1 };
  await writeFile(path.join(work, 'spec.json'), JSON.stringify(spec));

  // A shifted copy: prices ×3 and last visit +400 days; every other column as it was. Last visit is
  // then mostly beyond training's range, which the layout gate refuses: scored with --skip-layout-check.
  const lines = (await readFile(AUDIOBOOKS, 'utf8')).trimEnd().split(/\r?\n/);
  const shifted = lines.map((line) => {
    const f = line.split(',');
    f[3] = String(Number(f[3]) * 3);
    f[4] = String(Number(f[4]) * 3);
    f[10] = String(Number(f[10]) + 400);
    return f.join(',');
  });
  await writeFile(path.join(work, 'shifted.csv'), `${shifted.join('\n')}\n`);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('propensity train, drift, promote, rollback', () => {
  it('trains a first version into the registry as champion, and a second beside it', async () => {
    const first = await cli('train', '--spec', path.join(work, 'spec.json'), '--data', AUDIOBOOKS, '--registry', registryDir, '--promote', '--seed', '1', '--quiet');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/ROC AUC/i);
    expect(first.stdout).toContain('(champion)');

    // --out and --registry together: the same bundle in a folder (once, --out wrote nothing) and in the registry.
    const folder = path.join(work, 'second-bundle');
    const second = await cli('train', '--spec', path.join(work, 'spec.json'), '--data', AUDIOBOOKS, '--registry', registryDir, '--out', folder, '--seed', '2', '--quiet');
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('(champion)');
    const inFolder = await readBundleDir(folder);
    expect(second.stdout).toContain(`bundle written to ${folder} and `);
    expect(second.stdout).toContain(`audiobooks@${inFolder.manifest.version}`);

    const registry = new FsRegistry(registryDir);
    const versions = (await registry.listVersions('audiobooks')).map((v) => v.version);
    expect(versions).toHaveLength(2);
    expect(versions).toContain(inFolder.manifest.version);
    expect([...(await registry.read('audiobooks', inFolder.manifest.version)).files.keys()].sort()).toEqual([...inFolder.files.keys()].sort());
    const history = await registry.history('audiobooks');
    expect(history).toHaveLength(1);
    expect(await registry.champion('audiobooks')).toBe(history[0]!.version);
  });

  it('scores with the champion, and drift finds nothing on the data it was trained on (exit 0)', async () => {
    const run = path.join(work, 'run-unshifted');
    const scored = await cli('score', '--model', path.join(registryDir, 'audiobooks'), '--input', AUDIOBOOKS, '--out', run, '--quiet');
    expect(scored.code).toBe(0);
    const reportFile = path.join(work, 'drift-unshifted.json');
    const drift = await cli('drift', '--model', path.join(registryDir, 'audiobooks'), run, '--report', reportFile);
    expect(drift.stderr).toBe('');
    expect(drift.code).toBe(0);
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as DriftReport;
    expect(report.rows).toBe(14_084);
    expect(report.driftedFeatures).toEqual([]);
    expect(report.status).not.toBe('alert');
    expect(drift.stdout).toContain('Report: ');
  });

  it('flags exactly the shifted features and exits 3', async () => {
    const run = path.join(work, 'run-shifted');
    expect((await cli('score', '--model', path.join(registryDir, 'audiobooks'), '--input', path.join(work, 'shifted.csv'), '--out', run, '--quiet', '--skip-layout-check')).code).toBe(0);
    const reportFile = path.join(work, 'drift-shifted.json');
    // 3 of the 10 features move. Whether they are among the model's most important depends on the
    // model; the dataset-drift rule here does not: alert when 30 % of the features drift.
    const options = path.join(work, 'drift-options.json');
    await writeFile(options, JSON.stringify({ driftedShare: 0.3 }));
    const drift = await cli('drift', '--model', path.join(registryDir, 'audiobooks'), run, '--report', reportFile, '--options', options);
    expect(drift.code).toBe(3);
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as DriftReport;
    expect(report.status).toBe('alert');
    expect(report.datasetDrift).toBe(true);
    expect([...report.driftedFeatures].sort()).toEqual(['last_visit_minus_purchase_days', 'price_avg', 'price_overall']);
    expect(drift.stdout).toContain('price_overall');
  });

  it('promotes the second version by hand, rolls back to the first, and refuses a rollback past the first', async () => {
    const registry = new FsRegistry(registryDir);
    const first = (await registry.champion('audiobooks'))!;
    const second = (await registry.listVersions('audiobooks')).map((v) => v.version).find((v) => v !== first)!;

    const promoted = await cli('promote', 'audiobooks', second, '--reason', 'better on November labels', '--registry', registryDir);
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toContain(`champion is now ${second}`);
    expect(await registry.champion('audiobooks')).toBe(second);

    const rolled = await cli('rollback', 'audiobooks', '--reason', 'complaints from the call centre', '--registry', registryDir);
    expect(rolled.code).toBe(0);
    expect(rolled.stdout).toContain(`from ${second} to ${first}`);
    expect(await registry.champion('audiobooks')).toBe(first);

    const again = await cli('rollback', 'audiobooks', '--reason', 'one more', '--registry', registryDir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('no earlier champion');
    expect(await registry.champion('audiobooks')).toBe(first);

    const reasons = (await registry.history('audiobooks')).map((h) => [h.version, h.reason]);
    expect(reasons).toEqual([
      [first, expect.stringContaining('manual: trained by propensity train')],
      [second, 'manual: better on November labels'],
      [first, `rollback: complaints from the call centre (from ${second})`],
    ]);
  });

  it('refuses to promote a version that is not in the registry (exit 2, champion unchanged)', async () => {
    const registry = new FsRegistry(registryDir);
    const before = await registry.champion('audiobooks');
    const result = await cli('promote', 'audiobooks', '2020-01-01T0000-000000', '--reason', 'typo', '--registry', registryDir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('BUNDLE_NOT_FOUND');
    expect(await registry.champion('audiobooks')).toBe(before);
  });
});
