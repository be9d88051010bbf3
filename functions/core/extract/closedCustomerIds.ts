/**
 * The customers a long extract has finished with, so that a customer whose rows come back later
 * (the file is not sorted by customer) is caught exactly, without keeping a JS string per customer.
 *
 * Cost: per closed customer its id's UTF-8 bytes plus 24 bytes (a 32-bit hash, an arena offset, the
 * first and last line as 32-bit numbers, and 8 bytes of open-addressing table at a load of at most ½),
 * with up to twice that while an array waits to be filled after doubling. For 1 M customers with
 * 10-byte ids: 34 to 68 MB (42 MB measured). This is the one part of a long run that grows with the
 * file rather than the batch; a hash hit is confirmed byte by byte, so no customer is confused with another.
 *
 * A part of a run scored in parts hands its ids on, sorted ({@link ClosedCustomerIds.sorted}), so the
 * merge can find a customer whose blocks landed in two parts (see `crossPartCustomers.ts`). Extra cost
 * per million customers with 10-byte ids: a 4-byte index per customer while it sorts, ~27 MB of spool,
 * 0.7–0.8 s to sort and write it, ~0.5 s to merge the parts' channels (measured).
 */
export class ClosedCustomerIds {
  private table = new Int32Array(1024).fill(-1);
  private hashes = new Uint32Array(512);
  private offsets = new Uint32Array(513);
  private firstLines = new Uint32Array(512);
  private lastLines = new Uint32Array(512);
  private arena = new Uint8Array(8192);
  private count = 0;
  private readonly encoder = new TextEncoder();
  private scratch = new Uint8Array(256);
  // The last id looked up, still encoded in `scratch`: a customer is looked up when it opens and
  // added when it closes, with no other lookup between, so `add` need not encode it again.
  private scratchId: string | null = null;
  private scratchLength = 0;
  private scratchHash = 0;

  get size(): number {
    return this.count;
  }

  /** The lines of an earlier block of rows of this customer, when it was closed before. */
  find(id: string): { readonly firstLine: number; readonly lastLine: number } | undefined {
    const length = this.encode(id);
    const hash = this.scratchHash;
    const mask = this.table.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot]!;
      if (entry < 0) return undefined;
      if (this.hashes[entry] === hash && this.sameBytes(entry, length)) return { firstLine: this.firstLines[entry]!, lastLine: this.lastLines[entry]! };
    }
  }

  /** Records a customer whose rows (lines `firstLine`…`lastLine`) are complete; call only after {@link find} missed. */
  add(id: string, firstLine: number, lastLine: number): void {
    const length = this.encode(id);
    if (this.count + 1 > this.table.length / 2) this.growTable();
    if (this.count + 1 >= this.hashes.length) this.growEntries();
    const start = this.offsets[this.count]!;
    if (start + length > this.arena.length) this.arena = grown(this.arena, Math.max(this.arena.length * 2, start + length));
    this.arena.set(this.scratch.subarray(0, length), start);
    const entry = this.count++;
    const hash = this.scratchHash;
    this.hashes[entry] = hash;
    this.offsets[entry + 1] = start + length;
    this.firstLines[entry] = firstLine;
    this.lastLines[entry] = lastLine;
    this.insert(entry, hash);
  }

  /**
   * Every closed customer, its id in ascending order of UTF-8 bytes (= {@link compareCodePoints}),
   * with its lines. The ids are decoded one at a time: memory grows by a 4-byte index per customer.
   */
  *sorted(): Generator<{ readonly id: string; readonly firstLine: number; readonly lastLine: number }> {
    const { arena, offsets } = this;
    const order = new Uint32Array(this.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => {
      const aStart = offsets[a]!;
      const bStart = offsets[b]!;
      const aLength = offsets[a + 1]! - aStart;
      const bLength = offsets[b + 1]! - bStart;
      const n = Math.min(aLength, bLength);
      for (let i = 0; i < n; i++) {
        const d = arena[aStart + i]! - arena[bStart + i]!;
        if (d !== 0) return d;
      }
      return aLength - bLength;
    });
    const decoder = new TextDecoder();
    for (const entry of order) {
      yield { id: decoder.decode(arena.subarray(offsets[entry], offsets[entry + 1])), firstLine: this.firstLines[entry]!, lastLine: this.lastLines[entry]! };
    }
  }

  /** Encodes `id` into `scratch` (and hashes it) unless it is there already; returns its length in bytes. */
  private encode(id: string): number {
    if (id === this.scratchId) return this.scratchLength;
    if (id.length * 3 > this.scratch.length) this.scratch = new Uint8Array(id.length * 3);
    this.scratchLength = this.encoder.encodeInto(id, this.scratch).written;
    this.scratchHash = hashOf(this.scratch, this.scratchLength);
    this.scratchId = id;
    return this.scratchLength;
  }

  private sameBytes(entry: number, length: number): boolean {
    const start = this.offsets[entry]!;
    if (this.offsets[entry + 1]! - start !== length) return false;
    for (let i = 0; i < length; i++) if (this.arena[start + i] !== this.scratch[i]) return false;
    return true;
  }

  private insert(entry: number, hash: number): void {
    const mask = this.table.length - 1;
    let slot = hash & mask;
    while (this.table[slot]! >= 0) slot = (slot + 1) & mask;
    this.table[slot] = entry;
  }

  private growTable(): void {
    this.table = new Int32Array(this.table.length * 2).fill(-1);
    for (let entry = 0; entry < this.count; entry++) this.insert(entry, this.hashes[entry]!);
  }

  private growEntries(): void {
    const size = this.hashes.length * 2;
    this.hashes = grown(this.hashes, size);
    this.offsets = grown(this.offsets, size + 1);
    this.firstLines = grown(this.firstLines, size);
    this.lastLines = grown(this.lastLines, size);
  }
}

function grown<T extends Uint8Array | Uint32Array>(array: T, size: number): T {
  const next = new (array.constructor as new (n: number) => T)(size);
  next.set(array);
  return next;
}

/** FNV-1a over the id's bytes. */
function hashOf(bytes: Uint8Array, length: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

/**
 * Orders two strings by code point, which is the order of their UTF-8 bytes (the order of
 * {@link ClosedCustomerIds.sorted}); plain `<` compares UTF-16 units and puts U+E000…U+FFFF after
 * the astral characters. Well-formed strings only (decoded text has no lone surrogate).
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    // A surrogate (an astral code point) is above every other unit from U+D800 on; below it, units order alike.
    if (xSurrogate !== ySurrogate && x >= 0xd800 && y >= 0xd800) return xSurrogate ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
