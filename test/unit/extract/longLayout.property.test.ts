import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { alignPartsToCustomers } from '../../../functions/core/extract/customerBoundaries.js';
import { readLongCustomers } from '../../../functions/core/extract/longLayout.js';
import { planParts, type ByteRangeReader } from '../../../functions/core/extract/planParts.js';
import { openExtract, type ExtractItem } from '../../../functions/core/extract/readExtract.js';
import { DEFAULT_MISSING_MARKERS, parseFeatureSpec } from '../../../functions/core/spec/featureSpec.js';

const PERIODS = 3;
const spec = parseFeatureSpec({
  columns: [{ name: 'id', role: 'id' }, ...[1, 2, 3].map((period) => ({ name: `x_m${period}`, role: 'feature' as const, sequence: { group: 'g', feature: 'x', period } }))],
  long: { periodColumn: 'period' },
});

/** Customers with distinct ids (quotes, delimiters, line breaks and all), each with some periods in some order. */
const customers = fc.uniqueArray(
  fc.record({
    id: fc
      .array(fc.constantFrom('a', 'B', '7', ' ', '"', ',', '\n', 'é', '😀'), { minLength: 1, maxLength: 5 })
      .map((chars) => chars.join(''))
      .filter((id) => id.trim() !== '' && !(DEFAULT_MISSING_MARKERS as readonly string[]).includes(id.trim())),
    periods: fc.shuffledSubarray([1, 2, 3], { minLength: 1 }),
    value: fc.integer({ min: 0, max: 999 }),
  }),
  { minLength: 1, maxLength: 40, selector: (c) => c.id.trim() },
);

function bytesOf(text: string): ByteRangeReader {
  const bytes = Buffer.from(text);
  return { size: bytes.length, read: (start, end) => Promise.resolve(bytes.subarray(start, Math.min(end, bytes.length))) };
}

/** The wide cells every part gives, in file order, each part read as the engine reads a later part. */
async function readParts(text: string, parts: number): Promise<{ records: string[][]; missing: number }> {
  const bytes = bytesOf(text);
  const plan = await alignPartsToCustomers(bytes, await planParts(bytes, parts), { delimiter: ',', idIndex: 0 });
  const records: string[][] = [];
  let missing = 0;
  for (const [index, part] of plan.entries()) {
    const input = Readable.from([Buffer.from(text).subarray(part.start, part.end)]);
    const options = index === 0 ? { header: true } : { header: false, headerFields: ['id', 'period', 'x'], firstLine: part.firstLine };
    const extract = await openExtract(input, { source: 'long.csv', delimiter: ',', ...options });
    const reader = readLongCustomers(spec, extract.header ?? ['id', 'period', 'x'], 'long.csv', extract.nextBatch)!;
    for (let items: ExtractItem[] | null = await reader.nextBatch(); items !== null; items = await reader.nextBatch()) {
      for (const item of items) if (item.kind === 'record') records.push(item.record.fields);
    }
    missing += reader.counts().missingPeriods;
  }
  return { records, missing };
}

describe('the long layout, property-based', () => {
  it('gives the wide pivot of any sorted long file (LF or CRLF), whole or cut into any number of parts, never splitting a customer', async () => {
    await fc.assert(
      fc.asyncProperty(customers, fc.integer({ min: 1, max: 6 }), fc.boolean(), fc.array(fc.nat(200), { maxLength: 3 }), async (list, parts, crlf, blanks) => {
        const rows = list.flatMap((c) => c.periods.map((p) => [c.id, String(p), String(c.value * 10 + p)]));
        const newline = crlf ? '\r\n' : '\n';
        const lines = rows.map((row) => stringify([row], { record_delimiter: newline, quoted_match: /[\r\n]/ }));
        // Blank lines anywhere between records: the reader skips them, and so must the cuts.
        for (const at of blanks) lines.splice(at % (lines.length + 1), 0, newline);
        const text = `id,period,x${newline}${lines.join('')}`;
        const expected = list.map((c) => [c.id.trim(), ...[1, 2, 3].map((p) => (c.periods.includes(p) ? String(c.value * 10 + p) : ''))]);
        const missing = list.reduce((n, c) => n + PERIODS - c.periods.length, 0);
        const read = await readParts(text, parts);
        expect(read.records.map((r) => [r[0]!.trim(), ...r.slice(1)])).toEqual(expected);
        expect(read.missing).toBe(missing);
      }),
      { numRuns: 150 },
    );
  });
});
