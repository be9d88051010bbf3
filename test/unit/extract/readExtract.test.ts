import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ExtractError } from '../../../functions/core/errors.js';
import { assertExtractHasRows, openExtract, type ExtractItem, type ExtractRecord } from '../../../functions/core/extract/readExtract.js';
import { chunked, datasetPath, failure, fixture, readAll } from './readExtractHelpers.js';

const bankLines = fixture('bank-marketing-30.csv').toString('utf8').split('\n');

describe('openExtract: layout', () => {
  it('reads the quoted, ;-separated bank-marketing file: header unquoted, fields unquoted, raw as in the file', async () => {
    const result = await readAll(fixture('bank-marketing-30.csv'));

    expect(result.delimiter).toBe(';');
    expect(result.header).toEqual(bankLines[0]!.split(';').map((name) => name.slice(1, -1)));
    expect(result.header?.[16]).toBe('y');
    expect(result.records).toHaveLength(30);
    expect(result.rejects).toEqual([]);
    expect(result.records[0]).toEqual({
      line: 2,
      fields: ['58', 'management', 'married', 'tertiary', 'no', '2143', 'yes', 'no', 'unknown', '5', 'may', '261', '1', '-1', '0', 'unknown', 'no'],
      raw: bankLines[1],
    });
    expect(result.records[29]!.line).toBe(31);
    expect(result.records[29]!.raw).toBe(bankLines[30]);
  });

  it('reads a header-less CRLF file: header null, lines from 1, no CR in fields or raw', async () => {
    const text = fixture('audiobooks-20.csv').toString('utf8');
    const result = await readAll(text, { header: false });

    expect(result.header).toBeNull();
    expect(result.delimiter).toBe(',');
    expect(result.records.map((r) => r.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(result.records[0]!.fields).toEqual(['994', '1620', '1620', '19.73', '19.73', '1', '10', '0.99', '1603.8', '5', '92', '0']);
    expect(result.records[0]!.raw).toBe(text.split('\r\n')[0]);
    expect(result.records.every((r) => !r.raw.includes('\r') && !r.fields.some((f) => f.includes('\r')))).toBe(true);
  });

  it('keeps delimiters, doubled quotes and CRLF/LF line breaks inside quoted fields, and numbers lines physically', async () => {
    const result = await readAll(fixture('quoted-crlf.csv'));

    expect(result.header).toEqual(['id', 'name', 'note']);
    expect(result.records).toEqual([
      { line: 2, fields: ['1', 'Smith, John', 'said "hi"\r\nand left'], raw: '1,"Smith, John","said ""hi""\r\nand left"' },
      { line: 4, fields: ['2', 'Ann', 'plain'], raw: '2,Ann,plain' },
      // line 5 is blank
      { line: 6, fields: ['3', 'Bo', 'multi\nline\nnote'], raw: '3,"Bo","multi\nline\nnote"' },
    ]);
  });

  it.each([
    [';', 'id;name;score\n1;"a;b";2,5\n2;c;3\n', ['1', 'a;b', '2,5']],
    ['\t', 'id\tname\tscore\n1\t"a\tb"\t2.5\n2\tc\t3\n', ['1', 'a\tb', '2.5']],
    ['|', 'id|name|score\n1|"a|b"|2.5\n2|c|3\n', ['1', 'a|b', '2.5']],
    [',', 'id,name,score\n1,"a,b",2.5\n2,c,3\n', ['1', 'a,b', '2.5']],
  ])('detects the delimiter %j and ignores it inside quotes', async (delimiter, text, firstFields) => {
    const detected = await readAll(text);
    const given = await readAll(text, { delimiter: delimiter as ',' });

    expect(detected.delimiter).toBe(delimiter);
    expect(detected.header).toEqual(['id', 'name', 'score']);
    expect(detected.records.map((r) => r.fields)).toEqual([firstFields, ['2', 'c', '3']]);
    expect(given.records).toEqual(detected.records);
  });

  it('strips a UTF-8 BOM, also before a quoted header name, and trims header names', async () => {
    const plain = await readAll(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,name\n1,Zoë\n')]));
    const quoted = await readAll(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('"id";" name ";  score \n1;"a";2\n')]));

    expect(plain.header).toEqual(['id', 'name']);
    expect(plain.records).toEqual([{ line: 2, fields: ['1', 'Zoë'], raw: '1,Zoë' }]);
    expect(quoted.delimiter).toBe(';');
    expect(quoted.header).toEqual(['id', 'name', 'score']);
  });

  it('cleans a header whose quotes csv-parse would call malformed (space before the quote)', async () => {
    const result = await readAll('id, "Name" ,age\n1,Ann,30\n');

    expect(result.header).toEqual(['id', 'Name', 'age']);
    expect(result.records.map((r) => r.fields)).toEqual([['1', 'Ann', '30']]);
  });

  it('skips blank and whitespace-only lines, and reads a last line without a line ending', async () => {
    const result = await readAll('a,b\n\n1,2\n   \n\r\n3,4');

    expect(result.records).toEqual([
      { line: 3, fields: ['1', '2'], raw: '1,2' },
      { line: 6, fields: ['3', '4'], raw: '3,4' },
    ]);
    expect(result.rejects).toEqual([]);
  });

  it('reads classic Mac files whose lines end in a lone CR', async () => {
    const result = await readAll('a,b\r1,2\r"x\r\ny",4\r');

    expect(result.records).toEqual([
      { line: 2, fields: ['1', '2'], raw: '1,2' },
      { line: 3, fields: ['x\r\ny', '4'], raw: '"x\r\ny",4' },
    ]);
  });

  it('gives the same records whatever the chunk boundaries (1, 2, 3, 7 bytes)', async () => {
    for (const name of ['quoted-crlf.csv', 'bank-marketing-30.csv', 'ecommerce-churn-20.csv']) {
      const whole = await readAll(fixture(name));
      for (const size of [1, 2, 3, 7]) {
        const pieces = await readAll(fixture(name), {}, size);
        expect(pieces.records, `${name} in ${size}-byte chunks`).toEqual(whole.records);
        expect(pieces.header).toEqual(whole.header);
      }
    }
  });

  it('switches between the fast path and csv-parse over long stretches, across chunk and stretch boundaries', async () => {
    // 6000 rows: plain ones, rows with "a, b" quoting (csv-parse), some spanning 2–3 lines, in runs.
    const rows: Array<{ fields: string[]; text: string }> = [];
    for (let i = 0; i < 6000; i++) {
      const complex = Math.floor(i / 500) % 2 === 1;
      const lines = complex && i % 7 === 0 ? `\nmore ${i}${i % 3 === 0 ? '\r\nand more' : ''}` : '';
      const fields = [String(i), complex ? `Doe, J${i}${lines}` : `Doe J${i}`, i % 5 === 0 ? '' : complex && i % 2 === 1 ? 'x"y' : 'x'];
      const text = fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(',');
      rows.push({ fields, text });
    }
    const file = 'id,name,flag\n' + rows.map((r) => r.text).join('\n') + '\n';
    let line = 2;
    const expected = rows.map((r) => {
      const record = { line, fields: r.fields, raw: r.text };
      line += 1 + (r.text.match(/\n/g) ?? []).length;
      return record;
    });

    for (const size of [64 * 1024, 1000, 8191]) {
      const result = await readAll(file, {}, size);

      expect(result.rejects).toEqual([]);
      expect(result.records).toEqual(expected);
    }
  });

  it('accepts a Node stream with string chunks', async () => {
    const extract = await openExtract(Readable.from(['id,na', 'me\n1,A', 'nn\n']), { source: 'strings.csv', header: true, delimiter: 'auto' });
    const items: ExtractItem[] = [];
    for await (const item of extract.items) items.push(item);

    expect(extract.header).toEqual(['id', 'name']);
    expect(items).toEqual([{ kind: 'record', record: { line: 2, fields: ['1', 'Ann'], raw: '1,Ann' } }]);
  });

  it('counts records, rejects and bytes', async () => {
    const text = 'a,b\n1,2\n3\n4,5\n';
    const result = await readAll(text);

    expect(result.stats).toEqual({ records: 2, rejects: 1, bytes: Buffer.byteLength(text) });
  });
});

describe('openExtract: gzip', () => {
  it('recognises gzip by its magic bytes and yields exactly the plain file records', async () => {
    for (const name of ['bank-marketing-30.csv', 'quoted-crlf.csv']) {
      const plain = await readAll(fixture(name));
      const zipped = await readAll(gzipSync(fixture(name)));
      const zippedTiny = await readAll(gzipSync(fixture(name)), {}, 1);

      expect(zipped.records).toEqual(plain.records);
      expect(zipped.header).toEqual(plain.header);
      expect(zippedTiny.records).toEqual(plain.records);
    }
  });

  it('reads a gzipped header-less CRLF file (audiobooks)', async () => {
    const plain = await readAll(fixture('audiobooks-20.csv'), { header: false });
    const zipped = await readAll(gzipSync(fixture('audiobooks-20.csv')), { header: false });

    expect(zipped.records).toEqual(plain.records);
    expect(zipped.records).toHaveLength(20);
  });

  it('throws EXTRACT_COMPRESSION from the iteration for a gzip cut in half, after the records before the cut', async () => {
    const full = readFileSync(datasetPath('ecommerce-churn/E_Commerce_Dataset.csv'));
    const all = await readAll(full);
    const truncated = gzipSync(full).subarray(0, Math.floor(gzipSync(full).length / 2));

    const extract = await openExtract(chunked(truncated, 16 * 1024), { source: 'churn.csv.gz', header: true, delimiter: 'auto' });
    const seen: ExtractRecord[] = [];
    const error = await failure(
      (async () => {
        for await (const item of extract.items) if (item.kind === 'record') seen.push(item.record);
      })(),
    );

    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).code).toBe('EXTRACT_COMPRESSION');
    expect((error as ExtractError).location).toEqual({ file: 'churn.csv.gz' });
    expect((error as ExtractError).message).toMatch(/^churn\.csv\.gz: gzip data is truncated or corrupt \(unexpected end of file\)$/);
    expect(extract.header).toEqual(all.header);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(all.records.length);
    expect(seen).toEqual(all.records.slice(0, seen.length));
  });

  it('throws EXTRACT_COMPRESSION from openExtract when not one byte can be decompressed', async () => {
    const corrupt = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(40, 0xff)]);

    const error = await failure(readAll(corrupt, { source: 'bad.gz' }));

    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).code).toBe('EXTRACT_COMPRESSION');
    expect((error as ExtractError).location).toEqual({ file: 'bad.gz' });
  });
});

