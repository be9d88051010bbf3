import type { Writable } from 'node:stream';
import { BIN_DIGITS, unspoolLine } from './spool.js';
import { writeText } from './textStreams.js';

/**
 * Renders a part's scored rows once the run's deciles are known, and hands back the rendered
 * bytes of each part in file order. The merge calls it as soon as it knows the deciles and meanwhile
 * writes the other outputs: a run on worker threads renders its parts there, in parallel
 * (`scoreInParts`); without one, the merge renders them itself with {@link renderScoredLines}.
 */
export type ScoresRenderer = (decileByBin: Readonly<Uint8Array>) => Promise<ReadonlyArray<() => AsyncIterable<Uint8Array>>>;

const LF = 0x0a;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;
const ZERO = 0x30;

/**
 * Copies a part's scored spool lines (`<bin>|<row>`) to `out` as scores.csv rows, replacing each
 * line's bin prefix by the bin's decile at the end of the row: no decoding or string per row (a
 * million rows a second is the point). A row holding a backslash was spool-escaped and goes through
 * {@link unspoolLine}.
 *
 * @throws Error when the spool ends inside a line (`source` names the part)
 */
export async function renderScoredLines(scored: AsyncIterable<Uint8Array>, decileByBin: Readonly<Uint8Array>, out: Writable, source: string): Promise<void> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of scored) {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (carry.length > 0) {
      // Only the line cut at the last chunk's end is stitched together, not the whole chunk.
      const lf = buf.indexOf(LF);
      if (lf === -1) {
        carry = Buffer.concat([carry, buf]);
        continue;
      }
      const stitched = Buffer.concat([carry, buf.subarray(0, lf + 1)]);
      await writeText(out, scoredLinesAsCsv(stitched, decileByBin).bytes);
      buf = buf.subarray(lf + 1);
    }
    const { bytes, rest } = scoredLinesAsCsv(buf, decileByBin);
    carry = Buffer.from(rest);
    if (bytes.length > 0) await writeText(out, bytes);
  }
  if (carry.length > 0) throw new Error(`${source}: the scored spool ends inside a line`);
}

/** The complete scored lines of `buf` as scores.csv rows, and what follows the last line feed. */
function scoredLinesAsCsv(buf: Buffer, decileByBin: Readonly<Uint8Array>): { bytes: Buffer; rest: Buffer } {
  // Each line loses its prefix (BIN_DIGITS + 1 bytes) and gains at most 3 (",10"): never longer.
  const copy = Buffer.allocUnsafe(buf.length);
  let o = 0;
  let start = 0;
  let backslash = buf.indexOf(BACKSLASH);
  for (let lf = buf.indexOf(LF); lf !== -1; lf = buf.indexOf(LF, start)) {
    let bin = 0;
    for (let k = 0; k < BIN_DIGITS; k++) bin = bin * 10 + buf[start + k]! - ZERO;
    const rowStart = start + BIN_DIGITS + 1;
    if (backslash !== -1 && backslash < rowStart) backslash = buf.indexOf(BACKSLASH, rowStart);
    if (backslash !== -1 && backslash < lf) o += copy.write(unspoolLine(buf.toString('utf8', rowStart, lf)), o, 'utf8');
    else {
      // A byte loop: a row is a few dozen bytes, where Buffer#copy's call costs more than the copy.
      for (let i = rowStart; i < lf; i++) copy[o++] = buf[i]!;
    }
    const decile = decileByBin[bin]!;
    copy[o++] = COMMA;
    if (decile === 10) {
      copy[o++] = ZERO + 1;
      copy[o++] = ZERO;
    } else copy[o++] = ZERO + decile;
    copy[o++] = LF;
    start = lf + 1;
  }
  return { bytes: copy.subarray(0, o), rest: buf.subarray(start) };
}
