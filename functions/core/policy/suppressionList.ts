import { DAY_MS } from '../constants.js';
import { SuppressionError } from '../errors.js';
import { csvRecords } from './policyCsv.js';

/**
 * Suppression lists: customers who must never be on a target list (opted out, do-not-contact,
 * complaints). A list is a CSV file with a header holding `id` and, optionally, `reason` and `until`
 * (`YYYY-MM-DD`, last day the entry suppresses; an entry whose `until` lies before the run's day is
 * ignored). Ids are trimmed, as the extract's id column is, and matched exactly.
 *
 * Memory: the set is compact and exact. Each id costs 8 bytes of hash (two `Uint32Array`s, sorted),
 * 4 bytes of offset, 2 bytes of reason index and its UTF-8 bytes: 14 + id-length bytes, about
 * 24 MB per million ten-character ids (`bench/suppressionSet.bench.ts` measures it). A hash hit is
 * confirmed against the stored bytes, so a collision never suppresses the wrong customer. The arrays
 * sit in `SharedArrayBuffer`s: worker threads share them rather than copy them.
 */

/** What {@link SuppressionSet.snapshot} gives: plain typed arrays, structured-clonable (and shared across threads). */
export interface SuppressionSnapshot {
  readonly hashHi: Uint32Array;
  readonly hashLo: Uint32Array;
  /** Start of each id in `bytes`; one more entry than ids (the end of the last). */
  readonly offsets: Uint32Array;
  readonly bytes: Uint8Array;
  readonly reasonIndex: Uint16Array;
  readonly reasons: readonly string[];
  /** Entries read, and those left out because their `until` date had passed, per file order. */
  readonly loaded: { readonly entries: number; readonly expired: number; readonly files: number };
}

/** The reason recorded for an entry without one. */
export const NO_REASON = 'unspecified';
const MAX_REASONS = 0xffff;

/** Two independent 32-bit hashes of a string's UTF-16 code units (FNV-1a and a multiplicative mix). */
function hashPair(id: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, b >>> 0];
}

/** An exact, compact set of suppressed ids with the reason of each (see the module's note). */
export class SuppressionSet {
  private readonly decoder = new TextDecoder();

  private constructor(private readonly data: SuppressionSnapshot) {}

  /** The set's typed arrays, to hand to worker threads (structured clone shares the buffers). */
  snapshot(): SuppressionSnapshot {
    return this.data;
  }

  static fromSnapshot(data: SuppressionSnapshot): SuppressionSet {
    return new SuppressionSet(data);
  }

  get size(): number {
    return this.data.hashHi.length;
  }

  /** Bytes the set holds (its typed arrays and reasons). */
  get byteSize(): number {
    const d = this.data;
    return d.hashHi.byteLength + d.hashLo.byteLength + d.offsets.byteLength + d.bytes.byteLength + d.reasonIndex.byteLength + d.reasons.reduce((n, r) => n + 2 * r.length, 0);
  }

  get loaded(): SuppressionSnapshot['loaded'] {
    return this.data.loaded;
  }

  /** The reason a trimmed id is suppressed, or null when it is not. */
  reasonOf(id: string): string | null {
    const { hashHi, hashLo, offsets, bytes, reasonIndex, reasons } = this.data;
    const [hi, lo] = hashPair(id);
    let low = 0;
    let high = hashHi.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (hashHi[mid]! < hi || (hashHi[mid] === hi && hashLo[mid]! < lo)) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < hashHi.length && hashHi[i] === hi && hashLo[i] === lo; i++) {
      if (this.decoder.decode(bytes.subarray(offsets[i], offsets[i + 1])) === id) return reasons[reasonIndex[i]!]!;
    }
    return null;
  }
}

/** Growable typed storage for {@link SuppressionSetBuilder}. */
class GrowableU32 {
  array = new Uint32Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.array.length) {
      const next = new Uint32Array(this.array.length * 2);
      next.set(this.array);
      this.array = next;
    }
    this.array[this.length++] = value;
  }
}

/** Day number (days since 1970-01-01, UTC) of a `YYYY-MM-DD` date; NaN when it is not one. */
function dayNumber(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return Number.NaN;
  const time = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const date = new Date(time);
  if (date.getUTCMonth() !== Number(m[2]) - 1 || date.getUTCDate() !== Number(m[3])) return Number.NaN;
  return time / DAY_MS;
}

/**
 * Gathers the entries of one or more suppression lists, then {@link build}s the sorted set.
 * `asOf` is the run's day: an entry whose `until` is earlier does not suppress.
 */
export class SuppressionSetBuilder {
  private readonly hi = new GrowableU32();
  private readonly lo = new GrowableU32();
  private readonly starts = new GrowableU32();
  private readonly lengths = new GrowableU32();
  private readonly reasonOf = new GrowableU32();
  private bytes = Buffer.alloc(1 << 16);
  private used = 0;
  private readonly reasons = new Map<string, number>();
  private readonly today: number;
  private entries = 0;
  private expired = 0;
  private files = 0;

  constructor(asOf: Date) {
    this.today = Math.floor(asOf.getTime() / DAY_MS);
  }

