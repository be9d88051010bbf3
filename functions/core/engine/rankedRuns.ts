import { heapDropHead, heapPush, heapSiftDown } from './binaryHeap.js';
import { MERGE_CHUNK_BYTES, type Spool, type SpoolChannel } from './spool.js';

/**
 * External sort of a run's target-list candidates, so that memory does not grow with the extract:
 * a part buffers at most {@link RUN_ROWS} candidates, sorts them and writes them to the spool as one
 * sorted run (a channel `ranked-NNNN`); the merge reads every run of every part at once and takes
 * the best head each time (k-way merge), so the whole list comes out in rank order while only one
 * chunk of each run is in memory.
 *
 * A candidate is ranked by key (higher first), ties by line (lower first). Lines are unique in an
 * extract, so the order is total and does not depend on how the file was split into parts.
 *
 * A run is binary, little-endian, one record per candidate: key, line, a, b as float64 (exact,
 * and no number formatting per row), the text's UTF-8 length (uint32), a tag byte, and the text's bytes.
 */

/** Candidates buffered before a run is written: ~10 MB of memory, a few runs per million rows. */
export const RUN_ROWS = 131_072;

const RUN_PREFIX = 'ranked-';
const HEAD_BYTES = 37;

/** One candidate read back from a run. */
export interface RankedCandidate {
  readonly key: number;
  readonly line: number;
  /** Two numbers the writer attached (e.g. probability and value). */
  readonly a: number;
  readonly b: number;
  /** A small number the writer attached (0–255; e.g. the row's label: 0 none, 1 negative, 2 positive). */
  readonly tag: number;
  /** The writer's text (e.g. the id's CSV field, still spool-escaped). */
  readonly text: string;
}

/**
 * A reader of the runs: it takes at most `cap` candidates (null: no limit) of those `takes` accepts,
 * best first. A run need not keep a candidate that every reader would reach only after `cap` others.
 */
export interface RunReader {
  readonly cap: number | null;
  takes(key: number, a: number): boolean;
}

/** Writes a part's candidates as sorted runs into its spool. */
export class RankedRunWriter {
  private readonly keys: Float64Array;
  private readonly lines: Float64Array;
  private readonly as: Float64Array;
  private readonly bs: Float64Array;
  private readonly tags: Uint8Array;
  private readonly texts: string[];
  private count = 0;
  /** Whether every key of the current run is an integer small enough to sort packed (see {@link rankOrder}). */
  private packable = true;
  private readonly runs: SpoolChannel[] = [];

  /**
   * @param readers who will read the runs (see {@link RunReader}): a candidate is written only if
   * some reader could still take it after the run's better candidates it accepts; null writes all
   */
  constructor(
    private readonly spool: Spool,
    private readonly readers: readonly RunReader[] | null,
    private readonly runRows = RUN_ROWS,
  ) {
    this.keys = new Float64Array(runRows);
    this.lines = new Float64Array(runRows);
    this.as = new Float64Array(runRows);
    this.bs = new Float64Array(runRows);
    this.tags = new Uint8Array(runRows);
    this.texts = new Array<string>(runRows).fill('');
  }

  /** Adds one candidate. */
  add(key: number, line: number, a: number, b: number, text: string, tag = 0): void {
    const i = this.count++;
    this.tags[i] = tag;
    this.keys[i] = key;
    this.lines[i] = line;
    this.as[i] = a;
    this.bs[i] = b;
    this.texts[i] = text;
    if (this.packable && !(Number.isInteger(key) && Math.abs(key) <= MAX_PACKED_KEY)) this.packable = false;
    if (this.count === this.runRows) this.writeRun();
  }

  /** Writes the last run; returns the channels of every run written, in order. */
  finish(): readonly SpoolChannel[] {
    if (this.count > 0) this.writeRun();
    return [...this.runs];
  }

  private writeRun(): void {
    const { keys, lines, as, bs, tags, texts } = this;
    let chars = 0;
    for (let i = 0; i < this.count; i++) chars += texts[i]!.length;
    const order = this.rankOrder();
    const kept = this.keptOf(order);
    // A UTF-16 unit is at most 3 UTF-8 bytes.
    const buf = Buffer.allocUnsafe(HEAD_BYTES * kept.length + 3 * chars);
    let at = 0;
    for (let r = 0; r < kept.length; r++) {
      const i = kept[r]!;
      buf.writeDoubleLE(keys[i]!, at);
      buf.writeDoubleLE(lines[i]!, at + 8);
      buf.writeDoubleLE(as[i]!, at + 16);
      buf.writeDoubleLE(bs[i]!, at + 24);
      const n = buf.write(texts[i]!, at + HEAD_BYTES, 'utf8');
      buf.writeUInt32LE(n, at + 32);
      buf[at + 36] = tags[i]!;
      at += HEAD_BYTES + n;
    }
    const channel = `${RUN_PREFIX}${String(this.runs.length).padStart(4, '0')}`;
    // One write then end: the spool's close() waits for it, and memory holds one run at most.
    this.spool.open(channel).end(buf.subarray(0, at));
    this.runs.push(channel);
    this.count = 0;
    this.packable = true;
    texts.fill('');
  }

  /** The candidates of `order` some reader could still take (all of them without readers). */
  private keptOf(order: ArrayLike<number>): ArrayLike<number> {
    const { readers, keys, as } = this;
    if (readers === null || readers.every((reader) => reader.cap === null)) return order;
    const taken = new Array<number>(readers.length).fill(0);
    const kept: number[] = [];
    for (let r = 0; r < order.length; r++) {
      const i = order[r]!;
      let open = false;
      let keep = false;
      for (let k = 0; k < readers.length; k++) {
        const reader = readers[k]!;
        if (reader.cap !== null && taken[k]! >= reader.cap) continue;
        open = true;
        if (reader.takes(keys[i]!, as[i]!)) {
          taken[k]!++;
          keep = true;
        }
      }
      if (!open) break;
      if (keep) kept.push(i);
    }
    return kept;
  }

