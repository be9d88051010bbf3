import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { renderScoredLines } from '../../../functions/core/engine/scoredLines.js';
import { binPrefix, spoolLine } from '../../../functions/core/engine/spool.js';

/** Collects what is written, as one string. */
function sink(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** The bytes cut into chunks of `size` (lines cut anywhere, also inside a multi-byte character). */
function chunked(text: string, size: number): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

// Bins 0, 7 and 42 fall in deciles 10, 3 and 1.
const decileByBin = new Uint8Array(100);
decileByBin[0] = 10;
decileByBin[7] = 3;
decileByBin[42] = 1;

const spooled = [
  `${binPrefix(42)}C1,0.912,yes`,
  `${binPrefix(7)}${spoolLine('"Zoë\nB",0.300,no')}`,
  `${binPrefix(0)}${spoolLine('C\\3,0.010,no')}`,
  `${binPrefix(7)}C4,0.301,no`,
].join('\n') + '\n';
const expected = ['C1,0.912,yes,1', '"Zoë\nB",0.300,no,3', 'C\\3,0.010,no,10', 'C4,0.301,no,3'].join('\n') + '\n';

describe('renderScoredLines: spooled scored lines → scores.csv rows with their decile', () => {
  it('drops each bin prefix, appends the bin\'s decile (10 as two digits) and undoes the spool escapes', async () => {
    const { out, text } = sink();
    await renderScoredLines(chunked(spooled, 1 << 20), decileByBin, out, 'x.csv');
    expect(text()).toBe(expected);
  });

  it('gives the same bytes whatever the chunks cut (every size from 1 to a whole line and more)', async () => {
    for (const size of [1, 2, 3, 5, 8, 13, 21, 34, 64]) {
      const { out, text } = sink();
      await renderScoredLines(chunked(spooled, size), decileByBin, out, 'x.csv');
      expect(text(), `chunks of ${size}`).toBe(expected);
    }
  });

  it('fails, naming the part, on a spool that ends inside a line', async () => {
    const { out } = sink();
    await expect(renderScoredLines(chunked(`${binPrefix(7)}C4,0.301,no`, 4), decileByBin, out, 'x.csv (part 2 of 3)')).rejects.toThrow(
      'x.csv (part 2 of 3): the scored spool ends inside a line',
    );
  });
});
