import { ExtractError, TrainingError } from '../errors.js';
import { layoutColumns } from '../spec/columnLayout.js';
import type { FeatureSpec } from '../spec/featureSpec.js';
import type { TrainingTable } from './trainingTable.js';

/** How the rows are ordered in time, when they are: by file order, or by a column's value. */
export interface TimeOrder {
  /** `file order` or `"<column>"`, for messages and the manifest. */
  readonly by: string;
  /** Time of each record (file row id for file order; the column as a number or epoch ms). */
  readonly times: Float64Array;
  /** Renders a time for the split description (a date, a number, or a 1-based data row). */
  readonly describe: (time: number) => string;
}

/** The 1-based data row of a record, for messages (`rowIds` count the reader's rejects too). */
function dataRowOf(table: TrainingTable, record: number): number {
  return (table.rowIds?.[record] ?? record) + 1;
}

/**
 * The time of every record, when the training settings say the rows have one: `order: 'file'`
 * (file order is time) or `timeColumn` (a number, or a date `Date.parse` reads). Undefined when
 * the rows have no order (random splits).
 * @throws ExtractError naming the file, data row and column when a labelled record's time is missing or unreadable.
 * @example
 * timeOrderOf(table, spec.featureSpec, { order: 'file' })?.times // → [0, 1, 2, …]
 */
export function timeOrderOf(
  table: TrainingTable,
  featureSpec: FeatureSpec,
  settings: { readonly order: 'random' | 'file'; readonly timeColumn?: string | undefined },
  labelled: Int32Array,
): TimeOrder | undefined {
  if (settings.timeColumn !== undefined) {
    const column = settings.timeColumn;
    const index = layoutColumns(featureSpec, table.header, table.source).require(column);
    const times = new Float64Array(table.records.length).fill(Number.NaN);
    let dates = 0;
    for (const record of labelled) {
      const raw = (table.records[record]![index] ?? '').trim();
      const number = raw === '' ? Number.NaN : Number(raw);
      const time = Number.isFinite(number) ? number : Date.parse(raw);
      if (!Number.isFinite(time)) {
        throw new ExtractError('EXTRACT_MALFORMED', `the time column "${column}" is not a number or a date in data row ${dataRowOf(table, record)}`, {
          file: table.source,
          column,
        });
      }
      if (!Number.isFinite(number)) dates++;
      times[record] = time;
    }
    const describe = dates > 0 ? (t: number) => new Date(t).toISOString().replace('T00:00:00.000Z', '') : (t: number) => String(t);
    return { by: `"${column}"`, times, describe };
  }
  if (settings.order === 'file') {
    const times = Float64Array.from({ length: table.records.length }, (_, r) => dataRowOf(table, r));
    return { by: 'file order', times, describe: (t) => `row ${t}` };
  }
  return undefined;
}

/** The records sorted by time; equal times keep file order. */
export function inTimeOrder(records: Int32Array, times: Float64Array): Int32Array {
  return Int32Array.from(records).sort((a, b) => times[a]! - times[b]! || a - b);
}

/**
 * Where the latest `fraction` of time-sorted records starts: the cut falls between two different
 * times (rows with one time stay on one side), at the position nearest `n × (1 − fraction)`; on a
 * tie, the later cut (the smaller latest part).
 * @throws TrainingError when every record has the same time (no cut leaves both sides non-empty).
 * @example
 * latestCut(Float64Array.of(1, 2, 2, 2, 3), 0.4) // → 4 (the nominal cut at 3 would split the 2s)
 */
export function latestCut(sortedTimes: ArrayLike<number>, fraction: number, what = 'rows'): number {
  const n = sortedTimes.length;
  const nominal = Math.min(n - 1, Math.max(1, n - Math.round(n * fraction)));
  const valid = (i: number) => i >= 1 && i <= n - 1 && sortedTimes[i - 1]! < sortedTimes[i]!;
  for (let distance = 0; distance < n; distance++) {
    if (valid(nominal + distance)) return nominal + distance;
    if (valid(nominal - distance)) return nominal - distance;
  }
  throw new TrainingError(`all ${n} ${what} have the same time: there is no later period to hold out`, { isInputError: true });
}
