import { isAscii, isUtf8 } from 'node:buffer';
import { Parser, type Options as CsvParseOptions } from 'csv-parse';
import { ExtractError, type RowReject } from '../errors.js';
import { DEFAULT_EXTRACT_LIMITS, describeLimit, type ExtractLimits } from './extractLimits.js';
import { completeUtf8End, firstInvalidUtf8 } from './utf8.js';

/** One data record of an extract: its fields, where it starts, and its text as in the file. */
export interface ExtractRecord {
  /** 1-based physical line where the record starts. */
  readonly line: number;
  readonly fields: string[];
  /** The record as it appears in the file, without its line ending. */
  readonly raw: string;
}

export type ExtractItem = { kind: 'record'; record: ExtractRecord } | { kind: 'reject'; reject: RowReject };

export interface ExtractParserOptions {
  /** File name or S3 key, used in every error message. */
  readonly source: string;
  /** The one-character field delimiter. */
  readonly delimiter: string;
  /** The first record is the header (consumed; its names are used unless `headerFields` are given). */
  readonly header: boolean;
  /** Column names from elsewhere, e.g. for a later part of a file that has no header line. */
  readonly headerFields?: readonly string[] | undefined;
  /** Physical line number of the first byte. */
  readonly firstLine: number;
  /**
   * Fields every record must have when there is no header (a header-less file's spec knows it);
   * without it, the header's count, else the first record's.
   */
  readonly fieldCount?: number | undefined;
  /** A record longer than this (or still open after this many bytes: a quote that never closes) refuses the file. @default 1 MiB */
  readonly maxRecordBytes?: number;
  /** Bytes this parser may be fed (decompressed), blank lines included. @default 20 GiB */
  readonly maxBytes?: number;
  /** Physical lines this parser may read from `firstLine` on, blank ones and the header included. @default 200 million */
  readonly maxRows?: number;
  /**
   * The lines and bytes of the file before `firstLine` that count against `maxRows` and `maxBytes`
   * (a later part of a file, whose limits are the whole file's). @default none
   */
  readonly before?: { readonly lines: number; readonly bytes: number };
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);
/** Bytes handed to csv-parse at a time once a line needs it; doubled while lines keep needing it. */
const MIN_CSV_PARSE_STRETCH = 8 * 1024;
const MAX_CSV_PARSE_STRETCH = 512 * 1024;

/** The part of csv-parse's synchronous core we drive (see {@link createCsvCore}). */
interface CsvCore {
  readonly info: { readonly bytes: number };
  parse(buf: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): CsvErrorLike | undefined;
}

/** csv-parse's `CsvError`: a code such as `CSV_QUOTE_NOT_CLOSED`, and where it stopped. */
type CsvErrorLike = Error & { code?: string; column?: unknown };

/**
 * csv-parse's stream `Parser` wraps a synchronous core (`parser.api`, the same core its `sync` and
 * web-stream adapters use). Driving it directly saves the stream machinery per record and lets us
 * read `info.bytes` (where the record ends) without the per-record `info` copy, which costs ~30 %.
 */
function createCsvCore(options: CsvParseOptions): CsvCore {
  const core = (new Parser(options) as unknown as { api?: CsvCore }).api;
  if (core === undefined || typeof core.parse !== 'function' || typeof core.info?.bytes !== 'number') {
    throw new Error('csv-parse no longer exposes Parser#api; the extract reader needs csv-parse 7');
  }
  return core;
}

const noop = (): void => {};

/** Header names as people mean them: trimmed, without a BOM or surrounding quotes. */
export function cleanHeaderName(name: string): string {
  let text = name.replace(/^\uFEFF/, '').trim();
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).replaceAll('""', '"').trim();
  return text;
}

/**
 * Splits a line whose quotes all wrap whole fields (`58;"management";"married"`), the way csv-parse
 * would; undefined when any field has a quote elsewhere (`""` inside, a delimiter or line break in
 * quotes, a stray quote), for csv-parse to handle. Why it is safe: a quoted field holding a
 * delimiter or line break always leaves a piece that starts with a quote but does not end with one,
 * or holds a quote inside.
 */
