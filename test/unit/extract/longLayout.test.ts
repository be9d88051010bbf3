import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ExtractError } from '../../../functions/core/errors.js';
import { ClosedCustomerIds } from '../../../functions/core/extract/closedCustomerIds.js';
import { alignPartsToCustomers, idOf } from '../../../functions/core/extract/customerBoundaries.js';
import { longLayoutFor, readLongCustomers } from '../../../functions/core/extract/longLayout.js';
import { planParts, type ByteRangeReader } from '../../../functions/core/extract/planParts.js';
import { openExtract, type ExtractItem, type ExtractRecord } from '../../../functions/core/extract/readExtract.js';
import { layoutExpectation } from '../../../functions/core/spec/columnLayout.js';
import { parseFeatureSpec, type FeatureSpecInput } from '../../../functions/core/spec/featureSpec.js';
import type { RowReject } from '../../../functions/core/errors.js';

/** Two behaviours over three months, read long by `month` numbers. */
const specInput = (periods: 'number' | 'latest' = 'number'): FeatureSpecInput => ({
  columns: [
    { name: 'id', role: 'id' },
    ...['a', 'b'].flatMap((feature) => [1, 2, 3].map((period) => ({ name: `${feature}_m${period}`, role: 'feature' as const, sequence: { group: 'monthly', feature, period } }))),
    { name: 'label', role: 'target', type: 'categorical' as const },
  ],
  long: { periodColumn: 'month', periods },
});
const spec = parseFeatureSpec(specInput());

async function readLong(text: string, periods: 'number' | 'latest' = 'number'): Promise<{ records: ExtractRecord[]; rejects: RowReject[]; header: readonly string[]; counts: () => unknown }> {
  const longSpec = parseFeatureSpec(specInput(periods));
  const extract = await openExtract(Readable.from([Buffer.from(text)]), { source: 'long.csv', header: true, delimiter: ',' });
  const reader = readLongCustomers(longSpec, extract.header, 'long.csv', extract.nextBatch);
  if (!reader) throw new Error('expected a long layout');
  const records: ExtractRecord[] = [];
  const rejects: RowReject[] = [];
  for (let items: ExtractItem[] | null = await reader.nextBatch(); items !== null; items = await reader.nextBatch()) {
    for (const item of items) {
      if (item.kind === 'record') records.push(item.record);
      else rejects.push(item.reject);
    }
  }
  return { records, rejects, header: reader.header, counts: () => ({ rows: reader.rows, ...reader.counts() }) };
}

