import { readdir } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempFileSpool } from '../../../functions/adapters/fs/tempFileSpool.js';
import { joinRunIndex, type RunCsv } from '../../../functions/core/runIndex/joinRunIndex.js';
import { formatRunIndexRow, parseRunIndexKey, runIndexKey, type RunIndexRow } from '../../../functions/core/runIndex/runIndex.js';

function each<T>(items: readonly T[]): AsyncIterable<T> {
  return (async function* () {
    for (const item of items) yield await Promise.resolve(item);
  })();
}

const csv = (header: string[], rows: string[][]): RunCsv => ({ header, records: each(rows) });

// A binary run: scores.csv in file order, targets.csv ranked (another order), an id that needs quoting, a duplicate id.
const scoresHeader = ['customer_id', 'probability', 'predicted', 'decile'];
const scores = [
  ['c1', '0.100000', 'no', '5'],
  ['c2', '0.900000', 'yes', '1'],
  ['a,b', '0.700000', 'yes', '2'],
  ['c4', '0.200000', 'no', '4'],
  ['c5', '0.800000', 'yes', '1'],
  ['c1', '0.150000', 'no', '5'],
];
const targetsHeader = ['customer_id', 'rank', 'probability', 'value', 'expected_value'];
const targets = [
  ['c2', '1', '0.900000', '120', '98'],
  ['c5', '2', '0.800000', '100', '70'],
  ['a,b', '3', '0.700000', '50', '25'],
];
const expected: RunIndexRow[] = [
  { id: 'c1', score: '0.100000', selected: false, value: '' },
  { id: 'c2', score: '0.900000', selected: true, value: '120' },
  { id: 'a,b', score: '0.700000', selected: true, value: '50' },
  { id: 'c4', score: '0.200000', selected: false, value: '' },
  { id: 'c5', score: '0.800000', selected: true, value: '100' },
  { id: 'c1', score: '0.150000', selected: false, value: '' },
];

let parent: string;
beforeEach(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'join-run-index-'));
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

async function join(maxTargetsInMemory: number): Promise<RunIndexRow[]> {
  const rows: RunIndexRow[] = [];
  const input = { source: 'outputs/m/run/', scores: csv(scoresHeader, scores), targets: csv(targetsHeader, targets), selected: targets.length, spool: tempFileSpool({ parent }), maxTargetsInMemory };
  for await (const row of joinRunIndex(input)) rows.push(row);
  return rows;
}

describe('joinRunIndex', () => {
  it('gives one row per scored row, in scores.csv order, with the selection and value of targets.csv', async () => {
    expect(await join(100)).toEqual(expected);
  });

  it('gives the same rows when the targets do not fit in memory (hash partitions on the spool), and leaves no temp folder behind', async () => {
    // Prepare: 3 targets, 1 in memory at a time → 3 partitions.
    // Act
    const rows = await join(1);
    // Assess
    expect(rows).toEqual(expected);
    expect(await readdir(parent)).toEqual([]);
  });

  it('takes the confidence of a multiclass run, whose target list has no value', async () => {
    const rows: RunIndexRow[] = [];
    const input = {
      source: 'outputs/m/run/',
      scores: csv(['id', 'p_a', 'p_b', 'predicted', 'confidence', 'decile'], [['x', '0.3', '0.7', 'b', '0.700000', '1'], ['y', '0.6', '0.4', 'a', '0.600000', '2']]),
      targets: csv(['id', 'rank', 'segment', 'confidence', 'action'], [['y', '1', 'a', '0.600000', 'call']]),
      selected: 1,
      spool: tempFileSpool({ parent }),
    };
    for await (const row of joinRunIndex(input)) rows.push(row);
    expect(rows).toEqual([
      { id: 'x', score: '0.700000', selected: false, value: '' },
      { id: 'y', score: '0.600000', selected: true, value: '' },
    ]);
  });
});

describe('run index layout and format', () => {
  it('keys an index by model, UTC day of the commit and run id, and reads the key back', () => {
    const key = runIndexKey('index/', 'bank-marketing', new Date('2026-12-01T23:59:59.999Z'), 'calls-0a1b2c3d4e5f');
    expect(key).toBe('index/bank-marketing/2026-12-01/calls-0a1b2c3d4e5f.csv.gz');
    expect(parseRunIndexKey(key, 'index/', 'bank-marketing')).toEqual({ day: '2026-12-01', runId: 'calls-0a1b2c3d4e5f' });
    expect(parseRunIndexKey('index/bank-marketing/latest/x.csv.gz', 'index/', 'bank-marketing')).toBeUndefined();
    expect(parseRunIndexKey('index/other/2026-12-01/x.csv.gz', 'index/', 'bank-marketing')).toBeUndefined();
  });

  it('writes a row as CSV, quoting only where CSV needs it and leaving the run\'s text as it is', () => {
    expect(expected.map(formatRunIndexRow).join('')).toBe('c1,0.100000,0,\nc2,0.900000,1,120\n"a,b",0.700000,1,50\nc4,0.200000,0,\nc5,0.800000,1,100\nc1,0.150000,0,\n');
    expect(formatRunIndexRow({ id: "'=cmd", score: '0.5', selected: false, value: '' })).toBe("'=cmd,0.5,0,\n");
  });
});