function splitPlainQuoted(line: string, delimiter: string): string[] | undefined {
  const pieces = line.split(delimiter);
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    const quote = piece.indexOf('"');
    if (quote === -1) continue;
    if (quote !== 0 || piece.length < 2 || piece.indexOf('"', 1) !== piece.length - 1) return undefined;
    pieces[i] = piece.slice(1, -1);
  }
  return pieces;
}

/**
 * Line endings in `buf[from, to)`: LF, CRLF (one ending) and a lone CR all end a line, so files
 * with mixed endings (a warehouse export appended to a classic-Mac one) keep their line numbers.
 */
function countLineEnds(buf: Buffer, from: number, to: number): number {
  let count = 0;
  for (let i = buf.indexOf(LF, from); i !== -1 && i < to; i = buf.indexOf(LF, i + 1)) count++;
  for (let i = buf.indexOf(CR, from); i !== -1 && i < to; i = buf.indexOf(CR, i + 1)) if (buf[i + 1] !== LF) count++;
  return count;
}

/** Index just after the first line ending in `buf[from, end)`, or `end` when there is none. */
function afterLineEnd(buf: Buffer, from: number, end: number): number {
  const lf = buf.indexOf(LF, from);
  const cr = buf.indexOf(CR, from);
  const next = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
  if (next === -1 || next >= end) return end;
  return buf[next] === CR && buf[next + 1] === LF ? next + 2 : next + 1;
}

/**
 * The pure parsing core of the extract reader: bytes in (`write`, `end`), {@link ExtractItem}s
 * out (`takeItems`), no I/O. Feeds are decompressed and BOM-free.
 *
 * Lines take a fast path when they have no quotes or only quotes around whole fields: decode the
 * line, split on the delimiter, unwrap the quotes. That is exactly what csv-parse yields for them,
 * at several times the speed. Lines with any other quoting (a delimiter, doubled quote or line
 * break inside quotes, a stray quote) go through csv-parse. Bytes are checked to be UTF-8 before
 * they are parsed. A bad file throws an {@link ExtractError}; items parsed before the problem stay
 * available through `takeItems`.
 */
export class ExtractParser {
  /** Header names (cleaned), or `headerFields`, or null before/without a header. */
  header: string[] | null;
  records = 0;
  rejects = 0;
  bytes = 0;

  private items: ExtractItem[] = [];
  /** Unparsed bytes; `pos` is where the next record starts (always a line start). */
  private win: Buffer = EMPTY;
  private pos = 0;
  /** Bytes of `win` before this index are known to be valid UTF-8. */
  private validated = 0;
  /** Offset of `win[0]` in the whole input. */
  private base = 0;
  /** Where the last csv-parse stretch ended (offset in the whole input), and how long it was. */
  private stretchEnd = -1;
  private stretch = MIN_CSV_PARSE_STRETCH;
  /** Physical line number at `pos`. */
  private line: number;
  private expectedFields: number | undefined;
  private awaitingHeader: boolean;
  private readonly maxRecordBytes: number;
  private readonly maxBytes: number;
  private readonly maxRows: number;
  private readonly linesBefore: number;
  private readonly bytesBefore: number;
  private readonly strict: CsvParseOptions;
  private readonly relaxed: CsvParseOptions;

  constructor(private readonly options: ExtractParserOptions) {
    this.line = options.firstLine;
    this.awaitingHeader = options.header;
    this.header = options.headerFields ? [...options.headerFields] : null;
    this.expectedFields = options.headerFields?.length ?? options.fieldCount;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_EXTRACT_LIMITS.maxRecordBytes;
    this.maxBytes = options.maxBytes ?? DEFAULT_EXTRACT_LIMITS.maxBytes;
    this.maxRows = options.maxRows ?? DEFAULT_EXTRACT_LIMITS.maxRows;
    this.linesBefore = options.before?.lines ?? 0;
    this.bytesBefore = options.before?.bytes ?? 0;
    this.strict = {
      delimiter: options.delimiter,
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      skip_empty_lines: true,
      bom: false,
    };
    // Only used to find where a record with a quoting error ends, so it can be rejected whole.
    this.relaxed = { ...this.strict, relax_quotes: true, to: 1 };
  }

