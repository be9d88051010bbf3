import { TrainingError } from '../errors.js';
import { deriveSeed } from './seededRandom.js';
import { stratifiedFolds, stratifiedSplit } from './stratifiedSplit.js';
import type { RecordLabels } from './labelRecords.js';
import { inTimeOrder, latestCut, type TimeOrder } from './timeOrder.js';
import type { TrainingTable } from './trainingTable.js';

/** Record indices (into the table) of each part, ascending. */
export interface RowSplits {
  readonly train: Int32Array;
  /** The rows the search and early stopping watch: one fold (the latest one in time), or a validation share. */
  readonly validation: Int32Array;
  /** The honest holdout: touched only by the evaluation. */
  readonly test: Int32Array;
  /** Every record the model may learn from (train and validation): the feature spec is fitted on them. */
  readonly fit: Int32Array;
  /**
   * With `folds ≥ 2`: the fit records in K folds (each ascending), the last being `validation`; each
   * ensemble member learns from all folds but one and predicts that one. Empty for a single split.
   */
  readonly folds: readonly Int32Array[];
  /**
   * Time-ordered data only: a random holdout of earlier records, the size of the (latest) test part,
   * held out of fitting too, so one fit gives both the out-of-time and a random-split figure.
   */
  readonly inPeriod?: Int32Array;
  /** How the test rows were chosen, for the manifest: `given rows`, `stratified 0.2`, `latest 0.2 by file order (row a – row b)`. */
  readonly testSplit: string;
}

export interface SplitSettings {
  readonly seed: number;
  readonly testFraction: number;
  readonly validationFraction: number;
  /** Cross-validation folds over the fit rows; 1 = one train/validation split. @default 1 */
  readonly folds?: number;
  /** 0-based file row ids (see {@link TrainingTable.rowIds}) to hold out for the test, instead of a share. */
  readonly testRows?: ArrayLike<number> | undefined;
  /** When the rows have a time: test and validation are then the latest rows. */
  readonly time?: TimeOrder | undefined;
}

/** K contiguous blocks of (time-ordered) records, sizes differing by at most one, each ascending by index. */
function blocks(ordered: Int32Array, k: number): Int32Array[] {
  return Array.from({ length: k }, (_, b) => ordered.slice(Math.round((b * ordered.length) / k), Math.round(((b + 1) * ordered.length) / k)).sort());
}

const ascending = (rows: ArrayLike<number>) => Int32Array.from(rows).sort();

/**
 * Splits the labelled records into test, then validation (or K folds) and train.
 *
 * - Random (default): test = the given file rows or a stratified `testFraction`; validation = a
 *   stratified `validationFraction` of the rest, or, with K folds, the last of K stratified folds.
 * - Time-ordered (`time`): test = the latest `testFraction` (the cut never splits one time), plus an
 *   in-period holdout of the same size drawn at random from the earlier rows; validation = the
 *   latest `validationFraction` of what is left, or, with K folds, the latest of K contiguous blocks.
 *
 * Each random draw has its own seed derived from `seed`, so changing one fraction leaves the others alone.
 * @example
 * const { train, validation, test, folds } = splitRows(table, labelRecords(table, spec.featureSpec), { ...spec.training, folds: 5 });
 */
export function splitRows(table: TrainingTable, labels: RecordLabels, settings: SplitSettings): RowSplits {
  const k = settings.folds ?? 1;
  const { time } = settings;
  let test: Int32Array;
  let rest: Int32Array;
  let inPeriod: Int32Array | undefined;
  let testSplit: string;
  if (settings.testRows) {
    const wanted = new Set(Array.from(settings.testRows));
    const rowIds = table.rowIds ?? Int32Array.from({ length: table.records.length }, (_, i) => i);
    test = labels.labelled.filter((r) => wanted.has(rowIds[r]!));
    rest = labels.labelled.filter((r) => !wanted.has(rowIds[r]!));
    testSplit = 'given rows';
  } else if (time) {
    const ordered = inTimeOrder(labels.labelled, time.times);
    const cut = latestCut(Array.from(ordered, (r) => time.times[r]!), settings.testFraction, 'labelled rows');
    test = ascending(ordered.subarray(cut));
    const earlier = ordered.subarray(0, cut);
    if (test.length >= earlier.length) throw new TrainingError(`the latest ${test.length} rows leave only ${earlier.length} earlier rows to learn from`, { isInputError: true });
    inPeriod = stratifiedSplit(labels.classIndex, test.length / earlier.length, deriveSeed(settings.seed, 'in-period'), ascending(earlier)).holdout;
    const held = new Set(inPeriod);
    rest = ascending(earlier.filter((r) => !held.has(r)));
    const share = Math.round((test.length / labels.labelled.length) * 1000) / 1000;
    testSplit = `latest ${share} by ${time.by} (${time.describe(time.times[ordered[cut]!]!)} – ${time.describe(time.times[ordered[ordered.length - 1]!]!)})`;
  } else {
    const split = stratifiedSplit(labels.classIndex, settings.testFraction, deriveSeed(settings.seed, 'test'), labels.labelled);
    test = split.holdout;
    rest = split.train;
    testSplit = `stratified ${settings.testFraction}`;
  }

  let folds: Int32Array[] = [];
  let validation: Int32Array;
  let train: Int32Array;
  if (time) {
    const ordered = inTimeOrder(rest, time.times);
    if (k >= 2) {
      folds = blocks(ordered, k);
      validation = folds[k - 1]!;
      train = ascending(ordered.subarray(0, ordered.length - validation.length));
    } else {
      const cut = latestCut(Array.from(ordered, (r) => time.times[r]!), settings.validationFraction, 'rows before the holdout');
      validation = ascending(ordered.subarray(cut));
      train = ascending(ordered.subarray(0, cut));
    }
  } else if (k >= 2) {
    folds = stratifiedFolds(labels.classIndex, k, deriveSeed(settings.seed, 'folds'), rest);
    validation = folds[k - 1]!;
    const held = new Set(validation);
    train = rest.filter((r) => !held.has(r));
  } else {
    ({ train, holdout: validation } = stratifiedSplit(labels.classIndex, settings.validationFraction, deriveSeed(settings.seed, 'validation'), rest));
  }
  return { train, validation, test, fit: rest, folds, ...(inPeriod ? { inPeriod } : {}), testSplit };
}
