import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scoreCommand } from '../../../functions/cli/commands/score.js';
import { ExtractError } from '../../../functions/core/errors.js';
import { dataset } from '../../helpers/datasets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'layout-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first `rows` data lines of a real dataset (and its header line when it has one), each line passed through `change`. */
function sample(relative: string, rows: number, header: boolean, change: (fields: string[]) => string[], delimiter: string): string {
  const lines = readFileSync(dataset(relative), 'utf8').split(/\r?\n/).filter((l) => l !== '');
  const head = header ? [lines[0]!] : [];
  const body = lines.slice(header ? 1 : 0, (header ? 1 : 0) + rows).map((l) => change(l.split(delimiter)).join(delimiter));
  return `${[...head, ...body].join('\n')}\n`;
}

async function score(model: string, text: string, name: string, skipLayoutCheck = false) {
  const input = path.join(dir, name);
  writeFileSync(input, text);
  return scoreCommand({ model, input, out: path.join(dir, `${name}-${String(skipLayoutCheck)}`), quiet: true, skipLayoutCheck });
}

async function refusal(promise: Promise<unknown>): Promise<ExtractError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ExtractError);
  expect((error as ExtractError).code).toBe('EXTRACT_LAYOUT_SUSPECT');
  return error as ExtractError;
}

describe('layout plausibility gate (EXTRACT_LAYOUT_SUSPECT)', () => {
  it('refuses bank-full with age and balance swapped under the original header, naming age only, no value', async () => {
    const swap = (f: string[]) => [f[5]!, ...f.slice(1, 5), f[0]!, ...f.slice(6)];
    const text = sample('bank-marketing/bank-full.csv', 300, true, swap, ';');
    const file = path.join(dir, 'bank-swapped.csv');

    const error = await refusal(score('bank-marketing', text, 'bank-swapped.csv'));

    expect(error.location).toEqual({ file, line: 2 });
    expect(error.message).toBe(
      `${file}:2: the first 200 rows look nothing like the training data in 1 of 15 feature columns: age (23 %) plausible; columns shifted, missing or swapped? Fix the extract, or skip this check for the run (--skip-layout-check, SKIP_LAYOUT_CHECK=true) if the population really changed`,
    );
    expect(error.message).not.toMatch(/2143|management|married/);
    expect(readFileSync(path.join(dir, 'bank-swapped.csv-false', 'error.json'), 'utf8')).toContain('EXTRACT_LAYOUT_SUSPECT');
  });

  it('refuses header-less audiobooks with a middle column dropped and one appended (the field count still fits)', async () => {
    const shift = (f: string[]) => [...f.slice(0, 5), ...f.slice(6), '0'];
    const text = sample('audiobooks/Audiobooks_data.csv', 300, false, shift, ',');
    const file = path.join(dir, 'audiobooks-shifted.csv');

    const error = await refusal(score('audiobooks', text, 'audiobooks-shifted.csv'));

    expect(error.location).toEqual({ file, line: 1 });
    expect(error.message).toContain('in 2 of 10 feature columns: review (0 %), review_10_10 (2 %) plausible;');
    expect(error.message).not.toMatch(/1620|19\.73/);
  });

  it('scores the same swapped file when the run skips the check (a real population shift)', async () => {
    const swap = (f: string[]) => [f[5]!, ...f.slice(1, 5), f[0]!, ...f.slice(6)];
    const text = sample('bank-marketing/bank-full.csv', 300, true, swap, ';');

    const { summary } = await score('bank-marketing', text, 'bank-swapped-skip.csv', true);

    expect(summary.rows.scored).toBe(300);
  });

  it.each([
    ['bank-marketing', 'bank-marketing/bank-full.csv', true, ';'],
    ['audiobooks', 'audiobooks/Audiobooks_data.csv', false, ','],
    ['ecommerce-churn', 'ecommerce-churn/E_Commerce_Dataset.csv', true, ','],
    ['segmentation', 'segmentation/Train.csv', true, ','],
  ] as const)('lets %s score the first 1000 rows of its real dataset', async (model, relative, header, delimiter) => {
    const text = sample(relative, 1000, header, (f) => f, delimiter);

    const { summary } = await score(model, text, `${model}-real.csv`);

    expect(summary.rows.read).toBe(1000);
  });
});
