import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ExtractError } from '../errors.js';
import { chooseDelimiter, type LayoutExpectation } from './chooseDelimiter.js';
import { detectDelimiter } from './detectDelimiter.js';
import { describeLimit, resolveExtractLimits, type ExtractLimits } from './extractLimits.js';
import { ExtractParser, type ExtractItem } from './extractParser.js';

export type { ExtractItem, ExtractRecord } from './extractParser.js';
export type { LayoutExpectation } from './chooseDelimiter.js';
export { planParts, type ExtractPart } from './planParts.js';
export { DEFAULT_EXTRACT_LIMITS, type ExtractLimits } from './extractLimits.js';

export interface ExtractReadOptions {
  /** File name or S3 key, used in every error message. */
  source: string;
  /** Does the (first part of the) file start with a header line. */
  header: boolean;
  delimiter: 'auto' | ',' | ';' | '\t' | '|';
  /** Column names for a later byte-range part of a file, which carries no header line (with `header: false`). */
  headerFields?: string[];
  /** 1-based physical line number of the first byte (for parts). @default 1 */
  firstLine?: number;
  /**
   * For a part: its offset in the whole (plain) file. With it, `limits` count the whole file, the
   * `firstByte` bytes and `firstLine - 1` lines before the part included, and an error names the
   * line a single pass over the file would name. Without it, a part's limits count the part alone.
   */
  firstByte?: number;
  /**
   * The layout the model expects. With it, a given `delimiter` is a hint (see {@link chooseDelimiter}),
   * and a header-less file's records must have `fieldCount` fields (others are FIELD_COUNT rejects).
   */
  expect?: LayoutExpectation;
  /** Bounds on decompressed bytes, lines and record length (`EXTRACT_TOO_LARGE` past them). @default DEFAULT_EXTRACT_LIMITS */
  limits?: Partial<ExtractLimits> | undefined;
}

export interface OpenedExtract {
  /** Trimmed header names (BOM and surrounding quotes removed); `headerFields` for a part; else null. */
  readonly header: string[] | null;
  /** The delimiter used: detected (`auto`), given, or detected because the given one did not fit the expected layout. */
  readonly delimiter: string;
  /** Records and rejects in file order. Iterate once; a bad file throws an `ExtractError` from here. */
  readonly items: AsyncIterable<ExtractItem>;
  /** The same items a chunk at a time (null at the end), for the scoring hot path; use instead of `items`, not with it. */
  readonly nextBatch: () => Promise<ExtractItem[] | null>;
  /** Stops reading (closes the source); for a caller that leaves before the end. */
  readonly close: () => void;
  /** Counts so far: records and rejects parsed, (decompressed) bytes read. */
  readonly stats: () => { records: number; rejects: number; bytes: number };
}

/** Bytes read before the delimiter is guessed and the header parsed. */
const SNIFF_BYTES = 64 * 1024;
const GZIP_MAGIC = [0x1f, 0x8b] as const;
const BOM = [0xef, 0xbb, 0xbf] as const;

type ByteSource = NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

async function* withHead(head: Buffer[], rest: AsyncIterator<Uint8Array | string>): AsyncGenerator<Buffer> {
  yield* head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield toBuffer(next.value);
}

/** zlib failures (truncated or corrupt gzip) carry a `Z_…` code; anything else is the source's own. */
function readError(error: unknown, file: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new ExtractError('EXTRACT_COMPRESSION', `gzip data is truncated or corrupt (${(error as Error).message})`, { file }, { cause: error });
  }
  // A source that throws a non-Error still fails the read with an Error (the original kept as cause).
  return error instanceof Error ? error : new Error(`${file}: reading failed: ${String(error)}`, { cause: error });
}

/** Line endings in a blank chunk; `cr` says the previous chunk ended with a CR (half a CRLF). */
function countBlankLineEnds(buf: Buffer, cr: boolean): number {
  let count = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a && !(i === 0 ? cr : buf[i - 1] === 0x0d)) count++;
    else if (buf[i] === 0x0d) count++;
  }
  return count;
}