  /** Adds one trimmed id (with its reason); for callers that already parsed a list. */
  add(id: string, reason: string): void {
    let r = this.reasons.get(reason);
    if (r === undefined) {
      r = this.reasons.size;
      if (r >= MAX_REASONS) throw new RangeError(`more than ${MAX_REASONS} distinct suppression reasons`);
      this.reasons.set(reason, r);
    }
    const length = Buffer.byteLength(id, 'utf8');
    if (this.used + length > this.bytes.length) {
      const next = Buffer.alloc(Math.max(this.bytes.length * 2, this.used + length));
      this.bytes.copy(next, 0, 0, this.used);
      this.bytes = next;
    }
    const [h, l] = hashPair(id);
    this.hi.push(h);
    this.lo.push(l);
    this.starts.push(this.used);
    this.lengths.push(length);
    this.reasonOf.push(r);
    this.used += this.bytes.write(id, this.used, 'utf8');
    this.entries++;
  }

  /**
   * Reads one suppression list (CSV with a header: `id`, optional `reason` and `until`).
   * @throws SuppressionError naming `file`, and the line and column where it can (never an id):
   *   unreadable, not CSV, no `id` column, an empty id, an `until` that is not a `YYYY-MM-DD` date
   */
  async addList(bytes: AsyncIterable<Uint8Array>, file: string): Promise<void> {
    let columns: { id: number; reason: number; until: number } | null = null;
    for await (const { record, line } of csvRecords(bytes, file)) {
      if (!columns) {
        const names = record.map((name) => name.trim().toLowerCase());
        const id = names.indexOf('id');
        if (id === -1) throw new SuppressionError('the header has no "id" column', { file, line, column: 'id' });
        columns = { id, reason: names.indexOf('reason'), until: names.indexOf('until') };
        continue;
      }
      const id = (record[columns.id] ?? '').trim();
      if (!id) throw new SuppressionError('the id is empty', { file, line, column: columns.id + 1 });
      const until = columns.until === -1 ? '' : (record[columns.until] ?? '').trim();
      if (until) {
        const day = dayNumber(until);
        if (Number.isNaN(day)) throw new SuppressionError('until is not a date YYYY-MM-DD', { file, line, column: columns.until + 1 });
        if (day < this.today) {
          this.expired++;
          continue;
        }
      }
      const reason = columns.reason === -1 ? '' : (record[columns.reason] ?? '').trim();
      this.add(id, reason || NO_REASON);
    }
    if (!columns) throw new SuppressionError('is empty: a suppression list needs a header with an "id" column', { file, line: 1 });
    this.files++;
  }

  /** The sorted, deduplicated set (the first entry of an id keeps its reason). */
  build(): SuppressionSet {
    const n = this.hi.length;
    const hi = this.hi.array;
    const lo = this.lo.array;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || a - b);
    const same = (a: number, b: number) =>
      hi[a] === hi[b] && lo[a] === lo[b] && this.bytes.compare(this.bytes, this.starts.array[a], this.starts.array[a]! + this.lengths.array[a]!, this.starts.array[b], this.starts.array[b]! + this.lengths.array[b]!) === 0;
    const keep: number[] = [];
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      // Entries of equal hash sit together: an id already kept among them is a duplicate.
      let duplicate = false;
      for (let j = keep.length - 1; j >= 0 && hi[keep[j]!] === hi[i] && lo[keep[j]!] === lo[i]; j--) {
        if (same(keep[j]!, i)) duplicate = true;
      }
      if (!duplicate) keep.push(i);
    }
    const m = keep.length;
    const shared = <T>(make: (buffer: SharedArrayBuffer) => T, bytes: number) => make(new SharedArrayBuffer(Math.max(bytes, 1)));
    const totalBytes = keep.reduce((s, i) => s + this.lengths.array[i]!, 0);
    const hashHi = shared((b) => new Uint32Array(b, 0, m), 4 * m);
    const hashLo = shared((b) => new Uint32Array(b, 0, m), 4 * m);
    const offsets = shared((b) => new Uint32Array(b, 0, m + 1), 4 * (m + 1));
    const bytes = shared((b) => new Uint8Array(b, 0, totalBytes), totalBytes);
    const reasonIndex = shared((b) => new Uint16Array(b, 0, m), 2 * m);
    let at = 0;
    for (let k = 0; k < m; k++) {
      const i = keep[k]!;
      hashHi[k] = hi[i]!;
      hashLo[k] = lo[i]!;
      offsets[k] = at;
      const start = this.starts.array[i]!;
      bytes.set(this.bytes.subarray(start, start + this.lengths.array[i]!), at);
      at += this.lengths.array[i]!;
      reasonIndex[k] = this.reasonOf.array[i]!;
    }
    offsets[m] = at;
    return SuppressionSet.fromSnapshot({
      hashHi,
      hashLo,
      offsets,
      bytes,
      reasonIndex,
      reasons: [...this.reasons.keys()],
      loaded: { entries: this.entries, expired: this.expired, files: this.files },
    });
  }
}
