import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSharedDir } from '../helpers/datasets.js';
import { CORPUS_BUNDLES, corpusTable, loadCorpus, type CorpusBundle, type CorpusCase } from '../corpus/corpusCase.js';
import { contractProblems, loadBundledModel, readCsv, REPO_ROOT, runExtract, type LoadedModel, type RunResult } from '../corpus/corpusRun.js';

// The corpus is self-contained, but the suite runs beside the shared datasets: fail loudly without them.
findSharedDir();

const corpus = loadCorpus();
const models = new Map<CorpusBundle, LoadedModel>();

beforeAll(async () => {
  for (const name of CORPUS_BUNDLES) models.set(name, await loadBundledModel(name));
});
afterAll(async () => {
  for (const m of models.values()) await m.bundle.model.dispose();
});

async function run(c: CorpusCase): Promise<RunResult> {
  return runExtract(models.get(c.bundle)!, { bytes: c.bytes(), source: c.source, maxRejectRate: c.run?.maxRejectRate, economics: c.run?.economics });
}

async function assessOutcome(c: CorpusCase, result: RunResult): Promise<void> {
  const { expect: expected } = c;
  if ('refused' in expected) {
    expect(result.kind === 'refused' ? result.error.code : `scored ${JSON.stringify(result.summary.rows)}`).toBe(expected.refused);
    return;
  }
  if (result.kind === 'refused') expect.fail(`refused with ${result.error.code}: ${result.error.message.slice(0, 300)}`);
  const reasons: Record<string, number> = {};
  for (const r of expected.rejects) reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
  expect(result.summary.rows).toEqual({ read: expected.read, scored: expected.scored, rejected: expected.rejected, rejectReasons: reasons });
  const rejects = (await readCsv(result.out, 'rejects.csv')).slice(1);
  expect(rejects.map(([line, , reason]) => ({ line: Number(line), reason }))).toEqual(expected.rejects.map((r) => ({ line: r.line, reason: r.reason })));
  expected.rejects.forEach((r, i) => {
    if (r.column !== undefined) expect(rejects[i]?.[1], `column of the reject at line ${r.line}`).toBe(r.column);
  });
  if (expected.delimiter !== undefined) expect(result.summary.delimiter).toBe(expected.delimiter);
  if (expected.ids !== undefined) expect((await readCsv(result.out, 'scores.csv')).slice(1).map((row) => row[0])).toEqual(expected.ids);
}

describe('bad-input corpus (test/corpus/cases), scored in-process', () => {
  it('holds at least 60 cases over every bundle', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    for (const b of CORPUS_BUNDLES) expect(corpus.some((c) => c.bundle === b)).toBe(true);
  });

  it('is listed in the README table (regenerate with `npx tsx scripts/corpus-table.ts`)', async () => {
    expect(await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8')).toContain(`<!-- corpus-table:start -->\n${corpusTable(corpus)}\n<!-- corpus-table:end -->`);
  });

  it.each(corpus.map((c) => [c.file, c] as const))('%s', async (_file, c) => {
    const result = await run(c);
    await assessOutcome(c, result);
    expect(await contractProblems(result)).toEqual([]);
  });
});

/** A few cases through the real binary: exit code 0 or 2, and the same files. */
describe('bad-input corpus through `bin/propensity.mjs score`', () => {
  const picks = ['ecommerce-churn/gzip-truncated.json', 'audiobooks/field-count.json', 'segmentation/duplicate-column.json', 'bank-marketing/comma-delimiter.json'];

  it.each(picks)('%s', async (file) => {
    const c = corpus.find((k) => k.file === file)!;
    const work = await mkdtemp(path.join(tmpdir(), 'propensity-corpus-cli-'));
    const input = path.join(work, c.source ?? 'extract.csv');
    await writeFile(input, c.bytes());
    const out = path.join(work, 'out');
    const args = [path.join(REPO_ROOT, 'bin/propensity.mjs'), 'score', '--model', c.bundle, '--input', input, '--out', out, '--quiet'];
    const status = await promisify(execFile)(process.execPath, args, { cwd: REPO_ROOT }).then(
      () => 0,
      (error: { code?: number }) => error.code ?? -1,
    );
    const files = (await readdir(out).catch(() => [] as string[])).sort();
    if ('refused' in c.expect) {
      expect(status).toBe(2);
      const written = JSON.parse(await readFile(path.join(out, 'error.json'), 'utf8')) as { error: { code: string } };
      expect(written.error.code).toBe(c.expect.refused);
      expect(files).not.toContain('_SUCCESS');
      expect(files).not.toContain('summary.json');
    } else {
      expect(status).toBe(0);
      const summary = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as { rows: { read: number; scored: number; rejected: number } };
      expect(summary.rows).toMatchObject({ read: c.expect.read, scored: c.expect.scored, rejected: c.expect.rejected });
      expect(files).toContain('_SUCCESS');
    }
  });
});
