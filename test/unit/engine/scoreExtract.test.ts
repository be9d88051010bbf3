import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalOutputTarget } from '../../../functions/adapters/fs/localOutputTarget.js';
import { tempFileSpool, type TempFileSpool } from '../../../functions/adapters/fs/tempFileSpool.js';
import { resolveEconomics, type CampaignEconomicsInput } from '../../../functions/core/economics/campaignEconomics.js';
import { loadBundle, type LoadedBundle } from '../../../functions/core/engine/loadBundle.js';
import { scoreExtract } from '../../../functions/core/engine/scoreExtract.js';
import type { RunSummary } from '../../../functions/core/engine/runSummary.js';
import type { SpoolFactory } from '../../../functions/core/engine/spool.js';
import { sigmoid, tinyBinaryBundle, tinySegmentBundle, TINY_WEIGHTS } from '../../helpers/tinyBundle.js';
import { loadModel } from '../../../functions/adapters/model/modelLoader.js';

const loaded: LoadedBundle[] = [];
afterEach(async () => {
  for (const b of loaded.splice(0)) await b.model.dispose();
});

async function run(text: string | Buffer, economics: Partial<CampaignEconomicsInput> | undefined, bundleFiles = tinyBinaryBundle()) {
  const files = await bundleFiles;
  const bundle = await loadBundle(files, loadModel);
  loaded.push(bundle);
  const out = await mkdtemp(path.join(tmpdir(), 'propensity-engine-'));
  const result = await scoreExtract({
    input: Readable.from([typeof text === 'string' ? Buffer.from(text) : text]),
    source: 'extract.csv',
    bundle,
    economics: resolveEconomics(files.manifest.economics, economics),
    output: new LocalOutputTarget(out),
    spool: tempFileSpool(),
    batchSize: 2, // several batches even on a tiny file
  });
  const read = (name: string) => readFile(path.join(out, name), 'utf8');
  return { ...result, out, read };
}

const p = (age: number, member: number) => sigmoid(TINY_WEIGHTS.age * age + TINY_WEIGHTS.member * member + TINY_WEIGHTS.bias);

const EXTRACT = [
  'customer_id,age,member',
  'c1,20,yes', // z = 0 → 0.5
  'c2,60,no', //  z = 1
  'c3,0,no', //   z = −2
  'c4,abc,yes', // not a number → rejected
  'c5,30', //     field count → rejected
  'c6,,yes', //   age imputed with the training median 40 → z = 1
  '',
].join('\n');

