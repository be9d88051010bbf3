import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TempFileSpool } from '../../../functions/adapters/fs/tempFileSpool.js';
import { ExtractError } from '../../../functions/core/errors.js';
import { assertCustomersInOnePart, CUSTOMER_IDS_CHANNEL } from '../../../functions/core/engine/crossPartCustomers.js';
import { spoolLine } from '../../../functions/core/engine/spool.js';
import { ClosedCustomerIds, compareCodePoints } from '../../../functions/core/extract/closedCustomerIds.js';
import { customerNotConsecutiveError } from '../../../functions/core/extract/longLayout.js';

type Customer = readonly [id: string, firstLine: number, lastLine: number];

let parent: string;
const spools: TempFileSpool[] = [];

beforeAll(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'propensity-crosspart-'));
});
afterAll(async () => {
  await Promise.all(spools.map((s) => s.dispose()));
  await rm(parent, { recursive: true, force: true });
});

/** A part's channel, as a part writes it: ids in UTF-8 byte order, `<first>,<last>,<id spool-escaped>`. */
async function part(customers: readonly Customer[]): Promise<{ spool: TempFileSpool; channel: string }> {
  const spool = await TempFileSpool.create(parent);
  spools.push(spool);
  const sorted = [...customers].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  spool.open(CUSTOMER_IDS_CHANNEL).end(sorted.map(([id, first, last]) => `${first},${last},${spoolLine(id)}\n`).join(''));
  await spool.close();
  return { spool, channel: CUSTOMER_IDS_CHANNEL };
}

const check = async (parts: ReadonlyArray<readonly Customer[]>) => assertCustomersInOnePart(await Promise.all(parts.map(part)), 'long.csv', 'customer_id').then(() => null, (error: unknown) => error);