  /**
   * Indexes of the buffered candidates in rank order. Candidates arrive in line order, so index
   * order is line order. Integer keys (money in micro-units) are packed with the index into one
   * exact double, `-key · runRows + index`, and sorted natively (no comparator: ~10× quicker);
   * other keys (confidences) are sorted with a comparator.
   */
  private rankOrder(): ArrayLike<number> {
    const { keys, lines, count, runRows } = this;
    if (this.packable && runRows <= MAX_PACKED_ROWS) {
      const packed = new Float64Array(count);
      for (let i = 0; i < count; i++) packed[i] = -keys[i]! * runRows + i;
      packed.sort();
      for (let i = 0; i < count; i++) packed[i] = ((packed[i]! % runRows) + runRows) % runRows;
      return packed;
    }
    const order: number[] = new Array<number>(count);
    for (let i = 0; i < count; i++) order[i] = i;
    return order.sort((x, y) => keys[y]! - keys[x]! || lines[x]! - lines[y]!);
  }
}

/** Packing keeps |key| · rows + rows below 2^53, so the double is exact: rows ≤ 2^18, |key| ≤ 2^34 (17,179 in money units). */
const MAX_PACKED_ROWS = 2 ** 18;
const MAX_PACKED_KEY = 2 ** 34;

/** One run being read: its current head, and the unread bytes of its chunk. */
class RunCursor implements RankedCandidate {
  key = 0;
  line = 0;
  a = 0;
  b = 0;
  tag = 0;
  text = '';
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  constructor(private readonly chunks: AsyncIterator<Uint8Array>) {}

  /** Moves to the next candidate; false at the end of the run. */
  async advance(): Promise<boolean> {
    const moved = this.tryAdvance();
    if (moved) return true;
    if (!(await this.fill(HEAD_BYTES))) return false;
    if (!(await this.fill(HEAD_BYTES + this.buf.readUInt32LE(this.pos + 32)))) throw new Error('a ranked run ends inside a record');
    return this.tryAdvance();
  }

  /** Moves to the next candidate when its bytes are already read (most calls: no await per row). */
  tryAdvance(): boolean {
    const { buf, pos } = this;
    if (buf.length - pos < HEAD_BYTES) return false;
    const n = buf.readUInt32LE(pos + 32);
    if (buf.length - pos < HEAD_BYTES + n) return false;
    this.key = buf.readDoubleLE(pos);
    this.line = buf.readDoubleLE(pos + 8);
    this.a = buf.readDoubleLE(pos + 16);
    this.b = buf.readDoubleLE(pos + 24);
    this.tag = buf[pos + 36]!;
    this.text = buf.toString('utf8', pos + HEAD_BYTES, pos + HEAD_BYTES + n);
    this.pos = pos + HEAD_BYTES + n;
    return true;
  }

  /** Ensures `bytes` unread bytes; false when the run ends cleanly before any. */
  private async fill(bytes: number): Promise<boolean> {
    while (this.buf.length - this.pos < bytes) {
      const next = await this.chunks.next();
      if (next.done) {
        if (this.buf.length === this.pos) return false;
        throw new Error('a ranked run ends inside a record');
      }
      this.buf = Buffer.concat([this.buf.subarray(this.pos), next.value]);
      this.pos = 0;
    }
    return true;
  }

  /** Whether this head ranks before the other's. */
  before(other: RunCursor): boolean {
    return this.key > other.key || (this.key === other.key && this.line < other.line);
  }

  async close(): Promise<void> {
    await this.chunks.return?.(undefined);
  }
}

/**
 * Chunk a run is read in during the merge. Every run is open at once, so the merge holds about
 * twice this per run (a chunk and the stream's read-ahead): 128 KiB × runs, which grows with the
 * extract only by its number of runs (one per 131,072 candidates of a reader): 1M customers make a
 * handful, 100M about a thousand (~128 MB). A 1 MiB chunk held 2 MiB per run, and peak memory grew
 * with rows.
 */
const RUN_CHUNK_BYTES = MERGE_CHUNK_BYTES;

/**
 * Reads the runs (of any number of parts) in rank order, calling `take` with each candidate until
 * it returns (or resolves to) false or the runs are exhausted. Memory: one chunk per run (RUN_CHUNK_BYTES).
 *
 * @example await mergeRankedRuns(parts.flatMap((p) => p.rankedRuns.map((channel) => ({ spool: p.spool, channel }))), (c) => { write(c); return ++n < k; });
 */
export async function mergeRankedRuns(
  runs: ReadonlyArray<{ readonly spool: Spool; readonly channel: SpoolChannel }>,
  take: (candidate: RankedCandidate) => boolean | Promise<boolean>,
): Promise<void> {
  const heap: RunCursor[] = [];
  const cursors = runs.map((r) => new RunCursor(r.spool.bytes(r.channel, { chunkBytes: RUN_CHUNK_BYTES })[Symbol.asyncIterator]()));
  try {
    for (const cursor of cursors) if (await cursor.advance()) heapPush(heap, cursor, cursorBefore);
    while (heap.length > 0) {
      const top = heap[0]!;
      const more = take(top);
      if (!(typeof more === 'boolean' ? more : await more)) return;
      if (top.tryAdvance() || (await top.advance())) heapSiftDown(heap, 0, cursorBefore);
      else heapDropHead(heap, cursorBefore);
    }
  } finally {
    await Promise.all(cursors.map((c) => c.close()));
  }
}

function cursorBefore(a: RunCursor, b: RunCursor): boolean {
  return a.before(b);
}
