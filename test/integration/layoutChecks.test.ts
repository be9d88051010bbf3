import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../functions/core/engine/runSummary.js';
import { dataset } from '../helpers/datasets.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

let work: string;

const cli = (...args: string[]) => runCliCaptured(args);

async function score(model: string, name: string, text: string, ...extra: string[]) {
  const input = path.join(work, name);
  await writeFile(input, text);
  const out = path.join(work, `${name}-out`);
  const result = await cli('score', '--model', model, '--input', input, '--out', out, '--quiet', ...extra);
  return { ...result, input, out, files: await readdir(out).catch(() => [] as string[]) };
}

const summaryOf = async (out: string) => JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as RunSummary;

/** The first 300 rows of the audiobooks file (header-less, 12 fields, CRLF). */
let audiobooks: string[];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-layout-'));
  audiobooks = (await readFile(dataset('audiobooks/Audiobooks_data.csv'), 'utf8')).split('\r\n').slice(0, 300);
});

describe('the spec delimiter is a hint (bundled models, real datasets)', () => {
  it('scores a comma copy of bank-full.csv with exactly the scores of the original, and records the comma', async () => {
    const original = await readFile(dataset('bank-marketing/bank-full.csv'), 'utf8');
    const semi = await score('bank-marketing', 'bank.csv', original);
    const comma = await score('bank-marketing', 'bank-comma.csv', original.replaceAll(';', ','));
    expect([semi.code, comma.code, comma.stderr]).toEqual([0, 0, '']);
    expect(await readFile(path.join(comma.out, 'scores.csv'), 'utf8')).toBe(await readFile(path.join(semi.out, 'scores.csv'), 'utf8'));
    expect((await summaryOf(comma.out)).delimiter).toBe(',');
    expect((await summaryOf(semi.out)).delimiter).toBe(';');
    expect((await summaryOf(comma.out)).rows).toMatchObject({ read: 45_211, scored: 45_211, rejected: 0 });
  });

  it('scores a `;` copy of the e-commerce data', async () => {
    const text = (await readFile(dataset('ecommerce-churn/E_Commerce_Dataset.csv'), 'utf8')).replaceAll(',', ';');
    const run = await score('ecommerce-churn', 'churn-semi.csv', text);
    expect(run.code).toBe(0);
    expect(await summaryOf(run.out)).toMatchObject({ delimiter: ';', rows: { read: 5_630, scored: 5_630, rejected: 0 } });
  });

  it('header-less `;` copy of audiobooks: same scores as the original; with a column dropped too, EXTRACT_DELIMITER naming both', async () => {
    const original = await score('audiobooks', 'ab.csv', `${audiobooks.join('\r\n')}\r\n`);
    const semi = await score('audiobooks', 'ab-semi.csv', `${audiobooks.map((l) => l.replaceAll(',', ';')).join('\r\n')}\r\n`);
    expect([original.code, semi.code]).toEqual([0, 0]);
    expect(await readFile(path.join(semi.out, 'scores.csv'), 'utf8')).toBe(await readFile(path.join(original.out, 'scores.csv'), 'utf8'));
    const dropped = audiobooks.map((l) => l.split(',').filter((_, i) => i !== 5).join(';'));
    const run = await score('audiobooks', 'ab-dropped-semi.csv', `${dropped.join('\n')}\n`);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`EXTRACT_DELIMITER: ${run.input}:1: delimiter ";" found (11 fields per record), "," expected (1 field per record); the model's spec expects 12 fields`);
    expect(run.files).toEqual(['error.json']);
  });
});

describe('header-less field count and the reject-rate guard', () => {
  it('a first row of 11 or 13 fields rejects only that row (FIELD_COUNT at line 1)', async () => {
    for (const [name, first] of [['ab-11.csv', audiobooks[0]!.split(',').slice(0, 11).join(',')], ['ab-13.csv', `${audiobooks[0]!},1`]] as const) {
      const run = await score('audiobooks', name, `${[first, ...audiobooks.slice(1)].join('\r\n')}\r\n`);
      expect(run.code).toBe(0);
      expect((await summaryOf(run.out)).rows).toEqual({ read: 300, scored: 299, rejected: 1, rejectReasons: { FIELD_COUNT: 1 } });
      const rejects = (await readFile(path.join(run.out, 'rejects.csv'), 'utf8')).split('\n');
      expect(rejects[1]).toMatch(new RegExp(`^1,,FIELD_COUNT,"expected 12 fields, found ${first.split(',').length}",`));
    }
  });

  it('a column dropped: every row is a FIELD_COUNT reject and the run fails with EXTRACT_TOO_MANY_REJECTS, error.json and no _SUCCESS', async () => {
    const dropped = audiobooks.map((l) => l.split(',').filter((_, i) => i !== 5).join(','));
    const run = await score('audiobooks', 'ab-dropped.csv', `${dropped.join('\r\n')}\r\n`);
    expect(run.code).toBe(2);
    expect(run.files).toEqual(['error.json']);
    const { error } = JSON.parse(await readFile(path.join(run.out, 'error.json'), 'utf8')) as { error: { code: string; message: string } };
    expect(error.code).toBe('EXTRACT_TOO_MANY_REJECTS');
    expect(error.message).toBe(
      `${run.input}: 300 of 300 rows rejected (100 %), more than the limit of 5 %; most common reasons: FIELD_COUNT 300; ` +
        'to score anyway and see every reject, raise the limit (maxRejectRate; CLI --max-reject-rate)',
    );
    // No customer value (ids are the first field) in the error.
    expect(dropped.some((l) => error.message.includes(l.split(',')[0]!))).toBe(false);
  });

  it('--max-reject-rate raises the limit for one run; a bad value is a usage error', async () => {
    const lines = [...audiobooks.slice(0, 30).map((l) => l.split(',').slice(0, 11).join(',')), ...audiobooks.slice(30)];
    const text = `${lines.join('\r\n')}\r\n`;
    expect((await score('audiobooks', 'ab-10pct.csv', text)).stderr).toContain('30 of 300 rows rejected (10 %), more than the limit of 5 %');
    const run = await score('audiobooks', 'ab-10pct-ok.csv', text, '--max-reject-rate', '0.1');
    expect(run.code).toBe(0);
    expect(run.files).toContain('_SUCCESS');
    expect((await score('audiobooks', 'ab-bad-rate.csv', text, '--max-reject-rate', '5')).code).toBe(2);
  });
});

describe('duplicate header names', () => {
  it('a header naming Tenure twice is refused with EXTRACT_DUPLICATE_COLUMN naming both positions', async () => {
    const lines = (await readFile(dataset('ecommerce-churn/E_Commerce_Dataset.csv'), 'utf8')).split('\n').slice(0, 50);
    const header = lines[0]!.split(',');
    header[5] = 'Tenure';
    const run = await score('ecommerce-churn', 'churn-dup.csv', [header.join(','), ...lines.slice(1)].join('\n'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`EXTRACT_DUPLICATE_COLUMN: ${run.input}:1:6: column "Tenure" appears twice in the header (fields 3 and 6)`);
    expect(run.files).toEqual(['error.json']);
  });
});
