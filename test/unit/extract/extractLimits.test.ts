import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ExtractError } from '../../../functions/core/errors.js';
import { DEFAULT_EXTRACT_LIMITS } from '../../../functions/core/extract/readExtract.js';
import { chunked, failure, readAll } from './readExtractHelpers.js';

/** Endless input: `head` once, then `line` forever, in 64 KiB chunks. Only a limit can stop the read. */
// eslint-disable-next-line @typescript-eslint/require-await -- an async generator over bytes in memory; nothing to await
async function* endless(head: string, line: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(head);
  const chunk = Buffer.from(line.repeat(Math.ceil((64 * 1024) / line.length)));
  for (;;) yield chunk;
}

async function tooLarge(promise: Promise<unknown>): Promise<ExtractError> {
  const error = await failure(promise);
  expect(error).toBeInstanceOf(ExtractError);
  expect((error as ExtractError).code).toBe('EXTRACT_TOO_LARGE');
  return error as ExtractError;
}

describe('openExtract: input bounds (EXTRACT_TOO_LARGE)', () => {
  it('has generous documented defaults: 20 GiB decompressed, 200 million lines, 1 MiB per record', () => {
    expect(DEFAULT_EXTRACT_LIMITS).toEqual({ maxBytes: 20 * 1024 ** 3, maxRows: 200_000_000, maxRecordBytes: 1024 ** 2 });
  });

  it('stops a gzip bomb of blank lines at maxBytes, counting decompressed bytes (the gzip is 8 KiB)', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, '\n'));
    expect(bomb.length).toBeLessThan(64 * 1024);

    const error = await tooLarge(readAll(bomb, { limits: { maxBytes: 1024 * 1024 } }));

    expect(error.message).toBe('test.csv:1048577: the extract is too large: more than 1 MiB of (decompressed) data, the limit maxBytes');
    expect(error.location).toEqual({ file: 'test.csv', line: 1024 * 1024 + 1 });
  });

  it('stops endless blank lines at maxRows: blank lines count', async () => {
    const error = await tooLarge(readAll(endless('', '\r\n'), { limits: { maxRows: 100_000 } }));

    expect(error.message).toBe('test.csv:100001: the extract is too large: more than 100,000 lines (blank lines count), the limit maxRows');
    expect(error.location).toEqual({ file: 'test.csv', line: 100_001 });
  });

  it('stops endless blank lines after the header at maxRows, at the first line past the budget', async () => {
    const error = await tooLarge(readAll(endless('id,v\n', '\n'), { limits: { maxRows: 5000 } }));

    expect(error.location).toEqual({ file: 'test.csv', line: 5001 });
  });

  it('delivers the records within maxRows, then refuses at the first line past it', async () => {
    const text = `id,v\n${Array.from({ length: 10 }, (_, i) => `c${i},${i}\n`).join('')}`;
    const lines: number[] = [];
    const { openExtract } = await import('../../../functions/core/extract/readExtract.js');
    const extract = await openExtract(chunked(Buffer.from(text), 7), { source: 'rows.csv', header: true, delimiter: ',', limits: { maxRows: 5 } });

    const error = await tooLarge((async () => {
      for await (const item of extract.items) if (item.kind === 'record') lines.push(item.record.line);
    })());

    expect(lines).toEqual([2, 3, 4, 5]);
    expect(error.message).toBe('rows.csv:6: the extract is too large: more than 5 lines (blank lines count), the limit maxRows');
  });

  it('stops a gzip bomb of rows at maxBytes', async () => {
    const error = await tooLarge(readAll(endless('id,v\n', 'secret-7,42\n'), { limits: { maxBytes: 4 * 1024 * 1024 } }));

    expect(error.message).toMatch(/^test\.csv:\d+: the extract is too large: more than 4 MiB of \(decompressed\) data, the limit maxBytes$/);
    expect(error.location.line).toBeGreaterThan(300_000);
    expect(error.message).not.toContain('secret');
  });

  it('refuses a record longer than maxRecordBytes even when it arrives whole, naming its line, never its text', async () => {
    const text = `id,v\nc1,1\nc2,${'secret'.repeat(200)}\nc3,3\n`;

    const error = await tooLarge(readAll(text, { limits: { maxRecordBytes: 1000 } }));

    expect(error.message).toBe(
      'test.csv:3: the extract is too large: a record longer than 1000 bytes, the limit maxRecordBytes (a quoted field is probably never closed, or this is not a delimited text file)',
    );
    expect(error.location).toEqual({ file: 'test.csv', line: 3 });
    expect(error.message).not.toContain('secret');
  });

  it('refuses an unclosed quote that swallows the file past maxRecordBytes, at the line where the record starts', async () => {
    const error = await tooLarge(readAll(endless('id,v\nc1,1\nc2,"secret\n', 'secret words,\n'), { limits: { maxRecordBytes: 256 * 1024 } }));

    expect(error.location).toEqual({ file: 'test.csv', line: 3 });
    expect(error.message).toContain('the limit maxRecordBytes');
    expect(error.message).not.toContain('secret');
  });

  it('refuses a header-less line of spaces without end at maxRecordBytes (kept, not dropped as blank)', async () => {
    const error = await tooLarge(readAll(endless('', ' '), { header: false, limits: { maxRecordBytes: 100_000 } }));

    expect(error.location).toEqual({ file: 'test.csv', line: 1 });
    expect(error.message).toContain('a record longer than 97.7 KiB, the limit maxRecordBytes');
  });

  it('reads a file within every limit as before, blank lines before the header included', async () => {
    const result = await readAll(`\r\n\n \nid,v\nc1,1\n\nc2,2\n`, { limits: { maxRows: 8, maxBytes: 40, maxRecordBytes: 5 } });

    expect(result.header).toEqual(['id', 'v']);
    expect(result.records.map((r) => [r.line, r.fields])).toEqual([[5, ['c1', '1']], [7, ['c2', '2']]]);
    expect(result.stats.bytes).toBe(21);
  });
});

describe('openExtract: a later part of a file counts the limits of the whole file (firstByte)', () => {
  const header = ['a', 'b'];
  const part = (text: string, firstLine: number, firstByte: number | undefined, limits: Record<string, number>) =>
    readAll(text, { header: false, headerFields: header, delimiter: ',', firstLine, ...(firstByte === undefined ? {} : { firstByte }), limits });

  it('refuses at the line a single pass would name, and names the whole file limit', async () => {
    // Prepare: a part holding lines 101..110 of a file limited to 105 lines.
    const text = Array.from({ length: 10 }, (_, i) => `${101 + i},x\n`).join('');
    // Act
    const error = await tooLarge(part(text, 101, 5000, { maxRows: 105 }));
    // Assess
    expect(error.message).toBe('test.csv:106: the extract is too large: more than 105 lines (blank lines count), the limit maxRows');
  });

  it('counts the bytes before the part against maxBytes', async () => {
    const text = '1,x\n2,y\n';
    await expect(part(text, 50, 1000, { maxBytes: 1005 })).rejects.toThrow('the limit maxBytes');
    expect((await part(text, 50, 1000, { maxBytes: 1008 })).records).toHaveLength(2);
  });

  it('without firstByte, a part counts its own lines only (as before)', async () => {
    const text = Array.from({ length: 10 }, (_, i) => `${101 + i},x\n`).join('');
    expect((await part(text, 101, undefined, { maxRows: 105 })).records).toHaveLength(10);
  });
});
