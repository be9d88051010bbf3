import { ExtractError } from '../errors.js';
import type { TrainingTable } from '../training/trainingTable.js';

export interface LabelJoinOptions {
  /** Customer id column of the extract (the labels are keyed by it). */
  readonly idColumn: string;
  /** Target column to write (the feature spec's target); appended when the extract lacks it. */
  readonly targetColumn: string;
  /** Label text for a response and for no response, as the training spec's target expects. */
  readonly positiveClass: string;
  readonly negativeClass: string;
}

export interface LabelledExtract {
  readonly table: TrainingTable;
  /** Extract rows that had an outcome (the rows of `table`). */
  readonly labelled: number;
  /** Extract rows without an outcome yet (left out). */
  readonly unlabelled: number;
}

/**
 * Turns a scored extract plus outcomes that arrived later (`labels/<model>/*.csv`, read with
 * `readOutcomeLabels`) into training rows: each extract row with an outcome gets the target
 * column filled in; rows without an outcome are left out.
 *
 * @throws ExtractError EXTRACT_MISSING_COLUMN when the extract has no id column.
 * @example
 * const { table } = labelExtract(extract, labels.outcomes, { idColumn: 'CustomerID', targetColumn: 'Churn', positiveClass: '1', negativeClass: '0' });
 */
export function labelExtract(
  extract: { readonly source: string; readonly header: readonly string[]; readonly records: Iterable<readonly string[]> },
  outcomes: ReadonlyMap<string, boolean>,
  options: LabelJoinOptions,
): LabelledExtract {
  const labeller = extractLabeller(extract.header, extract.source, options);
  const records: string[][] = [];
  let unlabelled = 0;
  for (const record of extract.records) {
    const outcome = outcomes.get(labeller.idOf(record));
    if (outcome === undefined) {
      unlabelled++;
      continue;
    }
    records.push(labeller.label(record, outcome));
  }
  return { table: { source: `${extract.source} + labels`, header: labeller.header, records }, labelled: records.length, unlabelled };
}

/** Labels an extract's records one at a time (streamed extracts): see {@link extractLabeller}. */
export interface ExtractLabeller {
  /** The extract's header, with the target column appended when it lacked one. */
  readonly header: readonly string[];
  /** The record's customer id, trimmed: the key its outcome is found under. */
  idOf(record: readonly string[]): string;
  /** A copy of the record with the target column set to the outcome's class. */
  label(record: readonly string[], responded: boolean): string[];
}

/**
 * The per-record half of {@link labelExtract}, for extracts read as a stream.
 * @throws ExtractError EXTRACT_MISSING_COLUMN when the header has no id column.
 */
export function extractLabeller(header: readonly string[], source: string, options: LabelJoinOptions): ExtractLabeller {
  const find = (name: string) => header.findIndex((h) => h.trim().toLowerCase() === name.toLowerCase());
  const idIndex = find(options.idColumn);
  if (idIndex < 0) {
    throw new ExtractError('EXTRACT_MISSING_COLUMN', `the extract has no "${options.idColumn}" column to join outcomes on`, {
      file: source,
      line: 1,
      column: options.idColumn,
    });
  }
  const existing = find(options.targetColumn);
  const targetIndex = existing >= 0 ? existing : header.length;
  return {
    header: existing >= 0 ? [...header] : [...header, options.targetColumn],
    idOf: (record) => (record[idIndex] ?? '').trim(),
    label: (record, responded) => {
      const row = [...record];
      row[targetIndex] = responded ? options.positiveClass : options.negativeClass;
      return row;
    },
  };
}

/**
 * CSV files directly in `folder` (e.g. `labels/<model>/` or `training/<model>/`) that arrived
 * after `since`, oldest first.
 */
export function selectNewDataFiles(
  objects: ReadonlyArray<{ readonly key: string; readonly lastModified: Date }>,
  options: { readonly folder: string; readonly since: Date },
): string[] {
  const { folder } = options;
  return objects
    .filter((o) => o.key.startsWith(folder) && /\.csv(\.gz)?$/.test(o.key) && !o.key.slice(folder.length).includes('/'))
    .filter((o) => o.lastModified.getTime() > options.since.getTime())
    .sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime() || (a.key < b.key ? -1 : 1))
    .map((o) => o.key);
}

/**
 * Label files of one model that arrived after `since` (typically the champion's training date):
 * keys `labels/<model>/<file>.csv` (or `.csv.gz`), oldest first.
 */
export function selectNewLabelFiles(
  objects: ReadonlyArray<{ readonly key: string; readonly lastModified: Date }>,
  options: { readonly model: string; readonly since: Date; readonly labelsPrefix?: string },
): string[] {
  return selectNewDataFiles(objects, { folder: `${options.labelsPrefix ?? 'labels/'}${options.model}/`, since: options.since });
}
