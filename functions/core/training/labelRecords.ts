import { TrainingError } from '../errors.js';
import { layoutColumns } from '../spec/columnLayout.js';
import { missingMarkers, targetColumn, type FeatureSpec } from '../spec/featureSpec.js';
import type { TrainingTable } from './trainingTable.js';

/** The target of every record of a training table. */
export interface RecordLabels {
  /** Trimmed target text per record (a missing marker for unlabelled records). */
  readonly text: readonly string[];
  /** Records whose target is not a missing marker, ascending. */
  readonly labelled: Int32Array;
  readonly unlabelled: number;
  /** The distinct labels of the labelled records, sorted. */
  readonly classes: readonly string[];
  /** Index into `classes` per record; −1 for an unlabelled record. Stratifies the splits. */
  readonly classIndex: Int32Array;
}

/**
 * Reads the target column of every record: which records are labelled, and with which class.
 * @throws TrainingError when the spec has no target column, or the labelled records have fewer than two classes;
 *   ExtractError when the file lacks the target column.
 * @example
 * labelRecords({ source: 't.csv', header: ['x', 'y'], records: [['1', ' yes'], ['2', ''], ['3', 'no']] }, spec)
 * // → { text: ['yes', '', 'no'], labelled: [0, 2], unlabelled: 1, classes: ['no', 'yes'], classIndex: [1, -1, 0] }
 */
export function labelRecords(table: TrainingTable, featureSpec: FeatureSpec): RecordLabels {
  const target = targetColumn(featureSpec);
  if (!target) throw new TrainingError('the feature spec has no target column (role "target"): there is nothing to learn', { isInputError: true });
  const targetIndex = layoutColumns(featureSpec, table.header, table.source).require(target.name);
  const markers = missingMarkers(target);
  const text = new Array<string>(table.records.length);
  const labelled: number[] = [];
  for (let r = 0; r < table.records.length; r++) {
    const label = (table.records[r]![targetIndex] ?? '').trim();
    text[r] = label;
    if (!markers.has(label)) labelled.push(r);
  }
  const classes = [...new Set(labelled.map((r) => text[r]!))].sort();
  if (classes.length < 2) {
    throw new TrainingError(`target "${target.name}" has ${classes.length} class(es) in ${table.source}; training needs two or more`, { isInputError: true });
  }
  const indexOf = new Map(classes.map((c, i) => [c, i]));
  const classIndex = new Int32Array(table.records.length).fill(-1);
  for (const r of labelled) classIndex[r] = indexOf.get(text[r]!)!;
  return { text, labelled: Int32Array.from(labelled), unlabelled: table.records.length - labelled.length, classes, classIndex };
}
