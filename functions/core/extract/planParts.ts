/** A byte range `[start, end)` of a plain extract that starts on a line; `firstLine` is that line's number. */
export interface ExtractPart {
  readonly start: number;
  readonly end: number;
  readonly firstLine: number;
}

/**
 * Random access to the bytes of an extract: a local file (`localByteRanges`), later an S3 object
 * read with ranged GETs, so the same planner serves both.
 */
export interface ByteRangeReader {
  /** Size in bytes. */
  readonly size: number;
  /** The bytes `[start, end)`; `end` never exceeds `size`. */
  read(start: number, end: number): Promise<Uint8Array>;
}

const LF = 0x0a;
const QUOTE = 0x22;
/** Bytes read per request while scanning for boundaries. */
const SCAN_CHUNK = 1024 * 1024;

/**
 * Splits an uncompressed extract into at most `parts` byte ranges of about equal size that
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
 * @example const parts = await planParts(await localByteRanges('/tmp/customers.csv'), 4); // [{ start: 0, end: 23_530_807, firstLine: 1 }, …]
 */
export async function planParts(bytes: ByteRangeReader, parts: number): Promise<ExtractPart[]> {
  const { size } = bytes;
  const whole: ExtractPart[] = [{ start: 0, end: size, firstLine: 1 }];
  if (parts <= 1 || size === 0 || (await isGzip(bytes))) return whole;

  const targets = Array.from({ length: parts - 1 }, (_, k) => Math.floor(((k + 1) * size) / parts));
  const boundaries: Array<{ offset: number; line: number }> = [];
  let offset = 0;
  let lines = 1;
  let quotes = 0;
  while (offset < size && boundaries.length < targets.length) {
    const chunk = await bytes.read(offset, Math.min(size, offset + SCAN_CHUNK));
    // A reader that returns nothing would loop forever; a short read just moves on less far.
    if (chunk.length === 0) throw new Error(`the byte reader returned nothing at offset ${offset} of ${size}`);
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

async function isGzip(bytes: ByteRangeReader): Promise<boolean> {
  if (bytes.size < 2) return false;
  const head = await bytes.read(0, 2);
  return head[0] === 0x1f && head[1] === 0x8b;
}