describe('the long layout of a sequence spec', () => {
  it('is chosen by the period column: a header without it is wide', () => {
    expect(longLayoutFor(spec, ['id', 'a_m1', 'a_m2', 'a_m3', 'b_m1', 'b_m2', 'b_m3'], 'wide.csv')).toBeNull();
    expect(longLayoutFor(spec, ['id', 'Month', 'b', 'a', 'label'], 'long.csv')?.wideHeader).toEqual(['id', 'label', 'a_m1', 'a_m2', 'a_m3', 'b_m1', 'b_m2', 'b_m3']);
  });

  it('takes the spec\'s delimiter as a hint for a long file as for a wide one: a ";" long file is read with ";"', async () => {
    const commaSpec = parseFeatureSpec({ ...specInput(), file: { header: true, delimiter: ',' } });
    const open = (text: string) => openExtract(Readable.from([Buffer.from(text)]), { source: 'x.csv', header: true, delimiter: ',', expect: layoutExpectation(commaSpec) });
    expect((await open('id;month;a;b\n1;1;2;3\n')).delimiter).toBe(';');
    expect((await open('id;a_m1;a_m2;a_m3;b_m1;b_m2;b_m3\n1;1;2;3;4;5;6\n')).delimiter).toBe(';');
    expect((await open('id,month,a,b\n1,1,2,3\n')).delimiter).toBe(',');
  });

  it('refuses a long file without a sequence feature, naming it', () => {
    const error = (() => {
      try {
        return longLayoutFor(spec, ['id', 'month', 'a'], 'long.csv');
      } catch (e) {
        return e;
      }
    })() as ExtractError;
    expect(error).toBeInstanceOf(ExtractError);
    expect(error.code).toBe('EXTRACT_MISSING_COLUMN');
    expect(error.message).toBe('long.csv:1 (column "b"): required column "b" is missing (a long extract, read by its period column "month")');
  });

  it('keeps the spec strict: a long layout needs a header and sequence columns; bundles without it still parse', () => {
    expect(() => parseFeatureSpec({ ...specInput(), file: { header: false } })).toThrow(/long: a long layout needs a header line/);
    expect(() => parseFeatureSpec({ ...specInput(), long: { periodColumn: 'month', extra: 1 } })).toThrow(/long/);
    expect(() => parseFeatureSpec({ columns: [{ name: 'x', role: 'feature' }], long: { periodColumn: 'p' } })).toThrow(/a long layout needs sequence columns/);
    expect(parseFeatureSpec({ columns: [{ name: 'x', role: 'feature' }] }).long).toBeUndefined();
  });

  it('assembles one customer at a time into wide cells, rows in any order, the label from the last row that has one', async () => {
    const { records, rejects, header } = await readLong('id,month,a,b,label\n7,3,a3,b3,\n7,1,a1,b1,\n7,2,a2,b2,yes\n8,2,x2,y2,no\n8,1,x1,y1,\n');
    expect(rejects).toEqual([]);
    expect(header).toEqual(['id', 'label', 'a_m1', 'a_m2', 'a_m3', 'b_m1', 'b_m2', 'b_m3']);
    expect(records.map((r) => [r.line, r.fields])).toEqual([
      [2, ['7', 'yes', 'a1', 'a2', 'a3', 'b1', 'b2', 'b3']],
      // Period 3 has no row: its cells are missing (empty), imputed by the encoder.
      [5, ['8', 'no', 'x1', 'x2', '', 'y1', 'y2', '']],
    ]);
  });

  it('counts missing periods of the customers it assembles', async () => {
    const { counts } = await readLong('id,month,a,b,label\n1,1,1,1,no\n2,2,1,1,yes\n2,3,1,1,\n3,1,1,1,no\n3,2,1,1,\n3,3,1,1,\n');
    expect(counts()).toEqual({ rows: 6, customersScored: 3, customersRejected: 0, missingPeriods: 3 });
  });

  it('rejects a duplicate period, a period out of range, an unreadable period, an empty id and a short row at their lines; keeps the first of a duplicate', async () => {
    const text = 'id,month,a,b,label\n1,1,a1,b1,no\n1,2,a2,b2,\n1,2,dup,dup,\n1,11,a,b,\n1,x,a,b,\n,1,a,b,\n1,3,a3\n1,3,a3,b3,\n';
    const { records, rejects } = await readLong(text);
    expect(rejects.map((r) => [r.line, r.reason, r.column, r.detail])).toEqual([
      [4, 'DUPLICATE_PERIOD', 'month', 'a second row for period 2 of the customer whose rows start at line 2'],
      [5, 'PERIOD_OUT_OF_RANGE', 'month', 'period 11 is outside 1…3'],
      [6, 'PERIOD_INVALID', 'month', '"x" in "month" is not a period number'],
      [7, 'MISSING_REQUIRED', 'id', '"id" (the id) is empty'],
      [8, 'FIELD_COUNT', '', 'expected 5 fields, found 3'],
    ]);
    expect(records.map((r) => r.fields)).toEqual([['1', 'no', 'a1', 'a2', 'a3', 'b1', 'b2', 'b3']]);
  });

  it('refuses customers whose rows are not consecutive, naming both blocks of lines and never the id', async () => {
    const error = (await readLong('id,month,a,b,label\n4711,1,1,1,no\n4711,2,1,1,\n5,1,1,1,no\n4711,3,1,1,\n').catch((e: unknown) => e)) as ExtractError;
    expect(error).toBeInstanceOf(ExtractError);
    expect(error.code).toBe('EXTRACT_CUSTOMER_NOT_CONSECUTIVE');
    expect(error.location).toEqual({ file: 'long.csv', line: 5, column: 'id' });
    expect(error.message).toBe('long.csv:5 (column "id"): the rows of one customer are not consecutive: lines 2–3 and line 5 have the same "id"; a long extract must be sorted by customer (ORDER BY id)');
    expect(error.message).not.toContain('4711');
  });

  it('expands a customer the encoder refuses into a reject per row: the reason at the row holding the cell, CUSTOMER_REJECTED at the others', async () => {
    const extract = await openExtract(Readable.from([Buffer.from('id,month,a,b,label\n1,2,2,2,\n1,1,1,1,\n1,3,oops,3,no\n')]), { source: 'long.csv', header: true, delimiter: ',' });
    const reader = readLongCustomers(spec, extract.header, 'long.csv', extract.nextBatch)!;
    const [item] = (await reader.nextBatch())!;
    if (item?.kind !== 'record') throw new Error('expected a customer');
    const rows = reader.rejectCustomer(item.record, { column: 'a_m3', reason: 'NOT_A_NUMBER', detail: '"oops" in "a_m3"' });
    expect(rows.map((r) => [r.line, r.column, r.reason, r.detail, r.raw])).toEqual([
      [2, '', 'CUSTOMER_REJECTED', 'line 4 of the same customer was rejected (NOT_A_NUMBER)', '1,2,2,2,'],
      [3, '', 'CUSTOMER_REJECTED', 'line 4 of the same customer was rejected (NOT_A_NUMBER)', '1,1,1,1,'],
      [4, 'a', 'NOT_A_NUMBER', '"oops" in "a_m3"', '1,3,oops,3,no'],
    ]);
    expect(reader.counts()).toEqual({ customersScored: 0, customersRejected: 1, missingPeriods: 0 });
  });

  it('latest: each customer\'s most recent period value is the last period; older rows than N are rejected', async () => {
    const text = 'id,month,a,b,label\n1,2026-09,9,9,\n1,2026-07,7,7,\n1,2026-10,10,10,yes\n1,2026-08,8,8,\n2,2026-10,1,1,no\n';
    const { records, rejects } = await readLong(text, 'latest');
    expect(records.map((r) => r.fields)).toEqual([
      ['1', 'yes', '8', '9', '10', '8', '9', '10'],
      ['2', 'no', '', '', '1', '', '', '1'],
    ]);
    expect(rejects.map((r) => [r.line, r.reason, r.detail])).toEqual([[3, 'PERIOD_OUT_OF_RANGE', "older than the customer's latest 3 periods"]]);
  });
});