  /** Items parsed since the last call, in file order. */
  takeItems(): ExtractItem[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  /** Feeds the next chunk; parses every record it completes. */
  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    // Counted as the bytes stream in, so a small gzip that expands without end stops here.
    if (this.bytesBefore + this.bytes > this.maxBytes) throw this.tooLarge('maxBytes', this.line);
    this.win = this.win.length === 0 ? chunk : Buffer.concat([this.win, chunk]);
    this.advance(false);
    // Keep only the unfinished record, as a copy: the caller may reuse the chunk's memory.
    this.validated -= this.pos;
    this.base += this.pos;
    this.win = this.pos === this.win.length ? EMPTY : Buffer.from(this.win.subarray(this.pos));
    this.pos = 0;
  }

  /** Signals the end of input; parses the last record even without a line ending. */
  end(): void {
    this.advance(true);
  }

  private advance(final: boolean): void {
    const win = this.win;
    const end = final ? win.length : completeUtf8End(win, this.validated, win.length);
    if (end > this.validated && !isUtf8(win.subarray(this.validated, end))) {
      const invalidAt = firstInvalidUtf8(win, this.validated, end);
      const error = this.encodingError(invalidAt);
      // Records before the bad line are still delivered, so the error comes in file order.
      this.parseUpTo(this.lineStart(invalidAt), false);
      throw error;
    }
    this.validated = end;
    this.parseUpTo(end, final);
    if (!final && this.win.length - this.pos > this.maxRecordBytes) {
      this.skipBlankLines();
      throw this.tooLarge('maxRecordBytes', this.line);
    }
  }

  /**
   * EXTRACT_TOO_LARGE naming the limit, its value and the line reached; never content. A record
   * past `maxRecordBytes` refuses the whole file rather than becoming a reject: its raw text would
   * go into rejects.csv, and a record that long (an unclosed quote, a binary file) means the rest
   * of the file cannot be trusted to split into records either.
   */
  private tooLarge(limit: keyof ExtractLimits, line: number): ExtractError {
    const value = limit === 'maxBytes' ? this.maxBytes : limit === 'maxRows' ? this.maxRows : this.maxRecordBytes;
    return new ExtractError('EXTRACT_TOO_LARGE', `the extract is too large: ${describeLimit(limit, value)}`, { file: this.options.source, line });
  }

  /** Whether the line at `line` is past the `maxRows` budget. */
  private pastRows(line: number): boolean {
    return line - this.options.firstLine + this.linesBefore >= this.maxRows;
  }

  private lineStart(index: number): number {
    if (index <= this.pos) return this.pos;
    return Math.max(this.pos, this.win.lastIndexOf(LF, index - 1) + 1, this.win.lastIndexOf(CR, index - 1) + 1);
  }

  /** Index after the last complete line ending in `win[pos, limit)`, or `pos`. A CR at `limit - 1` may be half a CRLF: not yet. */
  private completeLinesEnd(limit: number): number {
    if (limit <= this.pos) return this.pos;
    const lf = this.win.lastIndexOf(LF, limit - 1);
    const cr = limit >= 2 ? this.win.lastIndexOf(CR, limit - 2) : -1;
    return Math.max(this.pos, lf + 1, cr + 1);
  }

  private encodingError(index: number): ExtractError {
    const line = this.line + countLineEnds(this.win, this.pos, index);
    const column = index - this.lineStart(index) + 1;
    const byte = this.win[index]!.toString(16).toUpperCase().padStart(2, '0');
    return new ExtractError(
      'EXTRACT_ENCODING',
      `not valid UTF-8 (byte 0x${byte} at byte ${column} of the line); save the extract as UTF-8`,
      { file: this.options.source, line, column },
    );
  }