describe('assertCustomersInOnePart: a long extract scored in parts, a customer in two of them', () => {
  it('refuses a customer in two of three parts with the single pass error: its first block, and the line its second starts', async () => {
    const error = await check([
      [['A', 2, 11], ['B', 12, 21], ['C', 22, 31]],
      [['D', 32, 41], ['E', 42, 51]],
      [['B', 52, 55], ['F', 56, 65]],
    ]);
    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toEqual(customerNotConsecutiveError('long.csv', 'customer_id', { firstLine: 12, lastLine: 21 }, 52));
    expect(error).toMatchObject({ code: 'EXTRACT_CUSTOMER_NOT_CONSECUTIVE', location: { file: 'long.csv', line: 52, column: 'customer_id' } });
    expect((error as Error).message).toBe('long.csv:52 (column "customer_id"): the rows of one customer are not consecutive: lines 12–21 and line 52 have the same "customer_id"; a long extract must be sorted by customer (ORDER BY customer_id)');
    expect((error as Error).message).not.toContain('"B"');
  });

  it('of several repeated customers, names the one whose later block starts first (what a single pass meets first), not the first id', async () => {
    const error = await check([
      [['A', 2, 3], ['Z', 4, 4]],
      [['M', 5, 6], ['A', 7, 7]],
      [['Z', 8, 9], ['M', 10, 10], ['A', 11, 12]],
    ]);
    // A comes back at 7 (and 11), Z at 8, M at 10: A at line 7, naming its first block 2–3.
    expect(error).toEqual(customerNotConsecutiveError('long.csv', 'customer_id', { firstLine: 2, lastLine: 3 }, 7));
    const later = await check([
      [['A', 2, 3], ['Z', 4, 4]],
      [['M', 5, 6], ['Z', 7, 7]],
      [['A', 8, 8]],
    ]);
    expect(later).toEqual(customerNotConsecutiveError('long.csv', 'customer_id', { firstLine: 4, lastLine: 4 }, 7));
    expect((later as Error).message).toContain('line 4 and line 7');
  });

  it('passes parts whose customers are all different, also when one part is empty', async () => {
    expect(await check([[['A', 2, 5], ['C', 6, 9]], [], [['B', 10, 12], ['AB', 13, 13], ['a', 14, 20]]])).toBeNull();
  });

  it('tells ids apart exactly: commas, quotes, line feeds, backslashes, case, spaces and non-ASCII', async () => {
    const tricky: Customer[] = [
      ['1,2', 2, 2], ['"q"', 3, 3], ['a\nb', 4, 4], ['a\\nb', 5, 5], ['a\r\nb', 6, 6], ['É', 7, 7], ['E\u0301', 8, 8], ['\u{1F600}', 9, 9], ['\uFF21', 10, 10], ['x', 11, 11], ['X', 12, 12], ['x ', 13, 13],
    ];
    // Half in each of two parts: no id is another's, whatever its bytes.
    expect(await check([tricky.filter((_, i) => i % 2 === 0), tricky.filter((_, i) => i % 2 === 1)])).toBeNull();
    // The same ids, each repeated in a third part: the one with the earliest repeat is named, with its own lines.
    for (const [id, line] of [['a\nb', 4], ['\u{1F600}', 9], ['\uFF21', 10], ['1,2', 2]] as const) {
      const error = await check([tricky.filter((_, i) => i % 2 === 0), tricky.filter((_, i) => i % 2 === 1), [[id, 100 + line, 100 + line], ['zzz', 200, 200]]]);
      expect(error, JSON.stringify(id)).toEqual(customerNotConsecutiveError('long.csv', 'customer_id', { firstLine: line, lastLine: line }, 100 + line));
    }
  });

  it('reads every channel to its end and leaves the spools as they were', async () => {
    const parts = await Promise.all(([[['A', 2, 2]], [['B', 3, 3]]] as Customer[][]).map(part));
    await assertCustomersInOnePart(parts, 'long.csv', 'customer_id');
    await assertCustomersInOnePart(parts, 'long.csv', 'customer_id');
    expect(parts.map((p) => p.spool.channels())).toEqual([['scores', 'rejects', CUSTOMER_IDS_CHANNEL], ['scores', 'rejects', CUSTOMER_IDS_CHANNEL]]);
    expect((await readdir(parent)).length).toBeGreaterThan(0);
  });

  it('refuses a channel that is not sorted rather than miss a repeat', async () => {
    const spool = await TempFileSpool.create(parent);
    spools.push(spool);
    spool.open(CUSTOMER_IDS_CHANNEL).end('2,2,B\n3,3,A\n');
    await spool.close();
    await expect(assertCustomersInOnePart([{ spool, channel: CUSTOMER_IDS_CHANNEL }, await part([['C', 4, 4]])], 'long.csv', 'customer_id')).rejects.toThrow('part 1 spooled its customers out of order');
  });
});

describe('ClosedCustomerIds.sorted and compareCodePoints: one order, the UTF-8 bytes', () => {
  const ids = ['b', 'a', 'É', '\uFF21', '\u{1F600}', '\uE000', 'a\nb', 'ab', '', 'Z', '\u00FF', '1,2'];

  it('hands every closed customer on with its lines, ids in UTF-8 byte order', () => {
    const closed = new ClosedCustomerIds();
    ids.forEach((id, i) => closed.add(id, 10 * i + 2, 10 * i + 5));
    const sorted = [...closed.sorted()];
    const expected = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(sorted.map((c) => c.id)).toEqual(expected);
    for (const { id, firstLine, lastLine } of sorted) expect([firstLine, lastLine]).toEqual([10 * ids.indexOf(id) + 2, 10 * ids.indexOf(id) + 5]);
  });

  it('compareCodePoints orders as the bytes do, where UTF-16 units do not (U+E000…U+FFFF against astral characters)', () => {
    for (const a of ids) {
      for (const b of ids) expect(Math.sign(compareCodePoints(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }
    expect('\uFF21' < '\u{1F600}').toBe(false); // why plain < will not do
    expect(compareCodePoints('\uFF21', '\u{1F600}')).toBeLessThan(0);
  });
});
