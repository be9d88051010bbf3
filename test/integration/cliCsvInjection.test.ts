import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../functions/core/engine/runSummary.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const HEADER =
  'CustomerID,Churn,Tenure,PreferredLoginDevice,CityTier,WarehouseToHome,PreferredPaymentMode,Gender,HourSpendOnApp,NumberOfDeviceRegistered,PreferedOrderCat,SatisfactionScore,MaritalStatus,NumberOfAddress,Complain,OrderAmountHikeFromlastYear,CouponUsed,OrderCount,DaySinceLastOrder,CashbackAmount';
/** One customer of E_Commerce_Dataset.csv (id 50001) without its id: every row below scores alike. */
const GOOD = '1,4.0,Mobile Phone,3,6.0,Debit Card,Female,3.0,3,Laptop & Accessory,2,Single,9,1,11.0,1.0,1.0,5.0,159.93';
/** The same with a Tenure that is not a number: rejected. */
const BAD = GOOD.replace('1,4.0,', '1,abc,');

/** Ids as they come out of csv-parse, and as the extract writes them (quoted where CSV needs it). */
const IDS: ReadonlyArray<{ id: string; csv: string; neutralised: string }> = [
  { id: '=HYPERLINK("http://x","y")', csv: '"=HYPERLINK(""http://x"",""y"")"', neutralised: `'=HYPERLINK("http://x","y")` },
  { id: "+cmd|' /C calc'!A0", csv: "+cmd|' /C calc'!A0", neutralised: "'+cmd|' /C calc'!A0" },
  { id: '@SUM(1+1)', csv: '@SUM(1+1)', neutralised: "'@SUM(1+1)" },
  { id: '-1+1', csv: '-1+1', neutralised: "'-1+1" },
  { id: '-42', csv: '-42', neutralised: '-42' },
  { id: 'a,b', csv: '"a,b"', neutralised: 'a,b' },
  { id: 'say "hi"', csv: '"say ""hi"""', neutralised: 'say "hi"' },
  { id: 'A\nB', csv: '"A\nB"', neutralised: 'A\nB' },
  { id: 'C\r\nD', csv: '"C\r\nD"', neutralised: 'C\r\nD' },
  { id: 'E\rF', csv: '"E\rF"', neutralised: 'E\rF' },
  { id: 'Zürich 😀', csv: 'Zürich 😀', neutralised: 'Zürich 😀' },
  { id: 'plain-1', csv: 'plain-1', neutralised: 'plain-1' },
  { id: 'plain-2', csv: 'plain-2', neutralised: 'plain-2' },
];
/**
 * Rejected rows: a multi-line quoted id, and a row whose raw text starts with `@`. Lines count from
 * the header (1); the ids with LF, CRLF and a lone CR take two lines each (each is a line break, as in an editor).
 */
const REJECTED = [
  { raw: `"X\nY",${BAD}`, line: '18' },
  { raw: `@evil,${BAD}`, line: '20' },
];
const EXTRACT = `${[HEADER, ...IDS.map((r) => `${r.csv},${GOOD}`), ...REJECTED.map((r) => r.raw)].join('\n')}\n`;

let work: string;
let input: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-csv-injection-'));
  input = path.join(work, 'extract.csv');
  await writeFile(input, EXTRACT);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCliCaptured(args);

async function outputs(out: string) {
  const csv = async (name: string) => parse<Record<string, string>>(await readFile(path.join(out, name), 'utf8'), { columns: true });
  return {
    scores: await csv('scores.csv'),
    targets: await csv('targets.csv'),
    rejects: await csv('rejects.csv'),
    summary: JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as RunSummary,
  };
}

describe('propensity score: CSV injection and ids that need quoting', () => {
  it('exits 0 through the real binary, neutralises formula cells and keeps multi-line ids whole', async () => {
    // Act: the real process, so an unsettled promise (exit 13) or a crash would show.
    const out = path.join(work, 'protected');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(REPO, 'bin/propensity.mjs'), 'score', '--model', 'ecommerce-churn', '--input', input, '--out', out, '--quiet'], { cwd: REPO });
    expect(stderr).toBe('');
    expect(stdout).toBe('');

    // Assess: every row scored or rejected, in file order.
    const { scores, targets, rejects, summary } = await outputs(out);
    expect(summary.rows).toMatchObject({ read: IDS.length + REJECTED.length, scored: IDS.length, rejected: REJECTED.length });
    expect(summary.rows.read).toBe(summary.rows.scored + summary.rows.rejected);
    expect(summary.csvInjectionProtection).toBe(true);
    expect(scores.map((r) => r.CustomerID)).toEqual(IDS.map((r) => r.neutralised));
    expect(new Set(targets.map((r) => r.CustomerID))).toEqual(new Set(IDS.map((r) => r.neutralised)));
    expect(targets.length).toBe(IDS.length); // the same customer everywhere: all or none is selected

    expect(rejects).toEqual([
      { line: REJECTED[0]!.line, column: 'Tenure', reason: 'NOT_A_NUMBER', detail: '"abc" in "Tenure"', raw: REJECTED[0]!.raw },
      { line: REJECTED[1]!.line, column: 'Tenure', reason: 'NOT_A_NUMBER', detail: '"abc" in "Tenure"', raw: `'${REJECTED[1]!.raw}` },
    ]);
  });

  it('writes the raw ids with --no-csv-protection, and says so in summary.json', async () => {
    const out = path.join(work, 'raw');
    const { code, stderr } = await cli('score', '--model', 'ecommerce-churn', '--input', input, '--out', out, '--quiet', '--no-csv-protection');
    expect(stderr).toBe('');
    expect(code).toBe(0);

    const { scores, targets, rejects, summary } = await outputs(out);
    expect(summary.csvInjectionProtection).toBe(false);
    expect(summary.rows).toMatchObject({ read: IDS.length + REJECTED.length, scored: IDS.length, rejected: REJECTED.length });
    expect(scores.map((r) => r.CustomerID)).toEqual(IDS.map((r) => r.id));
    expect(new Set(targets.map((r) => r.CustomerID))).toEqual(new Set(IDS.map((r) => r.id)));
    expect(rejects.map((r) => r.raw)).toEqual(REJECTED.map((r) => r.raw));
  });
});