describe('openExtract: bad files', () => {
  it.each([
    ['no bytes', Buffer.alloc(0)],
    ['only a BOM', Buffer.from([0xef, 0xbb, 0xbf])],
    ['only blank lines', Buffer.from(' \n\r\n\t\n')],
  ])('throws EXTRACT_EMPTY for %s', async (_, bytes) => {
    for (const header of [true, false]) {
      const error = await failure(readAll(bytes, { source: 'empty.csv', header }));

      expect(error).toBeInstanceOf(ExtractError);
      expect((error as ExtractError).code).toBe('EXTRACT_EMPTY');
      expect((error as ExtractError).message).toBe('empty.csv: the extract is empty (no bytes, or only blank lines)');
      expect((error as ExtractError).location).toEqual({ file: 'empty.csv' });
    }
  });

  it('yields nothing for a header without rows; assertExtractHasRows then throws EXTRACT_NO_ROWS', async () => {
    const extract = await openExtract(chunked(Buffer.from('id,age\r\n\r\n'), 64), { source: 'head.csv', header: true, delimiter: 'auto' });
    const items: ExtractItem[] = [];
    for await (const item of extract.items) items.push(item);

    expect(extract.header).toEqual(['id', 'age']);
    expect(items).toEqual([]);
    let error: unknown;
    try {
      assertExtractHasRows(extract, 'head.csv');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).code).toBe('EXTRACT_NO_ROWS');
    expect((error as ExtractError).message).toBe('head.csv: the extract has a header but no data rows');
  });

  it('assertExtractHasRows accepts an extract whose rows were all rejected', async () => {
    const extract = await openExtract(chunked(Buffer.from('id,age\n1\n'), 64), { source: 'r.csv', header: true, delimiter: 'auto' });
    for await (const item of extract.items) expect(item.kind).toBe('reject');

    expect(() => assertExtractHasRows(extract, 'r.csv')).not.toThrow();
  });

  it('throws EXTRACT_ENCODING naming line 3 and the byte column, after the records before it', async () => {
    // Line 3 holds a Latin-1 é (0xE9): "2,Jos" is 5 bytes, so the bad byte is byte 6.
    const bytes = Buffer.concat([Buffer.from('id,name\n1,Zoë\n2,Jos'), Buffer.from([0xe9]), Buffer.from('\n3,Bo\n')]);
    for (const size of [1, 4, 64 * 1024]) {
      const extract = await openExtract(chunked(bytes, size), { source: 'latin1.csv', header: true, delimiter: 'auto' });
      const seen: number[] = [];
      const error = await failure(
        (async () => {
          for await (const item of extract.items) if (item.kind === 'record') seen.push(item.record.line);
        })(),
      );

      expect(error).toBeInstanceOf(ExtractError);
      expect((error as ExtractError).code).toBe('EXTRACT_ENCODING');
      expect((error as ExtractError).location).toEqual({ file: 'latin1.csv', line: 3, column: 6 });
      expect((error as ExtractError).message).toBe(
        'latin1.csv:3:6: not valid UTF-8 (byte 0xE9 at byte 6 of the line); save the extract as UTF-8',
      );
      expect(seen).toEqual([2]);
    }
  });

  it('counts multi-byte characters as bytes in the column, and lines inside quoted fields', async () => {
    // Line 4 (the record starts on line 3): "x\n" spans lines 3–4; on line 4 "yé"," is 5 bytes.
    const bytes = Buffer.concat([Buffer.from('a,b\n1,2\n"x\nyé",'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);

    const error = await failure(readAll(bytes, { source: 'e.csv' }, 3));

    expect((error as ExtractError).code).toBe('EXTRACT_ENCODING');
    expect((error as ExtractError).location).toEqual({ file: 'e.csv', line: 4, column: 6 });
  });

  it('throws EXTRACT_ENCODING for a multi-byte character cut off by the end of the file', async () => {
    const error = await failure(readAll(Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from([0xe2, 0x82])]), { source: 'cut.csv' }));

    expect((error as ExtractError).code).toBe('EXTRACT_ENCODING');
    expect((error as ExtractError).location).toEqual({ file: 'cut.csv', line: 2, column: 3 });
  });

  it('throws EXTRACT_ENCODING from openExtract when the header itself is not UTF-8', async () => {
    const error = await failure(readAll(Buffer.concat([Buffer.from('id,n'), Buffer.from([0xff]), Buffer.from('me\n1,2\n')]), { source: 'h.csv' }));

    expect((error as ExtractError).code).toBe('EXTRACT_ENCODING');
    expect((error as ExtractError).location).toEqual({ file: 'h.csv', line: 1, column: 5 });
  });

  it('throws EXTRACT_MALFORMED naming the line and field of a quote that never closes, after the records before it', async () => {
    const extract = await openExtract(chunked(Buffer.from('id,name\n1,ok\n\n2,"never closed\n3,x\n'), 5), {
      source: 'q.csv',
      header: true,
      delimiter: ',',
    });
    const seen: number[] = [];
    const error = await failure(
      (async () => {
        for await (const item of extract.items) if (item.kind === 'record') seen.push(item.record.line);
      })(),
    );

    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).code).toBe('EXTRACT_MALFORMED');
    expect((error as ExtractError).location).toEqual({ file: 'q.csv', line: 4, column: 2 });
    expect((error as ExtractError).message).toBe('q.csv:4:2: a quoted field in the record starting here is never closed');
    expect(seen).toEqual([2]);
  });

  it('passes errors of the source itself through unchanged', async () => {
    const networkDown = new Error('socket hang up');
    // eslint-disable-next-line @typescript-eslint/require-await -- an async generator is the simplest failing AsyncIterable; it has nothing to await
    async function* source(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('id,age\n1,20\n');
      throw networkDown;
    }

    const error = await failure(readAll(source()));

    expect(error).toBe(networkDown);
  });
});