describe('scoreExtract (binary)', () => {
  it('scores known rows to hand-computed probabilities, rejects bad rows with line and reason', async () => {
    // Act
    const { summary, read, out } = await run(EXTRACT, { budget: { maxContacts: 3 } });

    // Assess: scores.csv in file order, probabilities computed by hand.
    const scores = (await read('scores.csv')).trim().split('\n');
    expect(scores[0]).toBe('customer_id,probability,predicted,decile');
    const parsed = scores.slice(1).map((l) => l.split(','));
    expect(parsed.map((f) => f[0])).toEqual(['c1', 'c2', 'c3', 'c6']);
    const expected = [p(20, 1), p(60, 0), p(0, 0), p(40, 1)];
    parsed.forEach((f, i) => expect(Number(f[1])).toBeCloseTo(expected[i]!, 6));
    // predicted follows the run's economics (EUR 10 a contact, 100 a response), not the budget: p·100 > 10.
    expect(parsed.map((f) => f[2])).toEqual(expected.map((q) => (q * 100 > 10 ? 'yes' : 'no')));
    expect(parsed.map((f) => f[2])).toEqual(['yes', 'yes', 'yes', 'yes']); // sigmoid(−2) ≈ 0.119 is still worth a contact

    // rejects.csv: line, column, reason, detail, raw.
    const rejects = (await read('rejects.csv')).trim().split('\n');
    expect(rejects[0]).toBe('line,column,reason,detail,raw');
    expect(rejects[1]).toMatch(/^5,age,NOT_A_NUMBER,.*,"?c4,abc,yes"?$/);
    expect(rejects[2]).toMatch(/^6,.*,FIELD_COUNT,.*c5,30"?$/);

    // Counts add up.
    expect(summary.rows).toEqual({ read: 6, scored: 4, rejected: 2, rejectReasons: { NOT_A_NUMBER: 1, FIELD_COUNT: 1 } });

    // Targets: expected value p·100 − 10, ties (c2, c6) broken by line; budget of 3 contacts.
    const targets = (await read('targets.csv')).trim().split('\n');
    expect(targets[0]).toBe('customer_id,rank,probability,value,expected_value');
    expect(targets.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['c2,1', 'c6,2', 'c1,3']);

    // ROI by hand.
    const responders = p(60, 0) + p(40, 1) + p(20, 1);
    const selection = summary.campaign!.selection;
    expect(selection.contacts).toBe(3);
    expect(selection.expectedResponders).toBeCloseTo(responders, 6);
    expect(selection.cost).toBe(30);
    expect(selection.gain).toBeCloseTo(responders * 100, 4);
    expect(selection.roi).toBeCloseTo((responders * 100 - 30) / 30, 5);
    const everyone = summary.campaign!.everyone;
    expect(everyone.contacts).toBe(4);
    expect(everyone.cost).toBe(40);
    expect(everyone.gain).toBeCloseTo((responders + p(0, 0)) * 100, 4);
    expect(summary.campaign!.noOne).toMatchObject({ contacts: 0, cost: 0, gain: 0, roi: null });
    expect(summary.selected).toBe(3);

    // Every output exists, _SUCCESS lists them, no staging leftovers.
    const files = await readdir(out);
    expect(files.sort()).toEqual(['_SUCCESS', 'rejects.csv', 'report.html', 'report.md', 'scores.csv', 'summary.json', 'targets.csv']);
    const success = JSON.parse(await read('_SUCCESS')) as { files: Array<{ name: string; bytes: number }> };
    expect(success.files.map((f) => f.name).sort()).toEqual(['rejects.csv', 'report.html', 'report.md', 'scores.csv', 'summary.json', 'targets.csv']);
    const summaryOnDisk = JSON.parse(await read('summary.json')) as RunSummary;
    expect(summaryOnDisk.rows.read).toBe(summaryOnDisk.rows.scored + summaryOnDisk.rows.rejected);
    expect(await read('report.md')).toContain('Rows read 6 = scored 4 + rejected 2');
  });

  it('saveRate scales every expected gain, and predicted follows the run\'s economics: as many "yes" as targets.csv rows', async () => {
    const { summary, read } = await run(EXTRACT, { saveRate: 0.5 });
    // Gain per response 100 × 0.5 = 50: worth a contact (cost 10) when p > 0.2, so c3 (p ≈ 0.119) is not.
    const scores = (await read('scores.csv')).trim().split('\n').slice(1).map((l) => l.split(','));
    expect(scores.map((f) => [f[0], f[2]])).toEqual([['c1', 'yes'], ['c2', 'yes'], ['c3', 'no'], ['c6', 'yes']]);
    const targets = (await read('targets.csv')).trim().split('\n').slice(1);
    expect(targets).toHaveLength(scores.filter((f) => f[2] === 'yes').length);
    // targets.csv value is the gain per response (× saveRate); expected_value p·50 − 10.
    const [id, rank, probability, value, expectedValue] = targets[0]!.split(',');
    expect([id, rank, probability, value]).toEqual(['c2', '1', p(60, 0).toFixed(6), '50']);
    expect(Number(expectedValue)).toBeCloseTo(p(60, 0) * 50 - 10, 5);
    const all = p(20, 1) + p(60, 0) + p(0, 0) + p(40, 1);
    expect(summary.campaign!.everyone.gain).toBeCloseTo(all * 50, 4);
    expect(summary.deciles!.at(-1)!.gain).toBeCloseTo(all * 50, 4);
    expect(summary.campaign!.selection.gain).toBeCloseTo((all - p(0, 0)) * 50, 4);
    expect(summary.economics.saveRate).toBe(0.5);
  });

  it('counts imputed cells per column and, with the label column present, evaluates against it', async () => {
    const text = ['customer_id,age,member,y', 'c1,20,yes,no', 'c2,60,no,yes', 'c3,0,no,no', 'c6,,yes,', 'c7,,no,maybe', ''].join('\n');
    const { summary } = await run(text, undefined);
    expect(summary.imputed).toEqual({ age: 2, member: 0 });
    const labels = summary.labels!;
    // Labelled: c1 (0.5, no), c2 (0.731, yes), c3 (0.119, no); c6 empty and c7 unknown are left out.
    expect(labels).toMatchObject({ column: 'y', task: 'binary', rows: 3, unlabelled: 2, positives: 1, rocAuc: 1, prAuc: 1 });
    const written = [p(20, 1), p(60, 0), p(0, 0)].map((q) => Number(q.toFixed(6)));
    expect(labels.logLoss).toBeCloseTo(-(Math.log(1 - written[0]!) + Math.log(written[1]!) + Math.log(1 - written[2]!)) / 3, 12);
    // Accuracy at p ≥ 0.5: c1 (0.5) is called yes and is no.
    expect(labels.accuracy).toBeCloseTo(2 / 3, 12);
    // Realized: everyone labelled = 3 contacts at 10, one responder worth 100.
    expect(labels.realized!.everyone).toEqual({ contacted: 3, responders: 1, cost: 30, gain: 100, profit: 70, roi: 70 / 30 });
    // The label never changes the scores: same probabilities without the column.
    const without = await run(['customer_id,age,member', 'c1,20,yes', 'c2,60,no', 'c3,0,no', 'c6,,yes', 'c7,,no', ''].join('\n'), undefined);
    expect(without.summary.labels).toBeUndefined();
    expect(without.summary.scoreDistribution).toEqual(summary.scoreDistribution);
  });

  it('gives the same outputs for the gzipped extract', async () => {
    const plain = await run(EXTRACT, undefined);
    const gzipped = await run(gzipSync(Buffer.from(EXTRACT)), undefined);
    for (const name of ['scores.csv', 'targets.csv', 'rejects.csv']) expect(await gzipped.read(name)).toBe(await plain.read(name));
  });

  it('uses a value column for expected value and rejects rows without a value', async () => {
    const text = ['customer_id,age,member,order_value', 'c1,20,yes,300', 'c2,60,no,', 'c3,0,no,50', ''].join('\n');
    const { summary, read } = await run(text, { valuePerResponse: { column: 'order_value' }, costPerContact: 10 });
    expect(summary.rows).toMatchObject({ read: 3, scored: 2, rejected: 1, rejectReasons: { MISSING_VALUE_COLUMN: 1 } });
    const targets = (await read('targets.csv')).trim().split('\n').slice(1);
    // c1: 0.5·300 − 10 = 140 is selected; c3: 0.1192·50 − 10 < 0 is not.
    expect(targets).toEqual(['c1,1,0.500000,300,140']);
  });

  it('rejects a value above what the economics can hold as a row, not as a failed run', async () => {
    const text = ['customer_id,age,member,order_value', 'c1,20,yes,300', 'c2,60,no,2000000000', 'c3,0,no,1e308', 'c4,0,no,1000000000', ''].join('\n');
    const { summary, read } = await run(text, { valuePerResponse: { column: 'order_value' }, costPerContact: 10 });
    expect(summary.rows).toMatchObject({ read: 4, scored: 2, rejected: 2, rejectReasons: { MISSING_VALUE_COLUMN: 2 } });
    const rejects = (await read('rejects.csv')).trim().split('\n').slice(1);
    expect(rejects.map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['3,order_value,MISSING_VALUE_COLUMN', '4,order_value,MISSING_VALUE_COLUMN']);
  });

  it('assigns deciles: each row gets the decile of its score, decile 1 the highest', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => `k${i},${i * 5},no`);
    const { read, summary } = await run(['customer_id,age,member', ...rows, ''].join('\n'), undefined);
    const scores = (await read('scores.csv')).trim().split('\n').slice(1).map((l) => l.split(','));
    // Ages 0..95 → increasing probabilities: the last two rows are decile 1, the first two decile 10.
    expect(scores.map((f) => Number(f[3]))).toEqual([10, 10, 9, 9, 8, 8, 7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    expect(summary.deciles!.map((d) => d.customers)).toEqual(Array(10).fill(2));
  });
});

describe('scoreExtract (bad files)', () => {
  async function failure(text: string | Buffer) {
    const files = await tinyBinaryBundle();
    const bundle = await loadBundle(files, loadModel);
    loaded.push(bundle);
    const out = await mkdtemp(path.join(tmpdir(), 'propensity-engine-'));
    const error = await scoreExtract({
      input: Readable.from([typeof text === 'string' ? Buffer.from(text) : text]),
      source: 'extract.csv',
      bundle,
      economics: resolveEconomics(files.manifest.economics),
      output: new LocalOutputTarget(out),
      spool: tempFileSpool(),
    }).catch((e: unknown) => e);
    return { error: error as Error & { code: string }, files: await readdir(out), errorJson: JSON.parse(await readFile(path.join(out, 'error.json'), 'utf8')) as Record<string, unknown> };
  }

  it('a missing required column: one error naming column and file, and no outputs', async () => {
    const { error, files, errorJson } = await failure('customer_id,member\nc1,yes\n');
    expect(error.code).toBe('EXTRACT_MISSING_COLUMN');
    expect(error.message).toContain('extract.csv');
    expect(error.message).toContain('"age"');
    expect(files).toEqual(['error.json']);
    expect(errorJson).toMatchObject({ status: 'failed', error: { code: 'EXTRACT_MISSING_COLUMN', file: 'extract.csv', column: 'age' } });
  });

  it('an empty file and a header-only file fail clearly with no summary', async () => {
    const empty = await failure('');
    expect(empty.error.code).toBe('EXTRACT_EMPTY');
    expect(empty.files).toEqual(['error.json']);
    const headerOnly = await failure('customer_id,age,member\n');
    expect(headerOnly.error.code).toBe('EXTRACT_NO_ROWS');
    expect(headerOnly.files).toEqual(['error.json']);
  });

  it('a truncated gzip fails with EXTRACT_COMPRESSION and leaves nothing that looks complete', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `c${i},${i % 90},yes`).join('\n');
    const gz = gzipSync(Buffer.from(`customer_id,age,member\n${rows}\n`));
    const { error, files } = await failure(gz.subarray(0, Math.floor(gz.length / 2)));
    expect(error.code).toBe('EXTRACT_COMPRESSION');
    expect(error.message).toContain('extract.csv');
    expect(files).toEqual(['error.json']);
  });

  it('invalid UTF-8 names the line', async () => {
    const bad = Buffer.concat([Buffer.from('customer_id,age,member\nc1,20,yes\nc2,'), Buffer.from([0xff, 0xfe]), Buffer.from(',no\n')]);
    const { error } = await failure(bad);
    expect(error.code).toBe('EXTRACT_ENCODING');
    expect(error.message).toMatch(/extract\.csv:3/);
  });
});

