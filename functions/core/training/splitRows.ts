import { deriveSeed } from './seededRandom.js';
import { stratifiedSplit } from './stratifiedSplit.js';
import type { RecordLabels } from './labelRecords.js';
import type { TrainingTable } from './trainingTable.js';

/** Record indices (into the table) of each part, ascending. */
export interface RowSplits {
  readonly train: Int32Array;
  readonly validation: Int32Array;
  readonly test: Int32Array;
  /** Train and validation records together: the feature spec is fitted on them. */
  readonly fit: Int32Array;
  /** How the test rows were chosen, for the manifest: `given rows` or `stratified <fraction>`. */
  readonly testSplit: string;
}

export interface SplitSettings {
  readonly seed: number;
  readonly testFraction: number;
  readonly validationFraction: number;
  /** 0-based file row ids (see {@link TrainingTable.rowIds}) to hold out for the test, instead of a stratified share. */
  readonly testRows?: ArrayLike<number> | undefined;
}

/**
 * Splits the labelled records into test (the given file rows, or a stratified `testFraction`),
 * then validation (a stratified `validationFraction` of the rest) and train. Each split draws
 * from its own seed derived from `seed`, so changing one fraction leaves the other draw alone.
 * @example
 * const { train, validation, test } = splitRows(table, labelRecords(table, spec.featureSpec), spec.training);
 */
export function splitRows(table: TrainingTable, labels: RecordLabels, settings: SplitSettings): RowSplits {
  let test: Int32Array;
  let fit: Int32Array;
  if (settings.testRows) {
    const wanted = new Set(Array.from(settings.testRows));
    const rowIds = table.rowIds ?? Int32Array.from({ length: table.records.length }, (_, i) => i);
    test = labels.labelled.filter((r) => wanted.has(rowIds[r]!));
    fit = labels.labelled.filter((r) => !wanted.has(rowIds[r]!));
  } else {
    const split = stratifiedSplit(labels.classIndex, settings.testFraction, deriveSeed(settings.seed, 'test'), labels.labelled);
    test = split.holdout;
    fit = split.train;
  }
  const { train, holdout: validation } = stratifiedSplit(labels.classIndex, settings.validationFraction, deriveSeed(settings.seed, 'validation'), fit);
  return { train, validation, test, fit, testSplit: settings.testRows ? 'given rows' : `stratified ${settings.testFraction}` };
}
