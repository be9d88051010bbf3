import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openExtract, planParts, type ExtractPart } from '../../../functions/core/extract/readExtract.js';
import type { ByteRangeReader } from '../../../functions/core/extract/planParts.js';
import { localByteRanges } from '../../../functions/adapters/fs/localByteRanges.js';
import { datasetPath, fixturePath, readAll, type ReadResult } from './readExtractHelpers.js';

const dir = mkdtempSync(join(tmpdir(), 'plan-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Reads each part as the engine would (header only in the first) and concatenates the results. */
async function readParts(path: string, parts: ExtractPart[]): Promise<Omit<ReadResult, 'stats' | 'delimiter'>> {
  const merged: Omit<ReadResult, 'stats' | 'delimiter'> = { header: null, records: [], rejects: [] };
  let delimiter: ',' | 'auto' = 'auto';
  for (const part of parts) {
    const stream = createReadStream(path, { start: part.start, end: part.end - 1, highWaterMark: 4096 });
    const extract =
      merged.header === null
        ? await openExtract(stream, { source: path, header: true, delimiter: 'auto' })
        : await openExtract(stream, { source: path, header: false, delimiter, headerFields: merged.header, firstLine: part.firstLine });
    merged.header ??= extract.header;
    delimiter = extract.delimiter as ',';
    for await (const item of extract.items) {
      if (item.kind === 'record') merged.records.push(item.record);
      else merged.rejects.push(item.reject);
    }
  }
  return merged;
}

function expectCoverage(parts: ExtractPart[], size: number, bytes: Buffer): void {
  expect(parts[0]!.start).toBe(0);
  expect(parts.at(-1)!.end).toBe(size);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    expect(part.end).toBeGreaterThan(part.start);
    if (i > 0) {
      expect(part.start).toBe(parts[i - 1]!.end);
      // Each later part starts right after a line feed, and firstLine counts the feeds before it.
      expect(bytes[part.start - 1]).toBe(0x0a);
      expect(part.firstLine).toBe(bytes.subarray(0, part.start).filter((b) => b === 0x0a).length + 1);
    }
  }
}

describe('planParts', () => {
  it('splits the bank-marketing file into 4 line-aligned ranges whose records equal the whole file', async () => {
    const path = datasetPath('bank-marketing/bank-full.csv');
    const bytes = readFileSync(path);

    const parts = await planParts(await localByteRanges(path), 4);

    expect(parts).toHaveLength(4);
    expectCoverage(parts, bytes.length, bytes);
    for (const part of parts) expect(part.end - part.start).toBeLessThan(bytes.length / 4 + 200);
    const whole = await readAll(bytes);
    const pieced = await readParts(path, parts);
    expect(pieced.header).toEqual(whole.header);
    expect(pieced.records).toHaveLength(45_211);
    expect(pieced.records).toEqual(whole.records);
  });

  it('never cuts a quoted field that spans lines', async () => {
    // Every record is 3 lines long; the only line feeds outside quotes end records.
    const text = 'id,note\n' + Array.from({ length: 40 }, (_, i) => `${i},"line a\nline b\nline c"\n`).join('');
    const path = join(dir, 'multiline.csv');
    writeFileSync(path, text);

    const parts = await planParts(await localByteRanges(path), 5);

    expect(parts).toHaveLength(5);
    expectCoverage(parts, text.length, Buffer.from(text));
    for (const part of parts.slice(1)) expect(text.slice(part.start, part.start + 10)).toMatch(/^\d+,"line a/);
    expect((await readParts(path, parts)).records).toEqual((await readAll(text)).records);
  });

  it('returns one range for a gzip file, a single part, or an empty file', async () => {
    const gz = join(dir, 'x.csv.gz');
    writeFileSync(gz, gzipSync(readFileSync(fixturePath('bank-marketing-30.csv'))));
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '');

    expect(await planParts(await localByteRanges(gz), 4)).toEqual([{ start: 0, end: readFileSync(gz).length, firstLine: 1 }]);
    expect(await planParts(await localByteRanges(fixturePath('bank-marketing-30.csv')), 1)).toEqual([{ start: 0, end: 3134, firstLine: 1 }]);
    expect(await planParts(await localByteRanges(empty), 3)).toEqual([{ start: 0, end: 0, firstLine: 1 }]);
  });

  it('gives fewer ranges than asked when the file has fewer lines, never an empty one', async () => {
    const path = join(dir, 'short.csv');
    writeFileSync(path, 'a,b\n1,2\n3,4');

    const parts = await planParts(await localByteRanges(path), 10);

    expect(parts).toEqual([
      { start: 0, end: 4, firstLine: 1 },
      { start: 4, end: 8, firstLine: 2 },
      { start: 8, end: 11, firstLine: 3 },
    ]);
  });

  it('plans the same ranges through any byte-range reader (in memory here, S3 ranged GETs later), asking only for ranges inside the file', async () => {
    // Prepare: the bank file in memory, behind a reader that records every range asked for.
    const path = datasetPath('bank-marketing/bank-full.csv');
    const bytes = readFileSync(path);
    const asked: Array<[number, number]> = [];
    const inMemory: ByteRangeReader = {
      size: bytes.length,
      read: (start, end) => {
        asked.push([start, end]);
        return Promise.resolve(bytes.subarray(start, end));
      },
    };
    // Act
    const parts = await planParts(inMemory, 3);
    // Assess
    expect(parts).toEqual(await planParts(await localByteRanges(path), 3));
    expect(asked.length).toBeGreaterThan(1);
    for (const [start, end] of asked) {
      expect(start).toBeGreaterThanOrEqual(0);
      expect(end).toBeGreaterThan(start);
      expect(end).toBeLessThanOrEqual(bytes.length);
    }
  });

  it('covers the file exactly and reads back the same records for random tables (property)', async () => {
    const cell = fc.array(fc.constantFrom('a', '1', ',', '"', '\n', '\r\n', 'é', ' '), { maxLength: 5 }).map((p) => p.join(''));
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(cell, cell, cell), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        async (rows, count) => {
          const text = stringify([['x', 'y', 'z'], ...rows], { quoted_match: /[\r\n]/ });
          const path = join(dir, `p${run++}.csv`);
          writeFileSync(path, text);
          const bytes = readFileSync(path);

          const parts = await planParts(await localByteRanges(path), count);

          expect(parts.length).toBeLessThanOrEqual(count);
          expectCoverage(parts, bytes.length, bytes);
          const whole = await readAll(bytes);
          const pieced = await readParts(path, parts);
          expect(pieced.records).toEqual(whole.records);
          expect(pieced.rejects).toEqual(whole.rejects);
        },
      ),
      { numRuns: 150 },
    );
  });
});