describe('scoreExtract (multiclass)', () => {
  it('writes per-class probabilities, the segment and its action', async () => {
    const text = ['ID,x1,x2', '1,2,0', '2,0,2', '3,0,0', ''].join('\n');
    const { read, summary } = await run(text, undefined, tinySegmentBundle());
    const softmax = (l: number[]) => l.map((v) => Math.exp(v) / l.reduce((s, x) => s + Math.exp(x), 0));
    const scores = (await read('scores.csv')).trim().split('\n');
    expect(scores[0]).toBe('ID,p_A,p_B,p_C,predicted,confidence,decile');
    const first = scores[1]!.split(',');
    softmax([2, 0, 0]).forEach((v, k) => expect(Number(first[k + 1])).toBeCloseTo(v, 6));
    expect(first[4]).toBe('A');
    const targets = (await read('targets.csv')).trim().split('\n');
    expect(targets[0]).toBe('ID,rank,segment,confidence,action');
    // Rows 1 and 2 tie on confidence (ties by line), row 3 is uniform (1/3 each → first class A).
    expect(targets.slice(1).map((l) => l.split(',').filter((_, i) => i !== 3).join(','))).toEqual(['1,1,A,discounts', '2,2,B,reminders', '3,3,A,discounts']);
    expect(summary.segments!.map((s) => [s.segment, s.customers])).toEqual([['A', 2], ['B', 1], ['C', 0]]);
  });
});

