import { crossName, type CrossSpec, type FittedCross } from './featureSpec.js';

/** Categories of a cross slot's name are joined by this: `month×day=may|5`. */
export const CROSS_VALUE_SEPARATOR = '|';

/**
 * Above this many entries (product of the sources' level counts + 1 each) the encoder looks
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

/** A cross's source as the cross sees it: a fitted categorical column, or a numeric one (which the cross bins). */
export type CrossSource = { readonly kind?: 'categorical'; readonly vocabulary: readonly string[]; readonly otherIndex: number } | { readonly kind: 'numeric' };

/** A source's levels in a cross: its categories, or the bands of a binned source. */
export interface CrossLevels {
  /** One label per level: the category itself, or a band such as `<8`, `[8,15)`, `>=29`. */
  readonly labels: readonly string[];
  /**
   * Categorical source: the level of each vocabulary slot, -1 for none (the `other` slot, or a
   * category that is no number in a binned source). Absent for a numeric source, which is banded by value.
   */
  readonly levelOfSlot?: Int32Array;
  /** Binned source: the band a value falls in. */
  readonly bandOf?: (value: number) => number;
}

/** A category that is a plain decimal number, as a binned cross reads it. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

type BinnedCross = { readonly columns: readonly string[]; readonly bins?: Readonly<Record<string, readonly number[]>> | undefined };

/**
 * The levels each source of `cross` contributes: a categorical source without `bins` crosses its own
 * categories (its `other` slot has no level); a binned one crosses the band `[edge, next edge)` its
 * category, or a numeric source's value, falls in.
 * @example
 * // day: [1, 9, 30, __other__]; bins { day: [8, 15] }
 * crossLevels(cross, [monthFit, dayFit])[1] // → { labels: ['<8', '[8,15)', '>=15'], levelOfSlot: [0, 1, 2, -1], bandOf }
 */
export function crossLevels(cross: BinnedCross, sources: readonly CrossSource[]): CrossLevels[] {
  return sources.map((fit, k) => {
    const edges = cross.bins?.[cross.columns[k]!];
    if (!edges) {
      if (fit.kind === 'numeric') throw new Error(`cross over numeric "${cross.columns[k]}" without bins`);
      return { labels: fit.vocabulary, levelOfSlot: Int32Array.from(fit.vocabulary, (_, slot) => (slot === fit.otherIndex ? -1 : slot)) };
    }
    const labels = [`<${edges[0]}`, ...edges.slice(1).map((edge, i) => `[${edges[i]},${edge})`), `>=${edges[edges.length - 1]}`];
    const bandOf = (value: number): number => {
      let band = 0;
      while (band < edges.length && value >= edges[band]!) band++;
      return band;
    };
    if (fit.kind === 'numeric') return { labels, bandOf };
    const levelOfSlot = Int32Array.from(fit.vocabulary, (category, slot) => (slot === fit.otherIndex || !NUMBER.test(category) ? -1 : bandOf(Number(category))));
    return { labels, levelOfSlot, bandOf };
  });
}

/** The level of one source value as the fit tallied it (a category, or a numeric source's value as text); -1 for none. */
function levelOfValue(levels: CrossLevels, slotOf: ReadonlyMap<string, number> | undefined, value: string | null): number {
  if (value === null) return -1;
  if (!levels.levelOfSlot) return levels.bandOf!(Number(value));
  const slot = slotOf!.get(value);
  return slot === undefined ? -1 : levels.levelOfSlot[slot]!;
}

/**
 * Keeps the combinations of the sources' levels (see {@link crossLevels}) that the encoder would see:
 * each source value present and with a level (in its vocabulary, not its `other` slot; a missing, rare
 * or unseen source sends the row to the cross's `__other__`). Of those, the ones seen at least
 * `minCategoryCount` times, at most `maxCategories` of the most frequent (ties: the earlier levels
 * first), in level order of the first source, then the second, ….
 *
 * @example
 * // month: [aug, may, __other__], day: [1, 5, __other__]; tally: may|5 ×12, aug|1 ×11, may|1 ×3
 * fitCross({ columns: ['month', 'day'], minCategoryCount: 10, maxCategories: 500 }, tally, fits)
 * // → { columns: ['month', 'day'], combinations: [['aug', '1'], ['may', '5']] }
 */