function isBlank(buf: Buffer): boolean {
  for (const byte of buf) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  return true;
}

/** Reads decompressed chunks into the parser and hands out its items one by one. */
class ExtractItems implements AsyncIterableIterator<ExtractItem> {
  private queue: ExtractItem[] = [];
  private index = 0;
  private finished = false;
  private iterated = false;

  constructor(
    private readonly parser: ExtractParser,
    private readonly chunks: AsyncIterator<Buffer>,
    private readonly file: string,
    private failure: Error | undefined,
    private readonly close: () => void,
    ended: boolean,
  ) {
    this.queue = parser.takeItems();
    this.finished = ended;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExtractItem> {
    if (this.iterated) throw new Error(`${this.file}: extract items can be iterated only once`);
    this.iterated = true;
    return this;
  }

  async next(): Promise<IteratorResult<ExtractItem>> {
    for (;;) {
      if (this.index < this.queue.length) return { value: this.queue[this.index++]!, done: false };
      this.throwPendingFailure();
      if (this.finished) return { value: undefined, done: true };
      await this.pull();
    }
  }

  /**
   * The items the parser has ready, all at once (one decompressed chunk's worth), or null at the
   * end: the hot path takes a batch per await instead of one item per await. Same order and
   * failure semantics as {@link next}; do not mix the two on one extract.
   */
  async nextBatch(): Promise<ExtractItem[] | null> {
    for (;;) {
      if (this.index < this.queue.length) {
        const batch = this.index === 0 ? this.queue : this.queue.slice(this.index);
        this.queue = [];
        this.index = 0;
        return batch;
      }
      this.throwPendingFailure();
      if (this.finished) return null;
      await this.pull();
    }
  }

  /** Once the items before it are out, a failure met while reading ends the extract and is thrown. */
  private throwPendingFailure(): void {
    if (this.failure === undefined) return;
    const failure = this.failure;
    this.failure = undefined;
    this.finished = true;
    this.close();
    throw failure;
  }

  return(): Promise<IteratorResult<ExtractItem>> {
    this.finished = true;
    this.failure = undefined;
    this.queue = [];
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  private async pull(): Promise<void> {
    let next: IteratorResult<Buffer>;
    try {
      next = await this.chunks.next();
    } catch (error) {
      this.failure = readError(error, this.file);
      return;
    }
    try {
      if (next.done) {
        this.finished = true;
        this.parser.end();
      } else {
        this.parser.write(next.value);
      }
    } catch (error) {
      if (!(error instanceof ExtractError)) throw error;
      this.failure = error;
    }
    this.queue = this.parser.takeItems();
    this.index = 0;
  }
}

/**
 * Opens a customer extract for streaming: detects gzip (by its magic bytes), strips a UTF-8 BOM,
 * guesses the delimiter when asked (`auto`), reads the header, and returns the records and row
 * rejects as an async iterable in file order.
 *
 * Bad rows are items (`FIELD_COUNT`, `MALFORMED_QUOTES` rejects with line and raw text); a bad file
 * is an {@link ExtractError}: `EXTRACT_EMPTY` from here, and `EXTRACT_DELIMITER` when `expect` is
 * given and the file is separated by another delimiter with which the layout does not fit either; `EXTRACT_COMPRESSION`, `EXTRACT_ENCODING`
 * and `EXTRACT_MALFORMED` from iterating `items`, after every record that precedes the problem
 * (or from here when the problem hides the header). A header with no rows yields nothing: see
 * {@link assertExtractHasRows}. Errors of the source itself (I/O, network) pass through unchanged.
 *
 * For a byte-range part of a plain file (see {@link planParts}), pass `header: false`,
 * `headerFields` and `firstLine`; an empty part yields nothing instead of `EXTRACT_EMPTY`.
 *
 * @example
 * const extract = await openExtract(createReadStream('customers.csv.gz'), { source: 'customers.csv.gz', header: true, delimiter: 'auto' });
 * for await (const item of extract.items) if (item.kind === 'record') use(item.record.fields);
 */
export async function openExtract(input: ByteSource, options: ExtractReadOptions): Promise<OpenedExtract> {
  const file = options.source;
  const limits = resolveExtractLimits(options.limits);
  // What of the file precedes this part, when the limits count the whole file.
  const before = options.firstByte === undefined ? { lines: 0, bytes: 0 } : { lines: (options.firstLine ?? 1) - 1, bytes: options.firstByte };
  const raw = (input as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  const closeRaw = (): void => {
    void raw.return?.()?.catch(() => {});
  };

  // Peek at the first bytes: gzip is recognised by content, whatever the file is called.
  const head: Buffer[] = [];
  let headBytes = 0;
  while (headBytes < GZIP_MAGIC.length) {
    const next = await raw.next();
    if (next.done) break;
    const chunk = toBuffer(next.value);
    head.push(chunk);
    headBytes += chunk.length;
  }
  const first = Buffer.concat(head);
  let chunks: AsyncIterator<Buffer>;
  let close: () => void;
  if (first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1]) {
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    pipeline(Readable.from(withHead(head, raw), { objectMode: false }), gunzip, () => {});
    chunks = gunzip[Symbol.asyncIterator]();
    close = () => {
      gunzip.destroy();
      closeRaw();
    };
  } else {
    chunks = withHead(head, raw);
    close = closeRaw;
  }

  // Read enough to guess the delimiter and parse the header; a failure here is kept for later
  // when there is data before it.
  // Blank chunks before any content are counted (bytes, lines) and dropped, not kept: a gzip bomb
  // of blank lines must not pile up here before the limits stop it.
  const sniffed: Buffer[] = [];
  let sniffedBytes = 0;
  let ended = false;
  let failure: Error | undefined;
  let content = false;
  let blankBytes = 0;
  let blankLines = 0;
  let blankEndsWithCr = false;
  let blankTail: Buffer = Buffer.alloc(0);
  while (!ended && (sniffedBytes < SNIFF_BYTES || !content)) {
    try {
      const next = await chunks.next();
      if (next.done) ended = true;
      else if (!content && isBlank(next.value)) {
        // Whole blank lines go; the unfinished last one (spaces of a first field?) is kept.
        const blank = blankTail.length === 0 ? next.value : Buffer.concat([blankTail, next.value]);
        const cut = Math.max(blank.lastIndexOf(0x0a), blank.lastIndexOf(0x0d)) + 1;
        const lines = countBlankLineEnds(blank.subarray(0, cut), blankEndsWithCr);
        // As the parser does: the line reached before the chunk that crosses a limit.
        const over: keyof ExtractLimits | undefined =
          before.bytes + blankBytes + blank.length > limits.maxBytes ? 'maxBytes'
          : before.lines + blankLines + lines >= limits.maxRows ? 'maxRows'
          : blank.length - cut > limits.maxRecordBytes ? 'maxRecordBytes'
          : undefined;
        if (over !== undefined) {
          close();
          const line = (options.firstLine ?? 1) + (over === 'maxRows' ? limits.maxRows - before.lines : blankLines);
          throw new ExtractError('EXTRACT_TOO_LARGE', `the extract is too large: ${describeLimit(over, limits[over])}`, { file, line });
        }
        blankBytes += cut;
        blankLines += lines;
        if (cut > 0) blankEndsWithCr = blank[cut - 1] === 0x0d;
        blankTail = Buffer.from(blank.subarray(cut));
      } else {
        if (!content && blankTail.length > 0) sniffed.push(blankTail);
        sniffed.push(next.value);
        sniffedBytes += next.value.length;
        content = true;
      }
    } catch (error) {
      if (error instanceof ExtractError) throw error;
      failure = readError(error, file);
      break;
    }
  }
  // A CRLF split between the last blank chunk and the first kept one is one line ending, not two.
  if (blankEndsWithCr && sniffed[0]?.[0] === 0x0a) sniffed[0] = sniffed[0].subarray(1);
  if (!content && blankTail.length > 0) sniffed.push(blankTail);
  let prefix = Buffer.concat(sniffed);
  if (prefix[0] === BOM[0] && prefix[1] === BOM[1] && prefix[2] === BOM[2]) prefix = prefix.subarray(BOM.length);
  // A later part of a file: no header line, and nothing in it is fine.
  const isPart = !options.header && options.headerFields !== undefined;

  if (isBlank(prefix)) {
    close();
    if (failure !== undefined) throw failure;
    if (!isPart) throw new ExtractError('EXTRACT_EMPTY', 'the extract is empty (no bytes, or only blank lines)', { file });
  }

  let delimiter: string;
  if (options.delimiter === 'auto') delimiter = detectDelimiter(prefix.toString('utf8')).delimiter;
  else if (isPart || options.expect === undefined) delimiter = options.delimiter;
  else {
    const choice = chooseDelimiter(prefix.toString('utf8'), options.delimiter, options.header, options.expect);
    if (choice.refusal !== undefined) {
      close();
      throw new ExtractError('EXTRACT_DELIMITER', choice.refusal, { file, line: 1 });
    }
    delimiter = choice.delimiter;
  }
  const parser = new ExtractParser({
    source: file,
    delimiter,
    header: options.header,
    // A header-less file's part has no names (`[]`): its records are counted against the spec's fields, as the first part's are.
    headerFields: options.headerFields?.length ? options.headerFields : undefined,
    firstLine: (options.firstLine ?? 1) + blankLines,
    fieldCount: options.header ? undefined : options.expect?.fieldCount,
    maxRecordBytes: limits.maxRecordBytes,
    maxBytes: limits.maxBytes,
    maxRows: limits.maxRows - blankLines,
    ...(options.firstByte === undefined ? {} : { before: { lines: before.lines + blankLines, bytes: before.bytes }, maxRows: limits.maxRows }),
  });
  parser.bytes = blankBytes;
  const feed = (write: () => void): void => {
    try {
      write();
    } catch (error) {
      if (!(error instanceof ExtractError)) throw error;
      failure = error;
    }
  };
  feed(() => parser.write(prefix));
  // A header longer than the sniffed bytes: keep reading until it is complete.
  while (options.header && !isPart && parser.header === null && failure === undefined && !ended) {
    try {
      const next = await chunks.next();
      if (next.done) ended = true;
      else feed(() => parser.write(next.value));
    } catch (error) {
      failure = readError(error, file);
    }
  }
  if (ended && failure === undefined) feed(() => parser.end());
  if (options.header && !isPart && parser.header === null) {
    close();
    throw failure ?? new ExtractError('EXTRACT_EMPTY', 'the extract has no header line', { file });
  }

  const items = new ExtractItems(parser, chunks, file, failure, close, ended || failure !== undefined);
  return {
    header: parser.header,
    delimiter,
    items,
    nextBatch: () => items.nextBatch(),
    close: () => void items.return(),
    stats: () => ({ records: parser.records, rejects: parser.rejects, bytes: parser.bytes }),
  };
}

/**
 * Throws `EXTRACT_NO_ROWS` when a fully read extract had a header but no data rows (neither records
 * nor rejects). Call it after iterating `items`.
 */
export function assertExtractHasRows(extract: OpenedExtract, source: string): void {
  const { records, rejects } = extract.stats();
  if (records + rejects === 0) {
    throw new ExtractError('EXTRACT_NO_ROWS', 'the extract has a header but no data rows', { file: source });
  }
}
