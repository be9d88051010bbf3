import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBundle } from '../../functions/cli/resolveBundle.js';
import { localByteRanges } from '../../functions/adapters/fs/localByteRanges.js';
import { loadModel } from '../../functions/adapters/model/modelLoader.js';
import { loadBundle, type LoadedBundle } from '../../functions/core/engine/loadBundle.js';
import { planScoringParts } from '../../functions/core/engine/planScoringParts.js';
import { planParts } from '../../functions/core/extract/planParts.js';
import { CARD_OFFER_BEHAVIOURS, cardOfferCsvLines, cardOfferLongCsvLines, generateCardOfferTable } from '../../functions/core/training/syntheticCardOffer.js';
import type { TrainingTable } from '../../functions/core/training/trainingTable.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

/**
 * The bundled card-offer model scores the long layout a bank exports (one row per customer per
 * month) exactly as it scores the wide one, through the CLI and its files.
 */
let work: string;
let table: TrainingTable;
let wide: string;
let long: string;
let bundle: LoadedBundle;

const write = async (file: string, lines: Iterable<string>) => {
  await pipeline(Readable.from(lines), createWriteStream(file));
  return file;
};
const score = async (input: string, name: string, ...more: string[]) => {
  const out = path.join(work, name);
  const run = await runCliCaptured(['score', '--model', 'card-offer', '--input', input, '--out', out, '--quiet', ...more]);
  return { ...run, out };
};
const text = (dir: string, name: string) => readFile(path.join(dir, name), 'utf8');
const summaryOf = async (dir: string) => JSON.parse(await text(dir, 'summary.json')) as { rows: Record<string, unknown>; longLayout?: Record<string, number> };
/** The first `n` customers of the table. */
const firstCustomers = (n: number): TrainingTable => ({ ...table, records: table.records.slice(0, n) });

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-long-'));
  table = generateCardOfferTable({ customers: 2000, seed: 21 });
  wide = await write(path.join(work, 'wide.csv'), cardOfferCsvLines(table));
  long = await write(path.join(work, 'long.csv'), cardOfferLongCsvLines(table, { seed: 5 }));
  bundle = await loadBundle(await resolveBundle('card-offer'), loadModel);
});

afterAll(async () => {
  await bundle?.model.dispose?.();
  await rm(work, { recursive: true, force: true });
});

