import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TempFileSpool } from '../../../functions/adapters/fs/tempFileSpool.js';
import { RankedRunWriter, mergeRankedRuns, type RankedCandidate } from '../../../functions/core/engine/rankedRuns.js';

let parent: string;
beforeAll(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'propensity-ranked-test-'));
});
afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

type Row = { key: number; line: number; a: number; b: number; text: string };

/** Writes rows (in line order) as parts of `partSize` rows each, runs of `runRows`; merges them back. */
async function roundTrip(rows: Row[], options: { partSize: number; runRows: number; keep: number | null; limit?: number }): Promise<Row[]> {
  const spools: TempFileSpool[] = [];
  const runs: Array<{ spool: TempFileSpool; channel: string }> = [];
  try {
    for (let start = 0; start < rows.length || spools.length === 0; start += options.partSize) {
      const spool = await TempFileSpool.create(parent);
      spools.push(spool);
      const writer = new RankedRunWriter(spool, options.keep === null ? null : [{ cap: options.keep, takes: () => true }], options.runRows);
      for (const r of rows.slice(start, start + options.partSize)) writer.add(r.key, r.line, r.a, r.b, r.text);
      const channels = writer.finish();
      await spool.close();
      runs.push(...channels.map((channel) => ({ spool, channel })));
    }
    const merged: Row[] = [];
    await mergeRankedRuns(runs, (c: RankedCandidate) => {
      merged.push({ key: c.key, line: c.line, a: c.a, b: c.b, text: c.text });
      return options.limit === undefined || merged.length < options.limit;
    });
    return merged;
  } finally {
    await Promise.all(spools.map((s) => s.dispose()));
  }
}

const ranked = (rows: Row[]) => [...rows].sort((x, y) => y.key - x.key || x.line - y.line);

describe('ranked runs (external sort of target candidates)', () => {
  it('merges runs of several parts into exact rank order: key descending, ties by line', async () => {
    // Known input: ties on key across parts and runs, negative keys, ids with a bar, quotes and non-ASCII.
    const rows: Row[] = [
      { key: 5, line: 2, a: 0.5, b: 10, text: 'c1' },
      { key: -3, line: 3, a: 0.1, b: 10, text: '"a|b"' },
      { key: 5, line: 4, a: 0.5, b: 10, text: 'Zoë' },
      { key: 9, line: 5, a: 0.9, b: 10, text: 'c4' },
      { key: 0, line: 6, a: 0.3, b: 10, text: '' },
      { key: 5, line: 7, a: 0.5, b: 10, text: 'c6' },
      { key: 9, line: 8, a: 0.9, b: 10, text: 'c7' },
    ];
    const merged = await roundTrip(rows, { partSize: 3, runRows: 2, keep: null });
    expect(merged.map((r) => r.line)).toEqual([5, 8, 2, 4, 7, 6, 3]);
    expect(merged.find((r) => r.line === 4)).toEqual(rows[2]);
    expect(merged.find((r) => r.line === 3)?.text).toBe('"a|b"');
  });

  it('keeps only the best `keep` of each run, and stops when the reader has enough', async () => {
    const rows: Row[] = Array.from({ length: 50 }, (_, i) => ({ key: (i * 37) % 11, line: i + 2, a: i / 50, b: 1, text: `c${i}` }));
    const top5 = ranked(rows).slice(0, 5);
    expect(await roundTrip(rows, { partSize: 20, runRows: 7, keep: 5, limit: 5 })).toEqual(top5);
    expect(await roundTrip(rows, { partSize: 50, runRows: 50, keep: 5 })).toEqual(top5);
  });

  it('keeps what a filtered reader reaches beyond the budget of another (a threshold list and the best list)', async () => {
    // Reader 1 takes the best 1 with a ≥ 0.5; reader 2 the best 1 of all. The row reader 1 needs ranks second.
    const rows: Row[] = [
      { key: 10, line: 2, a: 0.1, b: 0, text: 'best by key' },
      { key: 5, line: 3, a: 0.6, b: 0, text: 'first with a ≥ 0.5' },
      { key: 1, line: 4, a: 0.9, b: 0, text: 'never needed' },
    ];
    const spool = await TempFileSpool.create(parent);
    try {
      const writer = new RankedRunWriter(spool, [{ cap: 1, takes: (_key, a) => a >= 0.5 }, { cap: 1, takes: () => true }], 8);
      for (const r of rows) writer.add(r.key, r.line, r.a, r.b, r.text);
      const runs = writer.finish().map((channel) => ({ spool, channel }));
      await spool.close();
      const lines: number[] = [];
      await mergeRankedRuns(runs, (c) => lines.push(c.line) > 0);
      expect(lines).toEqual([2, 3]);
    } finally {
      await spool.dispose();
    }
  });

  it('ranks confidences (non-integer keys) with the comparator path', async () => {
    const rows: Row[] = [0.25, 0.75, 0.5, 0.75, 0.1].map((key, i) => ({ key, line: i + 1, a: i % 3, b: 0, text: `s${i}` }));
    expect((await roundTrip(rows, { partSize: 2, runRows: 2, keep: null })).map((r) => r.line)).toEqual([2, 4, 3, 1, 5]);
  });

  it('gives the reference order for any rows, any split into parts and runs (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: -1000, max: 1000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.string({ maxLength: 6 })), { maxLength: 60 }),
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 1, max: 9 }),
        async (cells, partSize, runRows) => {
          const rows = cells.map(([key, a, text], i) => ({ key, line: i + 2, a, b: 3.25, text }));
          expect(await roundTrip(rows, { partSize, runRows, keep: null })).toEqual(ranked(rows));
        },
      ),
      { numRuns: 40 },
    );
  });
});
