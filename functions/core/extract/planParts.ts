import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/** A byte range `[start, end)` of a plain extract that starts on a line; `firstLine` is that line's number. */
export interface ExtractPart {
  readonly start: number;
  readonly end: number;
  readonly firstLine: number;
}

const LF = 0x0a;
const QUOTE = 0x22;

/**
 * Splits an uncompressed local extract into at most `parts` byte ranges of about equal size that
 * cover the file exactly, each starting at the beginning of a line (the first range holds the
 * header line). Read a later range with `openExtract(…, { header: false, headerFields, firstLine })`.
 *
 * The file is scanned from the start, counting line feeds (so `firstLine` is exact) and double
 * quotes: a boundary is only placed after a line feed preceded by an even number of quotes, so a
 * quoted field that spans lines is never cut. A stray quote inside an unquoted field upsets that
 * count: the plan then may hold fewer ranges, or (if a second stray quote evens it out inside a
 * multi-line quoted field) cut such a field. A gzip file cannot be split: it comes back as one
 * range. Ranges that would be empty are left out.
 *
 * @example const parts = await planParts('/tmp/customers.csv', 4); // [{ start: 0, end: 23_530_807, firstLine: 1 }, …]
 */
export async function planParts(path: string, parts: number): Promise<ExtractPart[]> {
  const { size } = await stat(path);
  const whole: ExtractPart[] = [{ start: 0, end: size, firstLine: 1 }];
  if (parts <= 1 || size === 0 || (await isGzip(path))) return whole;

  const targets = Array.from({ length: parts - 1 }, (_, k) => Math.floor(((k + 1) * size) / parts));
  const boundaries: Array<{ offset: number; line: number }> = [];
  let offset = 0;
  let lines = 1;
  let quotes = 0;
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let nextQuote = chunk.indexOf(QUOTE);
      for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, lf + 1)) {
        while (nextQuote !== -1 && nextQuote < lf) {
          quotes++;
          nextQuote = chunk.indexOf(QUOTE, nextQuote + 1);
        }
        lines++;
        const lineStart = offset + lf + 1;
        const target = targets[boundaries.length];
        if (target !== undefined && quotes % 2 === 0 && lineStart >= target && lineStart < size) {
          boundaries.push({ offset: lineStart, line: lines });
          // Several targets may fall inside one long line: one boundary serves them all.
          while (boundaries.length < targets.length && targets[boundaries.length]! <= lineStart) targets.splice(boundaries.length, 1);
        }
      }
      while (nextQuote !== -1) {
        quotes++;
        nextQuote = chunk.indexOf(QUOTE, nextQuote + 1);
      }
      offset += chunk.length;
      if (boundaries.length === targets.length) break;
    }
  } finally {
    stream.destroy();
  }

  const result: ExtractPart[] = [];
  let start = 0;
  let firstLine = 1;
  for (const boundary of boundaries) {
    result.push({ start, end: boundary.offset, firstLine });
    start = boundary.offset;
    firstLine = boundary.line;
  }
  result.push({ start, end: size, firstLine });
  return result;
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
