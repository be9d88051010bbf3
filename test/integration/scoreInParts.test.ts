import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localByteRanges } from '../../functions/adapters/fs/localByteRanges.js';
import { LocalOutputTarget } from '../../functions/adapters/fs/localOutputTarget.js';
import { loadModel } from '../../functions/adapters/model/modelLoader.js';
import { scoreInParts, type ScoreInPartsOptions } from '../../functions/adapters/workers/scoreInParts.js';
import { resolveBundle } from '../../functions/cli/resolveBundle.js';
import type { BundleFiles } from '../../functions/core/bundle/registry.js';
import { resolveEconomics } from '../../functions/core/economics/campaignEconomics.js';
import { loadBundle, type LoadedBundle } from '../../functions/core/engine/loadBundle.js';
import type { ScoreProgress } from '../../functions/core/engine/scorePart.js';
import { ExtractError } from '../../functions/core/errors.js';
import { dataset } from '../helpers/datasets.js';

let work: string;
let files: BundleFiles;
let bundle: LoadedBundle;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-in-parts-'));
  files = await resolveBundle('bank-marketing');
  bundle = await loadBundle(files, loadModel);
});

afterAll(async () => {
  await bundle.model.dispose();
  await rm(work, { recursive: true, force: true });
});

/** A run of `file` on worker threads, its spools in a folder of its own (to see that none stays). */
async function run(file: string, out: string, more: Partial<ScoreInPartsOptions> = {}) {
  const tempDir = await mkdtemp(path.join(work, 'tmp-'));
  const options: ScoreInPartsOptions = {
    input: createReadStream(file),
    source: file,
    bundle,
    bundleFiles: files,
    economics: resolveEconomics(files.manifest.economics, undefined, 'bundle'),
    output: new LocalOutputTarget(out),
    spool: () => Promise.reject(new Error('a multi-part run makes its spools in its workers')),
    extract: { kind: 'file', file },
    bytes: () => localByteRanges(file),
    workers: 2,
    parts: 4,
    tempDir,
    ...more,
  };
  return { outcome: scoreInParts(options), tempDir };
}

describe('scoreInParts (worker threads)', () => {
  it('plans 4 parts on 2 workers, sums their progress, and leaves no spool behind', async () => {
    // Prepare
    const file = dataset('bank-marketing/bank-full.csv');
    const progress: ScoreProgress[] = [];
    const plans: unknown[] = [];
    // Act
    const { outcome, tempDir } = await run(file, path.join(work, 'ok'), { onProgress: (p) => progress.push(p), onPlan: (p) => plans.push(p) });
    const { summary } = await outcome;
    // Assess
    expect(plans).toEqual([{ parts: 4, workers: 2 }]);
    expect(summary.rows).toMatchObject({ read: 45_211, scored: 45_211, rejected: 0 });
    // Each worker reports its own part; the run's progress is their sum, and ends at every scored row.
    expect(progress.at(-1)!.rowsScored).toBe(45_211);
    expect(progress.map((p) => p.rowsScored)).toEqual([...progress.map((p) => p.rowsScored)].sort((a, b) => a - b));
    expect(await readdir(tempDir)).toEqual([]);
  }, 120_000);

  it('rejects with the first failing part\'s ExtractError (its class, code and line), aborts the target and removes every spool', async () => {
    // Prepare: a header-less tail line that is not UTF-8, in the third quarter of the file.
    const lines = (await readFile(dataset('bank-marketing/bank-full.csv'), 'utf8')).split('\n');
    const file = path.join(work, 'latin1.csv');
    const bytes = Buffer.from(lines.join('\n'));
    const at = bytes.indexOf(Buffer.from(`\n${lines[30_000]}\n`)) + 1;
    bytes[at + 4] = 0xe9;
    await writeFile(file, bytes);
    const out = path.join(work, 'failed');
    // Act
    const { outcome, tempDir } = await run(file, out);
    const error = await outcome.catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ code: 'EXTRACT_ENCODING', location: { file, line: 30_001 } });
    expect(await readdir(out)).toEqual(['error.json']);
    expect(await readdir(tempDir)).toEqual([]);
  }, 120_000);

  it('a missing file fails as the planning\'s error, even when the unread input reports it first (no uncaught error)', async () => {
    // Prepare: the input stream fails to open while the byte ranges are still being opened (here: 100 ms).
    const file = path.join(work, 'nope.csv');
    const opened = () => new Promise<never>((_, reject) => setTimeout(() => reject(Object.assign(new Error(`ENOENT: no such file, open '${file}'`), { code: 'ENOENT' })), 100));
    // Act
    const { outcome } = await run(file, path.join(work, 'missing'), { bytes: opened });
    const error = await outcome.catch((e: unknown) => e);
    // Assess: the run's error; the stream's own ENOENT, emitted first, was heard (vitest fails the run on an uncaught one).
    expect(error).toMatchObject({ code: 'ENOENT' });
  });
});
