import { access, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalOutputTarget } from '../../../functions/adapters/fs/localOutputTarget.js';
import { tempFileSpool } from '../../../functions/adapters/fs/tempFileSpool.js';
import { resolveEconomics } from '../../../functions/core/economics/campaignEconomics.js';
import { loadBundle, type LoadedBundle } from '../../../functions/core/engine/loadBundle.js';
import { scoreExtract } from '../../../functions/core/engine/scoreExtract.js';
import { loadModel } from '../../../functions/adapters/model/modelLoader.js';
import { tinySegmentBundle } from '../../helpers/tinyBundle.js';

const dirs: string[] = [];
const loaded: LoadedBundle[] = [];
afterEach(async () => {
  for (const b of loaded.splice(0)) await b.model.dispose();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'propensity-csv-outputs-'));
  dirs.push(dir);
  return dir;
}

describe('multiclass outputs', () => {
  it.each([true, false])('write ids with formulas, quotes and line breaks cell for cell (protection %s)', async (protect) => {
    // Prepare: ids that need neutralising or quoting; x1 = x2 = 0 everywhere, so segment A, B, C tie.
    const files = await tinySegmentBundle();
    const bundle = await loadBundle(files, loadModel);
    loaded.push(bundle);
    const ids = ['=1+1', '-7', '"q"', 'A\nB', 'C\r\nD', 'E\rF', '@x,y'];
    const extract = `ID,x1,x2\n${ids.map((id) => `"${id.replaceAll('"', '""')}",0,0`).join('\n')}\n"\t=bad",oops,0\n`;
    const out = await tempDir();

    // Act
    const { summary } = await scoreExtract({
      input: Readable.from([Buffer.from(extract)]),
      source: 'segments.csv',
      bundle,
      economics: resolveEconomics(files.manifest.economics, undefined),
      output: new LocalOutputTarget(out),
      spool: tempFileSpool(),
      batchSize: 2,
      csvInjectionProtection: protect,
    });

    // Assess
    const read = async (name: string) => parse<Record<string, string>>(await readFile(path.join(out, name), 'utf8'), { columns: true });
    const expected = protect ? ["'=1+1", '-7', '"q"', 'A\nB', 'C\r\nD', 'E\rF', "'@x,y"] : ids;
    expect((await read('scores.csv')).map((r) => r.ID)).toEqual(expected);
    expect(new Set((await read('targets.csv')).map((r) => r.ID))).toEqual(new Set(expected));
    const rejects = await read('rejects.csv');
    expect(rejects).toHaveLength(1);
    // The raw row starts with a quote: not a formula, so it is kept as it is either way.
    expect(rejects[0]!.raw).toBe('"\t=bad",oops,0');
    expect(summary.rows).toMatchObject({ read: 8, scored: 7, rejected: 1 });
    expect(summary.csvInjectionProtection).toBe(protect);
  });
});

describe('LocalOutputTarget.abort', () => {
  it('settles while an output is still open (a run that failed mid-write), leaving error.json and no staging folder', async () => {
    // Prepare: an output written to but never ended, as when the merge throws halfway.
    const out = await tempDir();
    const target = new LocalOutputTarget(out);
    const scores = target.open('scores.csv');
    scores.write('id,probability\n');

    // Act
    await target.abort(new Error('merge failed'));

    // Assess
    await access(path.join(out, 'error.json'));
    expect(await readdir(out)).toEqual(['error.json']);
  });
});