describe('scoreExtract (spool)', () => {
  const parents: string[] = [];
  afterEach(async () => {
    for (const parent of parents.splice(0)) await rm(parent, { recursive: true, force: true });
  });

  /** A spool factory that records every folder it made, in a parent of its own. */
  async function recordingSpool(): Promise<{ spool: SpoolFactory; created: string[]; parent: string }> {
    const parent = await mkdtemp(path.join(tmpdir(), 'propensity-spools-'));
    parents.push(parent);
    const make = tempFileSpool({ parent });
    const created: string[] = [];
    const spool = async (): Promise<TempFileSpool> => {
      const made = await make();
      created.push(made.dir);
      return made;
    };
    return { spool, created, parent };
  }

  const exists = (dir: string) => access(dir).then(() => true, () => false);

  async function runWith(input: Readable, options: { failOnBatch?: number } = {}) {
    const files = await tinyBinaryBundle();
    const bundle = await loadBundle(files, loadModel);
    loaded.push(bundle);
    let batches = 0;
    const inner = bundle.model;
    // The tiny model, except that it throws on the n-th batch (a runtime crash mid-file).
    const model = {
      inputWidth: inner.inputWidth,
      outputWidth: inner.outputWidth,
      score: async (batch: Float32Array, rows: number) => {
        if (++batches === options.failOnBatch) throw new Error('model crashed');
        return inner.score(batch, rows);
      },
      dispose: () => inner.dispose(),
    };
    const out = await mkdtemp(path.join(tmpdir(), 'propensity-engine-'));
    const recorder = await recordingSpool();
    const outcome = await scoreExtract({
      input,
      source: 'extract.csv',
      bundle: { ...bundle, model },
      economics: resolveEconomics(files.manifest.economics),
      output: new LocalOutputTarget(out),
      spool: recorder.spool,
      batchSize: 2,
    }).then(
      (result) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error: error as Error & { code?: string } }),
    );
    return { ...outcome, ...recorder, files: await readdir(out), batches: () => batches };
  }

  const rows = (n: number) => Array.from({ length: n }, (_, i) => `c${i},${i % 90},yes`);
  // Rejected rows too, so the reject spool holds raw customer lines when the run fails.
  const EXTRACT_WITH_REJECTS = ['customer_id,age,member', 'bad1,abc,yes', ...rows(9), 'bad2,xyz,no', ''].join('\n');

  it('a finished run leaves no spool folder', async () => {
    // Act
    const { result, created, parent } = await runWith(Readable.from([Buffer.from(EXTRACT_WITH_REJECTS)]));
    // Assess
    expect(result?.summary.rows).toMatchObject({ read: 11, scored: 9, rejected: 2 });
    expect(created).toHaveLength(1);
    expect(await exists(created[0]!)).toBe(false);
    expect(await readdir(parent)).toEqual([]);
  });

  it('a model that throws mid-file: the error is rethrown, error.json written, the spool (with reject rows) removed', async () => {
    // Act: the second batch fails, after the first batch and a reject were spooled.
    const { error, created, parent, files, batches } = await runWith(Readable.from([Buffer.from(EXTRACT_WITH_REJECTS)]), { failOnBatch: 2 });
    // Assess
    expect(error?.message).toBe('model crashed');
    expect(batches()).toBe(2);
    expect(files).toEqual(['error.json']);
    expect(created).toHaveLength(1);
    expect(await exists(created[0]!)).toBe(false);
    expect(await readdir(parent)).toEqual([]);
  });

  it('an input stream that errors mid-file: the spool is removed', async () => {
    // Prepare: a few good and rejected rows, then the source fails (a dropped connection).
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from(['customer_id,age,member', 'bad1,abc,yes', ...rows(5), ''].join('\n'));
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('connection reset');
    }
    // Act
    const { error, created, parent, files } = await runWith(Readable.from(failing()));
    // Assess
    expect(error?.message).toContain('connection reset');
    expect(files).toEqual(['error.json']);
    expect(created).toHaveLength(1);
    expect(await exists(created[0]!)).toBe(false);
    expect(await readdir(parent)).toEqual([]);
  });

  it('a failure while writing the outputs (header only: EXTRACT_NO_ROWS) also removes the spool', async () => {
    const { error, created, parent } = await runWith(Readable.from([Buffer.from('customer_id,age,member\n')]));
    expect(error?.code).toBe('EXTRACT_NO_ROWS');
    expect(created).toHaveLength(1);
    expect(await readdir(parent)).toEqual([]);
  });
});