export function fitCross(cross: CrossSpec, tally: CrossTally, sources: readonly CrossSource[]): FittedCross {
  const levels = crossLevels(cross, sources);
  const slotOf = sources.map((fit) => (fit.kind === 'numeric' ? undefined : new Map(fit.vocabulary.map((value, slot) => [value, slot]))));
  const counts = new Map<string, { levels: number[]; count: number }>();
  for (const [key, count] of tally.entries()) {
    const values = JSON.parse(key) as (string | null)[];
    const at = values.map((value, k) => levelOfValue(levels[k]!, slotOf[k], value));
    if (at.some((level) => level < 0)) continue;
    const levelKey = at.join(',');
    const entry = counts.get(levelKey);
    if (entry) entry.count += count;
    else counts.set(levelKey, { levels: at, count });
  }
  const byLevels = (a: { levels: number[] }, b: { levels: number[] }): number => {
    for (let k = 0; k < a.levels.length; k++) if (a.levels[k] !== b.levels[k]) return a.levels[k]! - b.levels[k]!;
    return 0;
  };
  const chosen = [...counts.values()]
    .filter(({ count }) => count >= cross.minCategoryCount)
    .sort((a, b) => b.count - a.count || byLevels(a, b))
    .slice(0, cross.maxCategories)
    .sort(byLevels);
  return {
    columns: [...cross.columns],
    ...(cross.name !== undefined ? { name: cross.name } : {}),
    ...(cross.bins !== undefined ? { bins: cross.bins } : {}),
    combinations: chosen.map(({ levels: at }) => at.map((level, k) => levels[k]!.labels[level]!)),
  };
}

/** Entries of a cross's lookup: the product of its sources' level counts, each + 1 for "no level". */
export function crossLookupSize(levels: readonly CrossLevels[]): number {
  return levels.reduce((size, source) => size * (source.labels.length + 1), 1);
}

/**
 * The encoder's writer for one cross: reads the row's sources as the column writers left them
 * (`row.slots[observed[k]]`, -1 when a categorical source is missing or unseen under `unknown: ignore`;
 * `row.numbers[observed[k]]`, NaN when a numeric source is missing), finds the combination's block slot
 * in a lookup built once, and writes the one-hot block at `out[start…start + width)`. Allocation-free.
 * @throws Error when a combination names a level its source does not have (fittedSpecProblem reports it first)
 */
export function compileCrossWriter(
  cross: FittedCross,
  sources: readonly CrossSource[],
  row: { readonly slots: Int32Array; readonly numbers: Float64Array },
  observed: readonly number[],
): { width: number; write(out: Float32Array, start: number): void } {
  const width = cross.combinations.length + 1;
  const other = width - 1;
  const levels = crossLevels(cross, sources);
  const strides = new Float64Array(levels.length);
  let size = 1;
  levels.forEach((source, k) => {
    strides[k] = size;
    size *= source.labels.length + 1;
  });
  const dense = size <= DENSE_LOOKUP_LIMIT ? new Int32Array(size).fill(other) : null;
  const sparse = new Map<number, number>();
  cross.combinations.forEach((combination, slot) => {
    let index = 0;
    combination.forEach((value, k) => {
      const at = levels[k]!.labels.indexOf(value);
      if (at < 0) throw new Error(`cross "${crossName(cross)}": "${value}" is not a level of "${cross.columns[k]}"`);
      index += (at + 1) * strides[k]!;
    });
    if (dense) dense[index] = slot;
    else sparse.set(index, slot);
  });
  const at = Int32Array.from(observed);
  const levelOfSlot = levels.map((source) => source.levelOfSlot);
  const bandOf = levels.map((source) => source.bandOf);
  const { slots, numbers } = row;
  return {
    width,
    write(out, start) {
      let index = 0;
      for (let k = 0; k < at.length; k++) {
        const ofSlot = levelOfSlot[k];
        let level: number;
        if (ofSlot) {
          const slot = slots[at[k]!]!;
          level = slot < 0 ? -1 : ofSlot[slot]!;
        } else {
          const value = numbers[at[k]!]!;
          level = Number.isNaN(value) ? -1 : bandOf[k]!(value);
        }
        index += (level + 1) * strides[k]!;
      }
      out.fill(0, start, start + width);
      out[start + (dense ? dense[index]! : (sparse.get(index) ?? other))] = 1;
    },
  };
}