describe('openExtract: row rejects', () => {
  it('rejects a record with the wrong field count: FIELD_COUNT with its line, detail and raw text', async () => {
    const result = await readAll('a,b,c\n1,2,3\n4,5\n"6\n7",8,9,10\n11,12,13\n');

    expect(result.records.map((r) => r.line)).toEqual([2, 6]);
    expect(result.rejects).toEqual([
      { line: 3, column: '', reason: 'FIELD_COUNT', detail: 'expected 3 fields, found 2', raw: '4,5' },
      { line: 4, column: '', reason: 'FIELD_COUNT', detail: 'expected 3 fields, found 4', raw: '"6\n7",8,9,10' },
    ]);
  });

  it('rejects records with quoting errors as MALFORMED_QUOTES and goes on with the next line', async () => {
    const result = await readAll('id,name,n\n1,Jo"e,2\n2,"Ann"x,3\n3,ok,4\n4,"a ""quoted"" word",5\n');

    expect(result.rejects).toEqual([
      { line: 2, column: 'name', reason: 'MALFORMED_QUOTES', detail: 'a quote inside an unquoted field (field 2)', raw: '1,Jo"e,2' },
      { line: 3, column: 'name', reason: 'MALFORMED_QUOTES', detail: 'text after the closing quote of a quoted field (field 2)', raw: '2,"Ann"x,3' },
    ]);
    expect(result.records).toEqual([
      { line: 4, fields: ['3', 'ok', '4'], raw: '3,ok,4' },
      { line: 5, fields: ['4', 'a "quoted" word', '5'], raw: '4,"a ""quoted"" word",5' },
    ]);
  });

  it('names the field by position in a header-less file', async () => {
    const result = await readAll('1,2,3\n4,5",6\n', { header: false });

    expect(result.rejects).toEqual([
      { line: 2, column: '2', reason: 'MALFORMED_QUOTES', detail: 'a quote inside an unquoted field (field 2)', raw: '4,5",6' },
    ]);
  });
});

