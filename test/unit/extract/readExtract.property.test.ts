import { parse as parseSync } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExtractError } from '../../../functions/core/errors.js';
import { readAll } from './readExtractHelpers.js';

/** Cell text with everything that makes CSV hard: quotes, every delimiter, line breaks, spaces, non-ASCII. */
const cell = fc
  .array(fc.constantFrom('a', 'B', '7', ' ', '"', ',', ';', '\t', '|', '\n', '\r\n', '\r', 'é', '€', '😀', '""'), { maxLength: 6 })
  .map((parts) => parts.join(''));

const table = fc.integer({ min: 2, max: 5 }).chain((columns) =>
  fc.record({
    columns: fc.constant(columns),
    rows: fc.array(fc.array(cell, { minLength: columns, maxLength: columns }), { minLength: 1, maxLength: 12 }),
    delimiter: fc.constantFrom(',', ';', '\t', '|'),
    lineEnding: fc.constantFrom('\n', '\r\n'),
    quoteAll: fc.boolean(),
    chunkSize: fc.integer({ min: 1, max: 40 }),
  }),
);

describe('openExtract: round trip with csv-stringify (property)', () => {
  it('reads back every cell, the raw text and the physical line of each record', async () => {
    await fc.assert(
      fc.asyncProperty(table, async ({ columns, rows, delimiter, lineEnding, quoteAll, chunkSize }) => {
        const header = Array.from({ length: columns }, (_, i) => `c${i + 1}`);
        const headerText = stringify([header], { delimiter, record_delimiter: lineEnding });
        // Any line break in a cell is quoted: csv-stringify leaves a bare LF unquoted in a CRLF file,
        // which the reader (like most) takes as a line end.
        const rowTexts = rows.map((row) => stringify([row], { delimiter, record_delimiter: lineEnding, quoted: quoteAll, quoted_match: /[\r\n]/ }));
        const text = headerText + rowTexts.join('');

        const result = await readAll(text, { delimiter: delimiter as ',' }, chunkSize);

        let line = 2;
        const expected = rows.map((fields, i) => {
          const written = rowTexts[i]!;
          const record = { line, fields, raw: written.slice(0, -lineEnding.length) };
          // LF, CRLF and a lone CR each end a physical line (inside quotes too, as an editor shows them).
          line += (written.match(/\r\n|\r|\n/g) ?? []).length;
          return record;
        });
        expect(result.header).toEqual(header);
        expect(result.rejects).toEqual([]);
        expect(result.records).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

/** Lines of CSV-ish text, valid or not: the reader must agree with csv-parse on all of them. */
const csvish = fc
  .array(fc.constantFrom('a', 'b', ' ', ',', '"', '""', '\n', '\r\n', 'é', '"x,y"', '"p\nq"'), { minLength: 1, maxLength: 40 })
  .map((parts) => parts.join(''));

/** csv-parse alone (strict quotes): the records before its first error, and that error's code. */
function oracle(text: string): { records: string[][]; error: string | undefined } {
  const records: string[][] = [];
  try {
    parseSync(text, {
      relax_column_count: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n'],
      bom: false,
      on_record: (record: string[]) => {
        records.push(record);
        return record;
      },
    });
    return { records, error: undefined };
  } catch (error) {
    return { records, error: (error as { code?: string }).code };
  }
}

describe('openExtract: agrees with csv-parse (property)', () => {
  it('yields the records csv-parse yields, up to the first quoting error, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(csvish, fc.integer({ min: 1, max: 16 }), async (text, chunkSize) => {
        fc.pre(text.trim() !== '');
        const expected = oracle(text);
        // Lines of spaces are blank lines to the reader; csv-parse keeps them as one-field records.
        const kept = expected.records.filter((r) => !(r.length === 1 && r[0]!.trim() === ''));
        const width = kept[0]?.length;

        let result;
        try {
          result = await readAll(text, { header: false, delimiter: ',' }, chunkSize);
        } catch (error) {
          // Only an unclosed quote (or a quote error whose record never ends) stops the whole file.
          expect(error).toBeInstanceOf(ExtractError);
          expect((error as ExtractError).code).toBe('EXTRACT_MALFORMED');
          expect(expected.error).toBeDefined();
          return;
        }
        const fieldCountRejects = result.rejects.filter((r) => r.reason === 'FIELD_COUNT').length;
        const firstMalformed = result.rejects.find((r) => r.reason === 'MALFORMED_QUOTES');
        if (expected.error === undefined) {
          expect(firstMalformed).toBeUndefined();
          expect(result.records.map((r) => r.fields)).toEqual(kept.filter((r) => r.length === width));
          expect(fieldCountRejects).toBe(kept.filter((r) => r.length !== width).length);
        } else {
          // Up to csv-parse's error, both agree; there the reader rejects the record and goes on.
          expect(['INVALID_OPENING_QUOTE', 'CSV_INVALID_CLOSING_QUOTE']).toContain(expected.error);
          expect(firstMalformed).toBeDefined();
          const before = result.records.filter((r) => r.line < firstMalformed!.line).map((r) => r.fields);
          expect(before).toEqual(kept.filter((r) => r.length === width));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
