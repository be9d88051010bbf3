import type { Writable } from 'node:stream';

/**
 * A named line stream of a spool: `scores` and `rejects` always exist; a part may open more
 * (e.g. the sorted runs of its target candidates, `candidates-0000`).
 */
export type SpoolChannel = string;

/** Channel names are file and S3 key names: short, plain. */
export const SPOOL_CHANNEL_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * Where a scored part keeps its lines between scoring and the merge (a temp folder, later perhaps
 * an S3 prefix for parts scored elsewhere). It holds raw customer rows (rejects), so whoever holds
 * a spool disposes of it on every path, failure included.
 *
 * Life: write both channels → `close()` → read them back with `lines()` (any number of times) →
 * `dispose()`. `dispose()` may come at any point, also before `close()`, and twice.
 */
export interface Spool {
  /** Scored lines, `<histogram bin, see binPrefix>|<scores.csv row without its decile>\n`, the row written with {@link spoolLine}. */
  readonly scores: Writable;
  /** Reject lines, as rows of `rejects.csv` written with {@link spoolLine}. */
  readonly rejects: Writable;
  /** Opens one more channel for writing (a name matching {@link SPOOL_CHANNEL_NAME}, not yet open). */
  open(channel: SpoolChannel): Writable;
  /** Every channel's name, `scores` and `rejects` first, then in the order they were opened. */
  channels(): readonly SpoolChannel[];
  /** Ends every channel and waits until everything written can be read back. */
  close(): Promise<void>;
  /** The lines of one channel (without their line feeds), in the order they were written. */
  lines(channel: SpoolChannel): AsyncIterable<string>;
  /**
   * The bytes of one channel as written (to copy a closed channel elsewhere, e.g. to S3). `chunkBytes`
   * is the size of the chunks read where the store lets the reader choose (a file): small for a
   * reader that holds many channels open at once (the merge of the sorted runs), large otherwise.
   */
  bytes(channel: SpoolChannel, options?: { readonly chunkBytes?: number }): AsyncIterable<Uint8Array>;
  /** Removes everything the spool holds. */
  dispose(): Promise<void>;
}

/**
 * Chunk a channel is read in by a merge that holds many channels open at once (the sorted runs of
 * `rankedRuns.ts`, the parts' customers of `crossPartCustomers.ts`): about twice this per channel.
 */
export const MERGE_CHUNK_BYTES = 64 * 1024;

/** Makes an empty spool for one part; the caller picks the adapter (the core never does). */
export type SpoolFactory = () => Promise<Spool>;

const SPOOL_ESCAPES = /[\\\r\n]/g;
const SPOOL_UNESCAPES = /\\([\\rn])/g;

/**
 * A CSV row as one spool line: a quoted id or raw row may hold CR and LF, which would otherwise
 * split one record into two when the spool is read back line by line. Backslash, CR and LF become
 * `\\`, `\r` and `\n`; {@link unspoolLine} undoes it exactly.
 *
 * @example spoolLine('"A\nB",0.5'); // → `"A\\nB",0.5` (one line)
 */
export function spoolLine(text: string): string {
  if (!/[\\\r\n]/.test(text)) return text;
  return text.replace(SPOOL_ESCAPES, (c) => (c === '\\' ? '\\\\' : c === '\r' ? '\\r' : '\\n'));
}

/** The text given to {@link spoolLine}, back from its spool line. */
export function unspoolLine(line: string): string {
  if (!line.includes('\\')) return line;
  return line.replace(SPOOL_UNESCAPES, (_, c: string) => (c === 'r' ? '\r' : c === 'n' ? '\n' : '\\'));
}

/** Digits of a scored line's bin prefix: enough for the finest histogram (1,000,000 bins). */
export const BIN_DIGITS = 6;
const binPrefixes: string[] = [];

/**
 * The fixed-width prefix of a scored spool line, `000042|` for bin 42: the merge reads the bin
 * from the first bytes without parsing text, and appends the bin's decile (known only then).
 */
export function binPrefix(bin: number): string {
  return (binPrefixes[bin] ??= `${String(bin).padStart(BIN_DIGITS, '0')}|`);
}