describe('openExtract: byte-range parts', () => {
  it('reads a part with headerFields and firstLine: names, field count and line numbers come from them', async () => {
    const extract = await openExtract(chunked(Buffer.from('7,x,y\n8,"p\nq",z\n9,w\n'), 4), {
      source: 'big.csv',
      header: false,
      delimiter: ',',
      headerFields: ['id', 'a', 'b'],
      firstLine: 101,
    });
    const items: ExtractItem[] = [];
    for await (const item of extract.items) items.push(item);

    expect(extract.header).toEqual(['id', 'a', 'b']);
    expect(items).toEqual([
      { kind: 'record', record: { line: 101, fields: ['7', 'x', 'y'], raw: '7,x,y' } },
      { kind: 'record', record: { line: 102, fields: ['8', 'p\nq', 'z'], raw: '8,"p\nq",z' } },
      { kind: 'reject', reject: { line: 104, column: '', reason: 'FIELD_COUNT', detail: 'expected 3 fields, found 2', raw: '9,w' } },
    ]);
  });

  it('with header: true and headerFields, consumes the header line and uses the given names', async () => {
    const result = await readAll('ID,Age\n1,30\n', { header: true, headerFields: ['id', 'age'] });

    expect(result.header).toEqual(['id', 'age']);
    expect(result.records).toEqual([{ line: 2, fields: ['1', '30'], raw: '1,30' }]);
  });

  it('yields nothing for an empty part instead of EXTRACT_EMPTY', async () => {
    const result = await readAll('\n', { header: false, headerFields: ['a'], firstLine: 5 });

    expect(result.records).toEqual([]);
    expect(result.header).toEqual(['a']);
  });
});

describe('openExtract: iteration', () => {
  it('stops reading and closes the source when the consumer stops early', async () => {
    const stream = Readable.from([Buffer.from('id\n1\n'), Buffer.from('2\n'), Buffer.from('3\n')]);
    const extract = await openExtract(stream, { source: 's.csv', header: true, delimiter: ',' });
    const lines: number[] = [];
    for await (const item of extract.items) {
      if (item.kind === 'record') lines.push(item.record.line);
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));

    expect(lines).toEqual([2]);
    expect(stream.destroyed).toBe(true);
  });

  it('refuses a second iteration', async () => {
    const extract = await openExtract(chunked(Buffer.from('id\n1\n'), 64), { source: 'twice.csv', header: true, delimiter: ',' });
    for await (const item of extract.items) expect(item.kind).toBe('record');

    expect(() => extract.items[Symbol.asyncIterator]()).toThrow('twice.csv: extract items can be iterated only once');
  });
});