describe('card-offer: the long layout (one row per customer per month)', () => {
  it('scores the same 2,000 customers, wide and long (rows shuffled within each customer), to an identical scores.csv, target list and drift profile', async () => {
    const longLines = (await readFile(long, 'utf8')).trimEnd().split('\n');
    expect(longLines).toHaveLength(1 + 20_000);
    expect(longLines[0]).toBe(`customer_id,period,${CARD_OFFER_BEHAVIOURS.join(',')},responded`);
    // Shuffled: the first customer's months are not in order.
    expect(longLines.slice(1, 11).map((l) => Number(l.split(',')[1]))).not.toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // Same run folder name under two parents: the run id (and so profile.json) is the same.
    const [fromWide, fromLong] = [await score(wide, 'wide/run', '--workers', '1'), await score(long, 'long/run', '--workers', '1')];
    expect([fromWide.code, fromWide.stderr, fromLong.code, fromLong.stderr]).toEqual([0, '', 0, '']);
    const scores = await text(fromLong.out, 'scores.csv');
    expect(scores.trimEnd().split('\n')).toHaveLength(1 + 2000);
    expect(scores).toBe(await text(fromWide.out, 'scores.csv'));
    // The target list, and the drift profile per feature and period, are the same too.
    const outputs = (await readdir(fromWide.out)).filter((f) => (f.endsWith('.csv') && f !== 'rejects.csv') || f === 'profile.json');
    expect(outputs).toEqual(expect.arrayContaining(['scores.csv', 'targets.csv', 'profile.json']));
    for (const file of outputs) expect(await text(fromLong.out, file), file).toBe(await text(fromWide.out, file));

    expect((await summaryOf(fromWide.out)).rows).toEqual({ read: 2000, scored: 2000, rejected: 0, rejectReasons: {} });
    const longSummary = await summaryOf(fromLong.out);
    expect(longSummary.rows).toEqual({ read: 20_000, scored: 20_000, rejected: 0, rejectReasons: {} });
    expect(longSummary.longLayout).toEqual({ customersScored: 2000, customersRejected: 0, missingPeriods: 0 });
  });

  it('refuses a long file whose customers are out of order, naming the lines and never the id', async () => {
    const lines = [...cardOfferLongCsvLines(firstCustomers(300), { seed: 5 })];
    // Customer 3's last row (line 41) moved to line 101: its other rows are lines 32–40.
    const [moved] = lines.splice(40, 1);
    lines.splice(100, 0, moved!);
    const file = await write(path.join(work, 'out-of-order.csv'), lines);
    const run = await score(file, 'out-of-order-out', '--workers', '1');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`EXTRACT_CUSTOMER_NOT_CONSECUTIVE: ${file}:101 (column "customer_id"): the rows of one customer are not consecutive: lines 32–40 and line 101 have the same "customer_id"; a long extract must be sorted by customer (ORDER BY customer_id)`);
    expect(run.stderr).not.toContain(moved!.split(',')[0]);
    expect(JSON.parse(await text(run.out, 'error.json'))).toMatchObject({ status: 'failed', retryable: false, error: { code: 'EXTRACT_CUSTOMER_NOT_CONSECUTIVE', line: 101, column: 'customer_id' } });
  });

  it('rejects a duplicate period at its line, keeps the first row of that period, and scores the customer as without it', async () => {
    const clean = await write(path.join(work, 'clean-300.csv'), cardOfferLongCsvLines(firstCustomers(300), { seed: 5 }));
    const lines = [...cardOfferLongCsvLines(firstCustomers(300), { seed: 5 })];
    // Customer 2 (lines 12–21): a second row for the period of line 15, with other values, as line 18.
    const duplicate = lines[14]!.split(',').map((cell, i) => (i >= 2 && i < 26 && cell !== '' ? String(Number(cell) + 1000) : cell)).join(',');
    lines.splice(17, 0, `${duplicate}\n`);
    const file = await write(path.join(work, 'duplicate.csv'), lines);
    const [run, reference] = [await score(file, 'duplicate-out', '--workers', '1'), await score(clean, 'clean-300-out', '--workers', '1')];
    expect([run.code, run.stderr]).toEqual([0, '']);
    const period = lines[14]!.split(',')[1];
    expect((await text(run.out, 'rejects.csv')).trimEnd().split('\n').slice(1)).toEqual([`18,period,DUPLICATE_PERIOD,a second row for period ${period} of the customer whose rows start at line 12,"${duplicate.trimEnd()}"`]);
    expect(await text(run.out, 'scores.csv')).toBe(await text(reference.out, 'scores.csv'));
    const summary = await summaryOf(run.out);
    expect(summary.rows).toEqual({ read: 3001, scored: 3000, rejected: 1, rejectReasons: { DUPLICATE_PERIOD: 1 } });
    expect(summary.longLayout).toEqual({ customersScored: 300, customersRejected: 0, missingPeriods: 0 });
  });

  it('imputes missing months as missing cells, counts them, and scores as the wide file with those cells empty', async () => {
    const dropMonths = [[0, 3], [1, 1], [1, 2], [7, 10], [250, 5]] as const;
    const file = await write(path.join(work, 'missing.csv'), cardOfferLongCsvLines(firstCustomers(300), { seed: 5, dropMonths }));
    const header = table.header!;
    const emptied = firstCustomers(300).records.map((record, c) =>
      record.map((cell, i) => (dropMonths.some(([customer, month]) => customer === c && header[i]!.endsWith(`_m${month}`)) ? '' : cell)),
    );
    const wideFile = await write(path.join(work, 'missing-wide.csv'), cardOfferCsvLines({ ...table, records: emptied }));
    const [run, reference] = [await score(file, 'missing-out', '--workers', '1'), await score(wideFile, 'missing-wide-out', '--workers', '1')];
    expect([run.code, run.stderr, reference.code]).toEqual([0, '', 0]);
    expect(await text(run.out, 'scores.csv')).toBe(await text(reference.out, 'scores.csv'));
    const summary = await summaryOf(run.out);
    expect(summary.rows).toEqual({ read: 2995, scored: 2995, rejected: 0, rejectReasons: {} });
    expect(summary.longLayout).toEqual({ customersScored: 300, customersRejected: 0, missingPeriods: 5 });
    expect(await text(run.out, 'report.md')).toContain('Long layout (one row per customer per period): customers scored 300, rejected 0; periods with no row, imputed as missing: 5.');
  });

  it('rejects every row of a customer with an unreadable cell: the reason at its row, CUSTOMER_REJECTED at the others; rows add up', async () => {
    const lines = [...cardOfferLongCsvLines(firstCustomers(300), { seed: 5 })];
    const cells = lines[4]!.split(',');
    cells[3] = 'n/a-ish';
    lines[4] = cells.join(',');
    const file = await write(path.join(work, 'bad-cell.csv'), lines);
    const run = await score(file, 'bad-cell-out', '--workers', '1');
    expect([run.code, run.stderr]).toEqual([0, '']);
    const rejects = (await text(run.out, 'rejects.csv')).trimEnd().split('\n').slice(1).map((l) => l.split(',').slice(0, 4).join(','));
    expect(rejects).toEqual(
      [2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((line) =>
        line === 5 ? `5,spend_travel,NOT_A_NUMBER,"""n/a-ish"" in ""spend_travel_m${cells[1]}"""` : `${line},,CUSTOMER_REJECTED,line 5 of the same customer was rejected (NOT_A_NUMBER)`,
      ),
    );
    const summary = await summaryOf(run.out);
    expect(summary.rows).toEqual({ read: 3000, scored: 2990, rejected: 10, rejectReasons: { NOT_A_NUMBER: 1, CUSTOMER_REJECTED: 9 } });
    expect(summary.longLayout).toEqual({ customersScored: 299, customersRejected: 1, missingPeriods: 0 });
  });

  it('split into parts on worker threads, never inside a customer, merges byte-identically with a single run', async () => {
    // The plain planner would cut customers; the scoring planner moves every cut to a change of customer.
    const bytes = await localByteRanges(long);
    const lines = (await readFile(long, 'utf8')).split('\n');
    const idAt = (line: number) => lines[line - 1]!.split(',')[0];
    const plain = await planParts(bytes, 4);
    expect(plain.slice(1).some((part) => idAt(part.firstLine) === idAt(part.firstLine - 1))).toBe(true);
    const plan = await planScoringParts(bytes, 4, bundle, long);
    expect(plan).toHaveLength(4);
    for (const part of plan.slice(1)) expect(idAt(part.firstLine)).not.toBe(idAt(part.firstLine - 1));

    const [single, parts] = [await score(long, 'single/long', '--workers', '1'), await score(long, 'parts/long', '--workers', '2', '--parts', '4')];
    expect([parts.code, parts.stderr]).toEqual([0, '']);
    const files = (await readdir(single.out)).filter((f) => f !== 'summary.json' && f !== 'report.md' && f !== 'report.html' && f !== '_SUCCESS').sort();
    expect(files).toContain('scores.csv');
    expect((await readdir(parts.out)).filter((f) => f !== 'summary.json' && f !== 'report.md' && f !== 'report.html' && f !== '_SUCCESS').sort()).toEqual(files);
    for (const file of files) expect(await text(parts.out, file), file).toBe(await text(single.out, file));
    const timeless = (s: Record<string, unknown>) => ({ ...s, startedAt: 0, finishedAt: 0, durationMs: 0 });
    expect(timeless(await summaryOf(parts.out))).toEqual(timeless(await summaryOf(single.out)));
  });

  it('in parts, a row the reader refuses before its id (an empty id) inside a customer does not split the customer: outputs as a single run', async () => {
    // Every customer gets a row with an empty id after its fifth row: wherever a cut falls, it may meet one.
    const lines = [...cardOfferLongCsvLines(table, { seed: 5 })];
    const withGaps = [lines[0]!, ...Array.from({ length: 2000 }, (_, c) => {
      const rows = lines.slice(1 + 10 * c, 11 + 10 * c);
      return [...rows.slice(0, 5), `${rows[5]!.replace(/^[^,]*/, '')}`, ...rows.slice(5)];
    }).flat()];
    const file = await write(path.join(work, 'empty-ids.csv'), withGaps);
    const [single, parts] = [
      await score(file, 'empty-ids-single', '--workers', '1', '--max-reject-rate', '0.2'),
      await score(file, 'empty-ids-parts', '--workers', '2', '--parts', '4', '--max-reject-rate', '0.2'),
    ];
    expect([single.code, single.stderr, parts.code, parts.stderr]).toEqual([0, '', 0, '']);
    for (const file of ['scores.csv', 'targets.csv', 'rejects.csv']) expect(await text(parts.out, file), file).toBe(await text(single.out, file));
    expect((await summaryOf(parts.out)).rows).toEqual({ read: 22_000, scored: 20_000, rejected: 2000, rejectReasons: { MISSING_REQUIRED: 2000 } });
  });

  it('refuses a customer whose rows come back in a later part exactly as a single pass does: same error and lines, error.json, no outputs, no spool left', async () => {
    const lines = [...cardOfferLongCsvLines(table, { seed: 5 })];
    // Customer 3's last row (line 41) moved between customers 1500 and 1501, to line 15001: its other rows are lines 32–40.
    const [moved] = lines.splice(40, 1);
    lines.splice(15_000, 0, moved!);
    const file = await write(path.join(work, 'cross-part.csv'), lines);
    // Both blocks are whole customers to the planner, and the second one lands in a later part than the first.
    const plan = await planScoringParts(await localByteRanges(file), 4, bundle, file);
    expect(plan).toHaveLength(4);
    const partOf = (line: number) => plan.findLastIndex((part) => part.firstLine <= line);
    expect(partOf(32)).toBe(partOf(40));
    expect(partOf(15_001)).toBeGreaterThan(partOf(40));

    const scratch = await mkdtemp(path.join(work, 'tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = scratch;
    let single: Awaited<ReturnType<typeof score>>;
    let parts: Awaited<ReturnType<typeof score>>;
    try {
      single = await score(file, 'cross-part-single', '--workers', '1');
      parts = await score(file, 'cross-part-parts', '--workers', '2', '--parts', '4');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    const expected = `EXTRACT_CUSTOMER_NOT_CONSECUTIVE: ${file}:15001 (column "customer_id"): the rows of one customer are not consecutive: lines 32–40 and line 15001 have the same "customer_id"; a long extract must be sorted by customer (ORDER BY customer_id)`;
    expect([single.code, parts.code]).toEqual([2, 2]);
    expect(single.stderr).toContain(expected);
    expect(parts.stderr).toBe(single.stderr.replaceAll('cross-part-single', 'cross-part-parts'));
    expect(parts.stderr).not.toContain(moved!.split(',')[0]);
    for (const run of [single, parts]) {
      expect(JSON.parse(await text(run.out, 'error.json'))).toMatchObject({ status: 'failed', retryable: false, error: { code: 'EXTRACT_CUSTOMER_NOT_CONSECUTIVE', line: 15001, column: 'customer_id' } });
      const left = await readdir(run.out);
      for (const output of ['scores.csv', 'targets.csv', 'rejects.csv', 'summary.json', 'report.md', 'report.html', '_SUCCESS']) expect(left, output).not.toContain(output);
    }
    expect((await readdir(scratch)).filter((name) => name.startsWith('propensity-'))).toEqual([]);
  });

});
