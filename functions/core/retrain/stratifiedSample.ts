import { createRng, type Rng } from '../training/seededRandom.js';

/** Rows a retraining trains and judges on at most: enough for the models here, and a bounded Lambda. */
export const DEFAULT_MAX_TRAINING_ROWS = 200_000;
/** The sample's seed: the same labelled rows in the same order give the same sample every night. */
export const TRAINING_SAMPLE_SEED = 20_261_201;

/** Per class: rows offered, and rows in the sample. */
export type ClassCounts = Record<string, { readonly seen: number; readonly kept: number }>;

interface Kept<T> {
  readonly key: number;
  readonly order: number;
  readonly row: T;
}

/**
 * A uniform sample of at most `maxRows` rows, stratified by class: each class keeps its share of
 * the rows seen (largest-remainder rounding), and within a class every row is equally likely.
 *
 * How: every row gets a seeded random key; each class keeps its `maxRows` smallest keys in a
 * max-heap (bottom-k sampling, a reservoir whose first s rows by key are a uniform sample of s).
 * At the end each class gives its share's smallest keys, and the rows come out in the order they
 * were offered. Memory: at most `maxRows` rows per class while offering (binary: 2 × maxRows),
 * `maxRows` in the result. Deterministic for a seed and an order of offers.
 *
 * @example
 * const sample = new StratifiedSample<string[]>({ maxRows: 200_000, seed: 1 });
 * for (const row of rows) sample.offer(row[target]!, row);
 * const { rows: kept, byClass } = sample.finish();
 */
export class StratifiedSample<T> {
  readonly maxRows: number;
  private readonly rng: Rng;
  private readonly heaps = new Map<string, Array<Kept<T>>>();
  private readonly seenByClass = new Map<string, number>();
  private offered = 0;

  constructor(options: { readonly maxRows: number; readonly seed: number }) {
    if (!(Number.isInteger(options.maxRows) && options.maxRows >= 1)) throw new RangeError(`maxRows must be a positive integer, not ${options.maxRows}`);
    this.maxRows = options.maxRows;
    this.rng = createRng(options.seed);
  }

  /** Rows offered so far. */
  get seen(): number {
    return this.offered;
  }

  offer(stratum: string, row: T): void {
    const key = this.rng();
    const order = this.offered++;
    this.seenByClass.set(stratum, (this.seenByClass.get(stratum) ?? 0) + 1);
    let heap = this.heaps.get(stratum);
    if (!heap) this.heaps.set(stratum, (heap = []));
    if (heap.length < this.maxRows) {
      heap.push({ key, order, row });
      siftUp(heap, heap.length - 1);
    } else if (key < heap[0]!.key) {
      heap[0] = { key, order, row };
      siftDown(heap, 0);
    }
  }

  /** The sample, in the order the rows were offered, with what each class gave. */
  finish(): { rows: T[]; byClass: ClassCounts } {
    const total = Math.min(this.maxRows, this.offered);
    const shares = allocate(this.seenByClass, total);
    const chosen: Array<Kept<T>> = [];
    const byClass: ClassCounts = {};
    for (const [stratum, heap] of [...this.heaps].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const take = shares.get(stratum) ?? 0;
      chosen.push(...[...heap].sort((a, b) => a.key - b.key).slice(0, take));
      byClass[stratum] = { seen: this.seenByClass.get(stratum) ?? 0, kept: take };
    }
    chosen.sort((a, b) => a.order - b.order);
    return { rows: chosen.map((k) => k.row), byClass };
  }
}

/** Splits `total` over the classes in proportion to their counts: floors, then the largest remainders (ties by class name). */
function allocate(counts: ReadonlyMap<string, number>, total: number): Map<string, number> {
  const all = [...counts.values()].reduce((a, b) => a + b, 0);
  const shares = new Map<string, number>();
  if (all === 0) return shares;
  const parts = [...counts].map(([stratum, n]) => ({ stratum, exact: (total * n) / all }));
  let given = 0;
  for (const part of parts) {
    const floor = Math.floor(part.exact);
    shares.set(part.stratum, floor);
    given += floor;
  }
  parts.sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)) || (a.stratum < b.stratum ? -1 : 1));
  for (let i = 0; given < total; i++, given++) shares.set(parts[i]!.stratum, shares.get(parts[i]!.stratum)! + 1);
  return shares;
}

function siftUp<T>(heap: Array<Kept<T>>, index: number): void {
  let i = index;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]!.key >= heap[i]!.key) return;
    [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
    i = parent;
  }
}

function siftDown<T>(heap: Array<Kept<T>>, index: number): void {
  let i = index;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let largest = i;
    if (left < heap.length && heap[left]!.key > heap[largest]!.key) largest = left;
    if (right < heap.length && heap[right]!.key > heap[largest]!.key) largest = right;
    if (largest === i) return;
    [heap[largest], heap[i]] = [heap[i]!, heap[largest]!];
    i = largest;
  }
}
