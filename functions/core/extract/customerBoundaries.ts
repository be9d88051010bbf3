import type { ByteRangeReader, ExtractPart } from './planParts.js';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
/** Bytes read per request while looking for the next customer. */
const SCAN_CHUNK = 256 * 1024;
/** A record longer than this (an unclosed quote?) ends the search: the boundary is dropped, and the reader refuses the record. */
const MAX_RECORD_SCAN = 16 * 1024 * 1024;

/** Where a long extract's customer id sits in a line. */
export interface CustomerKey {
  readonly delimiter: string;
  /** 0-based field index of the id column. */
  readonly idIndex: number;
  /**
   * What the reader refuses before it looks at the customer (a record of another field count, an id
   * that is a missing marker): such a record belongs to no customer, as a blank line does, so a
   * customer's rows on both sides of it stay in one part. @default every record is a customer's
   */
  readonly fieldCount?: number;
  readonly missing?: ReadonlySet<string>;
}

/**
 * Moves each boundary of a line-aligned plan (see `planParts`) forward to the next line whose
 * customer id differs from the line before it, so that no part splits a long extract's customer:
 * each part then reads whole customers, and the parts merge byte-identically with a single run.
 * A boundary with no change of customer after it is dropped (fewer parts); so is one that lands on
 * another. Records of no customer (see {@link CustomerKey.fieldCount}) neither start nor end one. Lines inside a quoted field that spans lines (an odd count of quotes since the boundary)
 * are never taken as a boundary.
 *
 * Cost: per boundary, one read of the line before it and reads forward through one customer's rows.
 *
 * @example const parts = await alignPartsToCustomers(bytes, await planParts(bytes, 4), { delimiter: ',', idIndex: 0 });
 */
export async function alignPartsToCustomers(bytes: ByteRangeReader, plan: readonly ExtractPart[], key: CustomerKey): Promise<ExtractPart[]> {
  if (plan.length <= 1) return [...plan];
  const boundaries: Array<{ start: number; firstLine: number }> = [];
  for (const part of plan.slice(1)) {
    const moved = await nextCustomerStart(bytes, part.start, part.firstLine, key);
    if (moved && moved.start > (boundaries.at(-1)?.start ?? 0)) boundaries.push(moved);
  }
  const parts: ExtractPart[] = [];
  let start = 0;
  let firstLine = 1;
  for (const boundary of boundaries) {
    parts.push({ start, end: boundary.start, firstLine });
    ({ start, firstLine } = boundary);
  }
  parts.push({ start, end: bytes.size, firstLine });
  return parts;
}

/**
 * The start of the first record at or after `start` whose id differs from the record before it, or
 * null. Records, not lines: a quoted field may span lines, so a record ends at the first line feed
 * with an even count of quotes since its start (`start` itself is such a point: `planParts` says so).
 */
async function nextCustomerStart(bytes: ByteRangeReader, start: number, firstLine: number, key: CustomerKey): Promise<{ start: number; firstLine: number } | null> {
  let previous = await customerBefore(bytes, start, key);
  const decoder = new TextDecoder();
  let offset = start;
  let line = firstLine;
  // The bytes of the record being read (from its start), how far they were scanned, and their quotes.
  let pending: Uint8Array = new Uint8Array(0);
  let scanned = 0;
  let quotes = 0;
  let recordStart = start;
  let recordLine = firstLine;
  while (offset < bytes.size) {
    const chunk = await bytes.read(offset, Math.min(bytes.size, offset + SCAN_CHUNK));
    if (chunk.length === 0) throw new Error(`the byte reader returned nothing at offset ${offset} of ${bytes.size}`);
    const text = concat(pending, chunk);
    // File offset of text[0]: the start of the record being read.
    const base = offset - pending.length;
    let from = 0;
    for (let lf = text.indexOf(LF, scanned); lf !== -1; lf = text.indexOf(LF, lf + 1)) {
      for (let i = scanned; i < lf; i++) if (text[i] === QUOTE) quotes++;
      scanned = lf + 1;
      line++;
      if (quotes % 2 !== 0) continue;
      const record = decoder.decode(text.subarray(from, lf));
      // A blank line is no record (the reader skips it), a refused one no customer's: neither starts nor ends a customer.
      const id = customerOf(record, key);
      if (id !== null) {
        if (id !== previous) return { start: recordStart, firstLine: recordLine };
        previous = id;
      }
      from = lf + 1;
      recordStart = base + from;
      recordLine = line;
      quotes = 0;
    }
    pending = text.subarray(from);
    if (pending.length > MAX_RECORD_SCAN) return null;
    scanned -= from;
    offset += chunk.length;
  }
  // The last record, without a line feed after it.
  for (let i = scanned; i < pending.length; i++) if (pending[i] === QUOTE) quotes++;
  const last = customerOf(decoder.decode(pending), key);
  if (last !== null && quotes % 2 === 0 && last !== previous) return { start: recordStart, firstLine: recordLine };
  return null;
}

/**
 * The customer of the last record that ends before `start` (which follows a line feed at an even
 * count of quotes), blank lines and records of no customer skipped, or '' when there is none: a record
 * begins at the nearest line start before its end with an even count of quotes up to that end.
 */
async function customerBefore(bytes: ByteRangeReader, start: number, key: CustomerKey): Promise<string> {
  const decoder = new TextDecoder();
  for (let window = 64 * 1024; ; window *= 2) {
    const from = Math.max(0, start - window);
    const chunk = await bytes.read(from, start);
    let end = chunk.length > 0 && chunk[chunk.length - 1] === LF ? chunk.length - 1 : chunk.length;
    let quotes = 0;
    for (let i = end - 1; i >= -1; i--) {
      if (i >= 0 && chunk[i] === QUOTE) quotes++;
      const lineStart = i < 0 ? from === 0 : chunk[i] === LF;
      if (!lineStart || quotes % 2 !== 0) continue;
      const id = customerOf(decoder.decode(chunk.subarray(i + 1, end)), key);
      if (id !== null) return id;
      end = i;
    }
    if (from === 0) return '';
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** The customer of a record (its {@link idOf}), or null for a blank line or a record the reader refuses before its id. */
function customerOf(record: string, key: CustomerKey): string | null {
  if (record.trim() === '') return null;
  const id = idOf(record, key);
  if (key.missing?.has(id)) return null;
  if (key.fieldCount !== undefined && fieldsOf(record, key.delimiter) !== key.fieldCount) return null;
  return id;
}

/** Fields of one record: delimiters outside quotes, plus one. */
function fieldsOf(record: string, delimiter: string): number {
  let fields = 1;
  let quoted = false;
  for (let i = 0; i < record.length; i++) {
    const c = record[i];
    if (c === '"') quoted = !quoted;
    else if (c === delimiter && !quoted) fields++;
  }
  return fields;
}

/** The trimmed, unquoted id field of one line (a CR before the line feed dropped). */
export function idOf(line: string, key: CustomerKey): string {
  const text = line.length > 0 && line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
  let field = 0;
  let value = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          if (field === key.idIndex) value += '"';
          i++;
        } else quoted = false;
      } else if (field === key.idIndex) value += c;
    } else if (c === '"') quoted = true;
    else if (c === key.delimiter) {
      if (field === key.idIndex) break;
      field++;
    } else if (field === key.idIndex) value += c;
  }
  return field < key.idIndex ? '' : value.trim();
}
