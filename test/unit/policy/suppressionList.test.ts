import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SuppressionError } from '../../../functions/core/errors.js';
import { NO_REASON, SuppressionSetBuilder } from '../../../functions/core/policy/suppressionList.js';

const asOf = new Date('2026-11-30T12:00:00Z');
const bytes = (text: string): AsyncIterable<Uint8Array> => Readable.from([Buffer.from(text)]);

async function setOf(lists: Record<string, string>) {
  const builder = new SuppressionSetBuilder(asOf);
  for (const [file, text] of Object.entries(lists)) await builder.addList(bytes(text), file);
  return builder.build();
}

async function failure(text: string | AsyncIterable<Uint8Array>, file = 'opt-out.csv'): Promise<SuppressionError> {
  const builder = new SuppressionSetBuilder(asOf);
  const error = await builder.addList(typeof text === 'string' ? bytes(text) : text, file).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(SuppressionError);
  return error as SuppressionError;
}

describe('suppression lists', () => {
  it('match trimmed ids exactly, keep the first reason, ignore expired until dates', async () => {
    // Prepare
    const set = await setOf({
      'a.csv': 'id,reason,until\n C1 ,opt-out,\nC2,complaint,2026-11-30\nC3,old,2026-11-29\n"a,b",quoted,\n',
      'b.csv': 'reason;x\n',
    }).catch(() => null);
    expect(set).toBeNull(); // b.csv has no id column (a semicolon file is one column here)
    const ok = await setOf({ 'a.csv': 'id,reason,until\n C1 ,opt-out,\nC2,complaint,2026-11-30\nC3,old,2026-11-29\n"a,b",quoted,\n', 'b.csv': 'ID\nC1\nC4\n' });
    // Assess
    expect(ok.reasonOf('C1')).toBe('opt-out');
    expect(ok.reasonOf('C2')).toBe('complaint'); // until is the last day that suppresses
    expect(ok.reasonOf('C3')).toBeNull(); // expired
    expect(ok.reasonOf('a,b')).toBe('quoted');
    expect(ok.reasonOf('C4')).toBe(NO_REASON);
    expect(ok.reasonOf('c1')).toBeNull();
    expect(ok.reasonOf(' C1')).toBeNull();
    expect(ok.size).toBe(4);
    expect(ok.loaded).toEqual({ entries: 5, expired: 1, files: 2 });
  });

  it('errors name file, line and column, never an id', async () => {
    const noId = await failure('customer,reason\nSECRET1,x\n');
    expect(noId.code).toBe('SUPPRESSION_INVALID');
    expect(noId.message).toBe('opt-out.csv:1 (column "id"): the header has no "id" column');
    const empty = await failure('id,reason\nSECRET1,x\n  ,y\n');
    expect(empty.message).toBe('opt-out.csv:3:1: the id is empty');
    const until = await failure('id,until\nSECRET1,30/11/2026\n');
    expect(until.message).toBe('opt-out.csv:2:2: until is not a date YYYY-MM-DD');
    expect(until.location).toEqual({ file: 'opt-out.csv', line: 2, column: 2 });
    const quote = await failure('id\n"SECRET1\n');
    expect(quote.message).toMatch(/^opt-out\.csv(:\d+)?: is not CSV \(CSV_/);
    expect(await failure('')).toMatchObject({ message: 'opt-out.csv:1: is empty: a suppression list needs a header with an "id" column' });
    const broken = new Readable({
      read() {
        this.push(Buffer.from('id\nSECRET1\n'));
        this.destroy(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }));
      },
    });
    expect((await failure(broken)).message).toBe('opt-out.csv: cannot be read');
    for (const e of [noId, empty, until, quote]) expect(e.message).not.toContain('SECRET1');
  });

  it('costs 14 bytes plus the id per entry: measured on a million ids', () => {
    const builder = new SuppressionSetBuilder(asOf);
    const before = process.memoryUsage();
    for (let i = 0; i < 1_000_000; i++) builder.add(`C${String(i).padStart(9, '0')}`, i % 3 === 0 ? 'complaint' : 'opt-out');
    const set = builder.build();
    const after = process.memoryUsage();
    // Ten-character ids: 8 (hash) + 4 (offset) + 2 (reason) + 10 bytes each.
    expect(set.byteSize).toBeLessThan(24.1e6);
    expect(set.byteSize).toBeGreaterThan(24e6);
    expect(set.reasonOf('C000123456')).toBe('complaint');
    expect(set.reasonOf('C000123457')).toBe('opt-out');
    expect(set.reasonOf('C001000000')).toBeNull();
    console.info(`suppression set: ${(set.byteSize / 1e6).toFixed(1)} MB per million 10-char ids (shared arrays ${((after.arrayBuffers - before.arrayBuffers) / 1e6).toFixed(1)} MB incl. the builder's)`);
  });
});
