import { crossName, type CrossSpec, type FittedColumn, type FittedCross } from './featureSpec.js';

type FittedCategorical = Extract<FittedColumn, { kind: 'categorical' }>;

/** Categories of a cross slot's name are joined by this: `month×day=may|5`. */
export const CROSS_VALUE_SEPARATOR = '|';

/**
 * Above this many entries (product of the sources' vocabulary sizes + 1 each) the encoder looks
 * combinations up in a Map instead of a dense Int32Array (4 MB).
 */
const DENSE_LOOKUP_LIMIT = 1 << 20;

/** Slot names of a fitted cross's block: one per kept combination, then `__other__`. */
export function crossSlotNames(cross: FittedCross, other: string): string[] {
  const name = crossName(cross);
  return [...cross.combinations.map((combination) => `${name}=${combination.join(CROSS_VALUE_SEPARATOR)}`), `${name}=${other}`];
}

/**
 * Counts the training rows' combinations of a cross's source values (after trim and aliases; null
 * for a missing cell), streamed with the column fit; {@link fitCross} maps them to vocabulary slots
 * once the columns are fitted.
 */
export class CrossTally {
  private readonly counts = new Map<string, number>();

  add(values: readonly (string | null)[]): void {
    const key = JSON.stringify(values);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }
}

/**
 * Keeps the combinations of the sources' fitted categories that the encoder would see: each source
 * value in its vocabulary and not its `other` slot (a missing, rare or unseen source sends the row to
 * the cross's `__other__`). Of those, the ones seen at least `minCategoryCount` times, at most
 * `maxCategories` of the most frequent (ties: the earlier vocabulary slots first), in vocabulary
 * order of the first source, then the second, ….
 *
 * @example
 * // month: [aug, may, __other__], day: [1, 5, __other__]; tally: may|5 ×12, aug|1 ×11, may|1 ×3
 * fitCross({ columns: ['month', 'day'], minCategoryCount: 10, maxCategories: 500 }, tally, fits)
 * // → { columns: ['month', 'day'], combinations: [['aug', '1'], ['may', '5']] }
 */
export function fitCross(cross: CrossSpec, tally: CrossTally, sources: readonly FittedCategorical[]): FittedCross {
  const slotOf = sources.map((fit) => new Map(fit.vocabulary.map((value, slot) => [value, slot])));
  const kept: { slots: number[]; count: number }[] = [];
  for (const [key, count] of tally.entries()) {
    if (count < cross.minCategoryCount) continue;
    const values = JSON.parse(key) as (string | null)[];
    const slots = values.map((value, k) => (value === null ? -1 : (slotOf[k]!.get(value) ?? -1)));
    if (slots.some((slot, k) => slot < 0 || slot === sources[k]!.otherIndex)) continue;
    kept.push({ slots, count });
  }
  const bySlots = (a: { slots: number[] }, b: { slots: number[] }): number => {
    for (let k = 0; k < a.slots.length; k++) if (a.slots[k] !== b.slots[k]) return a.slots[k]! - b.slots[k]!;
    return 0;
  };
  const chosen = kept
    .sort((a, b) => b.count - a.count || bySlots(a, b))
    .slice(0, cross.maxCategories)
    .sort(bySlots);
  return { columns: [...cross.columns], combinations: chosen.map(({ slots }) => slots.map((slot, k) => sources[k]!.vocabulary[slot]!)) };
}

/** Entries of a cross's lookup: the product of its sources' vocabulary sizes, each + 1 for "no slot" (missing). */
export function crossLookupSize(sources: readonly { readonly vocabulary: readonly string[] }[]): number {
  return sources.reduce((size, fit) => size * (fit.vocabulary.length + 1), 1);
}

/**
 * The encoder's writer for one cross: reads the row's source slots (`sourceSlots[observed[k]]`, -1
 * when a source is missing or unseen under `unknown: ignore`), finds the combination's block slot in a
 * lookup built once, and writes the one-hot block at `out[start…start + width)`. Allocation-free.
 * @throws Error when a combination names a category outside its source's vocabulary (fittedSpecProblem reports it first)
 */
export function compileCrossWriter(
  cross: FittedCross,
  sources: readonly { readonly vocabulary: readonly string[] }[],
  sourceSlots: Int32Array,
  observed: readonly number[],
): { width: number; write(out: Float32Array, start: number): void } {
  const width = cross.combinations.length + 1;
  const other = width - 1;
  const strides = new Float64Array(sources.length);
  let size = 1;
  sources.forEach((fit, k) => {
    strides[k] = size;
    size *= fit.vocabulary.length + 1;
  });
  const dense = size <= DENSE_LOOKUP_LIMIT ? new Int32Array(size).fill(other) : null;
  const sparse = new Map<number, number>();
  cross.combinations.forEach((combination, slot) => {
    let index = 0;
    combination.forEach((value, k) => {
      const at = sources[k]!.vocabulary.indexOf(value);
      if (at < 0) throw new Error(`cross "${crossName(cross)}": "${value}" is not a category of "${cross.columns[k]}"`);
      index += (at + 1) * strides[k]!;
    });
    if (dense) dense[index] = slot;
    else sparse.set(index, slot);
  });
  const at = Int32Array.from(observed);
  return {
    width,
    write(out, start) {
      let index = 0;
      for (let k = 0; k < at.length; k++) index += (sourceSlots[at[k]!]! + 1) * strides[k]!;
      out.fill(0, start, start + width);
      out[start + (dense ? dense[index]! : (sparse.get(index) ?? other))] = 1;
    },
  };
}