  /**
   * Parses the complete lines in `win[pos, limit)` (all of it when `final`). Each line is decoded
   * and split on the delimiter; a line whose quoting is more than `"plain"` fields hands the lines
   * from there to csv-parse.
   */
  private parseUpTo(limit: number, final: boolean): void {
    const { win } = this;
    const delimiter = this.options.delimiter;
    const end = final ? limit : this.completeLinesEnd(limit);
    let start = this.pos;
    // Warehouse extracts are nearly always ASCII: then the stretch is decoded once and each line is
    // a slice of it (byte and character offsets agree), instead of a UTF-8 decode per line.
    const textStart = start;
    const text = end > start && isAscii(win.subarray(start, end)) ? win.toString('latin1', start, end) : null;
    // The next LF and CR at or after `start` (-1: none left), each searched again only once passed.
    let lf = win.indexOf(LF, start);
    let cr = win.indexOf(CR, start);
    while (start < end) {
      // Blank lines count too: a gzip bomb of empty lines stops here.
      if (this.pastRows(this.line)) throw this.tooLarge('maxRows', this.line);
      if (lf !== -1 && lf < start) lf = win.indexOf(LF, start);
      if (cr !== -1 && cr < start) cr = win.indexOf(CR, start);
      let stop = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (stop === -1 || stop >= end) stop = end;
      const next = stop < end && win[stop] === CR && win[stop + 1] === LF ? stop + 1 : stop;
      if (stop > start) {
        const raw = text !== null ? text.slice(start - textStart, stop - textStart) : win.toString('utf8', start, stop);
        const fields = raw.indexOf('"') === -1 ? raw.split(delimiter) : splitPlainQuoted(raw, delimiter);
        if (fields === undefined) {
          this.pos = start;
          // csv-parse takes a stretch of lines; if a quoted field runs past it, the rest of the
          // data; if past that too, it waits for the next chunk.
          this.stretch = this.base + start === this.stretchEnd ? Math.min(2 * this.stretch, MAX_CSV_PARSE_STRETCH) : MIN_CSV_PARSE_STRETCH;
          const stretchEnd = afterLineEnd(win, Math.min(start + this.stretch, end - 1), end);
          if (this.parseQuoted(stretchEnd, final && stretchEnd === end) || (stretchEnd < end && this.parseQuoted(end, final))) {
            start = this.pos;
            this.stretchEnd = this.base + start;
            continue;
          }
          return;
        }
        this.emit(fields, this.line, raw, stop - start);
      }
      this.line++;
      start = next + 1;
    }
    this.pos = end;
  }