describe('ClosedCustomerIds', () => {
  it('finds every closed id exactly, with its lines, past several doublings, and nothing else', () => {
    const closed = new ClosedCustomerIds();
    for (let i = 0; i < 5000; i++) closed.add(`C${i}-é`, 2 * i + 2, 2 * i + 3);
    expect(closed.size).toBe(5000);
    expect(closed.find('C0-é')).toEqual({ firstLine: 2, lastLine: 3 });
    expect(closed.find('C4999-é')).toEqual({ firstLine: 10000, lastLine: 10001 });
    expect(closed.find('C5000-é')).toBeUndefined();
    expect(closed.find('C0')).toBeUndefined();
    expect(closed.find('x'.repeat(1000))).toBeUndefined();
  });
});

function memoryBytes(text: string): ByteRangeReader & { reads: number } {
  const bytes = Buffer.from(text);
  const reader = {
    size: bytes.length,
    reads: 0,
    read(start: number, end: number) {
      reader.reads++;
      return Promise.resolve(bytes.subarray(start, Math.min(end, bytes.length)));
    },
  };
  return reader;
}

describe('alignPartsToCustomers', () => {
  it('moves each boundary to the next change of customer id, keeping exact line numbers and covering the file', async () => {
    // Customer k has k+1 rows; ids are quoted now and then, with the delimiter inside.
    const lines = ['id,month,a'];
    for (let k = 0; k < 40; k++) for (let m = 0; m <= k % 5; m++) lines.push(`${k % 3 === 0 ? `"c,${k}"` : `c${k}`},${m + 1},${m}`);
    const text = `${lines.join('\n')}\n`;
    const bytes = memoryBytes(text);
    const plan = await planParts(bytes, 7);
    const aligned = await alignPartsToCustomers(bytes, plan, { delimiter: ',', idIndex: 0 });
    expect(aligned.length).toBeGreaterThan(1);
    expect(aligned[0]!.start).toBe(0);
    expect(aligned.at(-1)!.end).toBe(bytes.size);
    for (let i = 1; i < aligned.length; i++) {
      const part = aligned[i]!;
      expect(part.start).toBe(aligned[i - 1]!.end);
      const before = text.slice(0, part.start);
      expect(before.split('\n').length).toBe(part.firstLine);
      const previous = idOf(lines[part.firstLine - 2]!, { delimiter: ',', idIndex: 0 });
      const first = idOf(lines[part.firstLine - 1]!, { delimiter: ',', idIndex: 0 });
      expect(first).not.toBe(previous);
    }
  });

  it('drops a boundary with no change of customer after it', async () => {
    const text = `id,month,a\n${Array.from({ length: 50 }, (_, m) => `same,${m},1`).join('\n')}\n`;
    const bytes = memoryBytes(text);
    const plan = await planParts(bytes, 3);
    expect(plan).toHaveLength(3);
    expect(await alignPartsToCustomers(bytes, plan, { delimiter: ',', idIndex: 0 })).toEqual([{ start: 0, end: bytes.size, firstLine: 1 }]);
  });

  it('keeps a customer whole across the rows the reader refuses before their id (an empty or missing-marker id, a wrong field count)', async () => {
    const lines = ['id,month,a', 'A,1,1', 'A,2,1', ',3,1', 'A,3,1', 'x,y', 'A,4,1', 'NA,5,1', 'A,5,1', 'B,1,1', 'B,2,1'];
    const text = `${lines.join('\n')}\n`;
    const bytes = memoryBytes(text);
    const startOf = (line: number) => Buffer.byteLength(lines.slice(0, line - 1).map((l) => `${l}\n`).join(''));
    const key = { delimiter: ',', idIndex: 0, fieldCount: 3, missing: new Set(['', 'NA']) };
    // A cut at each refused row (lines 4, 6, 8) moves to B (line 10), not to the refused row: A stays in one part.
    for (const cut of [4, 6, 8]) {
      const plan = [{ start: 0, end: startOf(cut), firstLine: 1 }, { start: startOf(cut), end: bytes.size, firstLine: cut }];
      expect(await alignPartsToCustomers(bytes, plan, key), `cut at line ${cut}`).toEqual([{ start: 0, end: startOf(10), firstLine: 1 }, { start: startOf(10), end: bytes.size, firstLine: 10 }]);
      // Without the reader's rules, the refused row looks like another customer.
      expect((await alignPartsToCustomers(bytes, plan, { delimiter: ',', idIndex: 0 }))[1]!.firstLine).toBe(cut);
    }
    // A cut right after a refused row still sees A before it: the next change is B.
    const plan = [{ start: 0, end: startOf(5), firstLine: 1 }, { start: startOf(5), end: bytes.size, firstLine: 5 }];
    expect((await alignPartsToCustomers(bytes, plan, key))[1]!.firstLine).toBe(10);
  });

  it('reads the id field of a line: quoted, with doubled quotes, trimmed, CR dropped', () => {
    expect(idOf('1,"a ""b"", c",x\r', { delimiter: ',', idIndex: 1 })).toBe('a "b", c');
    expect(idOf(' 42 ;x', { delimiter: ';', idIndex: 0 })).toBe('42');
    expect(idOf('only', { delimiter: ',', idIndex: 2 })).toBe('');
  });
});
