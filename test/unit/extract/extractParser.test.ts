import { describe, expect, it } from 'vitest';
import { ExtractError } from '../../../functions/core/errors.js';
import { ExtractParser, cleanHeaderName } from '../../../functions/core/extract/extractParser.js';

const options = { source: 'core.csv', delimiter: ',', header: true, firstLine: 1 } as const;

describe('ExtractParser', () => {
  it('gives out records as soon as their line is complete', () => {
    const parser = new ExtractParser(options);

    parser.write(Buffer.from('id,v\n1,a\n2,'));
    const firstBatch = parser.takeItems();
    parser.write(Buffer.from('b\n'));
    const secondBatch = parser.takeItems();
    parser.end();

    expect(parser.header).toEqual(['id', 'v']);
    expect(firstBatch).toEqual([{ kind: 'record', record: { line: 2, fields: ['1', 'a'], raw: '1,a' } }]);
    expect(secondBatch).toEqual([{ kind: 'record', record: { line: 3, fields: ['2', 'b'], raw: '2,b' } }]);
    expect(parser.takeItems()).toEqual([]);
  });

  it('does not depend on a chunk after write returns (the caller may reuse its memory)', () => {
    const parser = new ExtractParser(options);
    const buffer = Buffer.from('id,v\n1,ab');

    parser.write(buffer);
    buffer.fill(0x7a); // "zzz…"
    parser.write(Buffer.from('c\n'));
    parser.end();

    expect(parser.takeItems()).toEqual([{ kind: 'record', record: { line: 2, fields: ['1', 'abc'], raw: '1,abc' } }]);
  });

  it('throws EXTRACT_TOO_LARGE (maxRecordBytes) when a quoted field stays open past maxRecordBytes, after the records before it', () => {
    const parser = new ExtractParser({ ...options, maxRecordBytes: 64 });
    parser.write(Buffer.from('id,v\n1,ok\n2,"opens'));

    let error: unknown;
    try {
      for (let i = 0; i < 10; i++) parser.write(Buffer.from(' and goes on\n'));
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).code).toBe('EXTRACT_TOO_LARGE');
    expect((error as ExtractError).location).toEqual({ file: 'core.csv', line: 3 });
    expect((error as ExtractError).message).toBe(
      'core.csv:3: the extract is too large: a record longer than 64 bytes, the limit maxRecordBytes (a quoted field is probably never closed, or this is not a delimited text file)',
    );
    expect(parser.takeItems()).toEqual([{ kind: 'record', record: { line: 2, fields: ['1', 'ok'], raw: '1,ok' } }]);
  });

  it('cleanHeaderName trims and removes a BOM and surrounding quotes', () => {
    expect(cleanHeaderName('\uFEFFid')).toBe('id');
    expect(cleanHeaderName(' "Name" ')).toBe('Name');
    expect(cleanHeaderName('"say ""hi"""')).toBe('say "hi"');
    expect(cleanHeaderName('plain')).toBe('plain');
  });
});