  /**
   * Parses `win[pos, to)` with csv-parse. Returns false when the last record is still inside a
   * quoted field at `to` (more data needed); throws when that happens at the end of input.
   */
  private parseQuoted(to: number, final: boolean): boolean {
    for (;;) {
      const start = this.pos;
      const core = createCsvCore(this.strict);
      const error = core.parse(this.win.subarray(start, to), true, (fields) => this.takeRecord(fields, start + core.info.bytes), noop);
      if (error === undefined) return true;
      if (error instanceof ExtractError) throw error;
      if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
        if (final) throw this.unclosedQuote(error);
        return false;
      }
      if (error.code === 'INVALID_OPENING_QUOTE' || error.code === 'CSV_INVALID_CLOSING_QUOTE') {
        if (!this.rejectMalformed(to, final, error)) return false;
        continue;
      }
      this.skipBlankLines();
      throw new ExtractError('EXTRACT_MALFORMED', error.message, { file: this.options.source, line: this.line }, { cause: error });
    }
  }

  /** Moves `pos` over blank lines (csv-parse skips them silently) so it points at a record. */
  private skipBlankLines(): void {
    const win = this.win;
    while (this.pos < win.length && (win[this.pos] === LF || win[this.pos] === CR)) {
      if (win[this.pos] === CR && win[this.pos + 1] === LF) this.pos++;
      this.line++;
      this.pos++;
    }
  }

  /** Text of `win[from, to)` without the record's line ending. */
  private rawText(from: number, to: number): string {
    let stop = to;
    if (stop > from && this.win[stop - 1] === LF) stop--;
    if (stop > from && this.win[stop - 1] === CR && (stop === to || this.win[stop] === LF)) stop--;
    return this.win.toString('utf8', from, stop);
  }

  /** A record from csv-parse that ends (after its line ending) at `end`. */
  private takeRecord(fields: string[], end: number): void {
    this.skipBlankLines();
    const from = this.pos;
    const line = this.line;
    this.line += countLineEnds(this.win, from, end);
    this.pos = end;
    this.emit(fields, line, this.rawText(from, end), end - from);
  }

  /**
   * The record at `pos` has a quoting error. A relaxed parse (quotes kept as text) finds where it
   * ends; the whole record becomes a MALFORMED_QUOTES reject and parsing resumes after it.
   */
  private rejectMalformed(to: number, final: boolean, error: CsvErrorLike): boolean {
    this.skipBlankLines();
    const from = this.pos;
    const core = createCsvCore(this.relaxed);
    let fields: string[] | undefined;
    let end = to;
    const relaxedError = core.parse(this.win.subarray(from, to), true, (record) => {
      fields = record;
      end = from + core.info.bytes;
    }, noop);
    if (fields === undefined) {
      if (relaxedError?.code === 'CSV_QUOTE_NOT_CLOSED' && !final) return false;
      throw this.unclosedQuote(relaxedError ?? error);
    }
    const line = this.line;
    if (end - from > this.maxRecordBytes) throw this.tooLarge('maxRecordBytes', line);
    if (this.pastRows(line)) throw this.tooLarge('maxRows', line);
    this.line += countLineEnds(this.win, from, end);
    this.pos = end;
    const raw = this.rawText(from, end);
    if (this.awaitingHeader) {
      this.setHeader(fields);
      return true;
    }
    const index = typeof error.column === 'number' ? error.column + 1 : undefined;
    const problem =
      error.code === 'INVALID_OPENING_QUOTE' ? 'a quote inside an unquoted field' : 'text after the closing quote of a quoted field';
    this.reject({
      line,
      column: index === undefined ? '' : this.columnName(index),
      reason: 'MALFORMED_QUOTES',
      detail: index === undefined ? problem : `${problem} (field ${index})`,
      raw,
    });
    return true;
  }

  private unclosedQuote(error: CsvErrorLike): ExtractError {
    this.skipBlankLines();
    const index = typeof error.column === 'number' ? error.column + 1 : undefined;
    return new ExtractError(
      'EXTRACT_MALFORMED',
      `a quoted field in the record starting here is never closed`,
      { file: this.options.source, line: this.line, ...(index === undefined ? {} : { column: index }) },
      { cause: error },
    );
  }

  private columnName(index: number): string {
    return this.header?.[index - 1] || String(index);
  }

  private setHeader(fields: string[]): void {
    this.header = this.options.headerFields ? [...this.options.headerFields] : fields.map(cleanHeaderName);
    this.expectedFields = this.header.length;
    this.awaitingHeader = false;
  }

  private reject(reject: RowReject): void {
    this.rejects++;
    this.items.push({ kind: 'reject', reject });
  }

  private emit(fields: string[], line: number, raw: string, bytes: number): void {
    if (bytes > this.maxRecordBytes) throw this.tooLarge('maxRecordBytes', line);
    if (this.pastRows(line)) throw this.tooLarge('maxRows', line);
    // A line of spaces is blank, like an empty one.
    if (fields.length === 1 && fields[0]!.trim() === '') return;
    if (this.awaitingHeader) {
      this.setHeader(fields);
      return;
    }
    const expected = (this.expectedFields ??= fields.length);
    if (fields.length !== expected) {
      this.reject({ line, column: '', reason: 'FIELD_COUNT', detail: `expected ${expected} fields, found ${fields.length}`, raw });
      return;
    }
    this.records++;
    this.items.push({ kind: 'record', record: { line, fields, raw } });
  }
}
