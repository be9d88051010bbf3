/**
 * Column storage for the rows a selector keeps, ranked by a key (higher first) with ties broken
 * deterministically by line (ascending), then id, then the two payload columns — a total order,
 * so the kept set and its order never depend on the order rows arrived in or parts were merged.
 *
 * Bounded (`capacity` set): a binary heap of slot indices with the worst kept row at the root,
 * so a full selector rejects a worse row with one comparison and no allocation. Unbounded: rows
 * are appended and only sorted when read.
 */

const INITIAL_SLOTS = 1024;

/** Negative when row 1 ranks before row 2, positive after, 0 when identical. */
function compareRows(
  key1: number, line1: number, id1: string, a1: number, b1: number,
  key2: number, line2: number, id2: string, a2: number, b2: number,
): number {
  if (key1 !== key2) return key1 > key2 ? -1 : 1;
  if (line1 !== line2) return line1 < line2 ? -1 : 1;
  if (id1 !== id2) return id1 < id2 ? -1 : 1;
  if (a1 !== a2) return a1 > a2 ? -1 : 1;
  if (b1 !== b2) return b1 > b2 ? -1 : 1;
  return 0;
}

export class RankedRows {
  /** Most rows kept; null keeps every row offered. */
  readonly capacity: number | null;
  private count = 0;
  private ids: string[] = [];
  private lines: Float64Array;
  private keys: Float64Array;
  private payloadA: Float64Array;
  private payloadB: Float64Array;
  /** Bounded only: heap[0] is the slot of the worst kept row. */
  private heap: Int32Array;
  /** Slots in rank order, cached until the kept rows change (finish and toJSON both need it). */
  private order: number[] | null = null;

  constructor(capacity: number | null) {
    this.capacity = capacity;
    const slots = capacity === null ? INITIAL_SLOTS : Math.min(capacity, INITIAL_SLOTS);
    this.lines = new Float64Array(slots);
    this.keys = new Float64Array(slots);
    this.payloadA = new Float64Array(slots);
    this.payloadB = new Float64Array(slots);
    this.heap = new Int32Array(capacity === null ? 0 : slots);
  }

  get size(): number {
    return this.count;
  }

  /** Offers a row; keeps it if there is room or it ranks before the worst kept row. */
  offer(id: string, line: number, key: number, a: number, b: number): void {
    const { capacity } = this;
    if (capacity !== null && this.count >= capacity) {
      if (capacity === 0) return;
      const worst = this.heap[0]!;
      if (compareRows(key, line, id, a, b, this.keys[worst]!, this.lines[worst]!, this.ids[worst]!, this.payloadA[worst]!, this.payloadB[worst]!) >= 0) return;
      this.write(worst, id, line, key, a, b);
      this.siftDown(0);
      return;
    }
    const slot = this.count++;
    if (slot >= this.keys.length) this.grow();
    this.write(slot, id, line, key, a, b);
    if (capacity !== null) {
      this.heap[slot] = slot;
      this.siftUp(slot);
    }
  }

  /** Offers every row of `other` (merging two parts' selections). */
  offerAll(other: RankedRows): void {
    for (let s = 0; s < other.count; s++) {
      this.offer(other.ids[s]!, other.lines[s]!, other.keys[s]!, other.payloadA[s]!, other.payloadB[s]!);
    }
  }

  /** Slots in rank order (best first). Do not modify the returned array. */
  rankedSlots(): readonly number[] {
    if (this.order) return this.order;
    const slots = new Array<number>(this.count);
    for (let i = 0; i < this.count; i++) slots[i] = i;
    const { keys, lines } = this;
    // Fast path on key then line (which decide almost every comparison), full order otherwise.
    slots.sort((s, t) => keys[t]! - keys[s]! || lines[s]! - lines[t]! || this.compareSlots(s, t));
    this.order = slots;
    return slots;
  }

  id(slot: number): string {
    return this.ids[slot]!;
  }
  line(slot: number): number {
    return this.lines[slot]!;
  }
  key(slot: number): number {
    return this.keys[slot]!;
  }
  a(slot: number): number {
    return this.payloadA[slot]!;
  }
  b(slot: number): number {
    return this.payloadB[slot]!;
  }

  private write(slot: number, id: string, line: number, key: number, a: number, b: number): void {
    this.order = null;
    this.ids[slot] = id;
    this.lines[slot] = line;
    this.keys[slot] = key;
    this.payloadA[slot] = a;
    this.payloadB[slot] = b;
  }

  private grow(): void {
    const size = this.capacity === null ? this.keys.length * 2 : Math.min(this.capacity, this.keys.length * 2);
    const widen = (old: Float64Array): Float64Array => {
      const next = new Float64Array(size);
      next.set(old);
      return next;
    };
    this.lines = widen(this.lines);
    this.keys = widen(this.keys);
    this.payloadA = widen(this.payloadA);
    this.payloadB = widen(this.payloadB);
    if (this.capacity !== null) {
      const heap = new Int32Array(size);
      heap.set(this.heap);
      this.heap = heap;
    }
  }

  private compareSlots(s: number, t: number): number {
    return compareRows(
      this.keys[s]!, this.lines[s]!, this.ids[s]!, this.payloadA[s]!, this.payloadB[s]!,
      this.keys[t]!, this.lines[t]!, this.ids[t]!, this.payloadA[t]!, this.payloadB[t]!,
    );
  }

  /** True when the row at heap position i ranks after the one at j (belongs nearer the root). */
  private worse(i: number, j: number): boolean {
    return this.compareSlots(this.heap[i]!, this.heap[j]!) > 0;
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i]!;
    this.heap[i] = this.heap[j]!;
    this.heap[j] = t;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.count;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      let worst = left;
      if (left + 1 < n && this.worse(left + 1, left)) worst = left + 1;
      if (!this.worse(worst, i)) return;
      this.swap(i, worst);
      i = worst;
    }
  }
}
