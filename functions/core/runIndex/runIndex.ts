import { DriftError } from '../errors.js';
import { csvRecord } from '../engine/csvText.js';

/**
 * The run index: one line per scored customer of a committed run, so the nightly functions read
 * a few bytes per customer instead of each run's `scores.csv` and `targets.csv`.
 *
 * Layout: `index/<model>/<yyyy-mm-dd>/<run-id>.csv.gz`, the day being the UTC day of the run's
 * commit (`completedAt` in its `_SUCCESS`), so a redelivery writes the same key again.
 * Format: gzip of a CSV with the header `id,score,selected,value`:
 * - `id` the customer id as `scores.csv` holds it (same text, quoted where CSV needs it);
 * - `score` the probability (binary) or confidence (multiclass), the text of `scores.csv`;
 * - `selected` `1` when the customer is on `targets.csv`, else `0`;
 * - `value` the value per response `targets.csv` used (binary runs, selected rows), else empty.
 * The run id is the file name: repeating it on every line would only cost bytes.
 */
export const RUN_INDEX_HEADER = ['id', 'score', 'selected', 'value'] as const;

/** One line of a run index; numbers stay the text the run wrote, so figures read from it match the run's files exactly. */
export interface RunIndexRow {
  readonly id: string;
  readonly score: string;
  readonly selected: boolean;
  readonly value: string;
}

const INDEX_SUFFIX = '.csv.gz';
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The UTC day of an instant, `yyyy-mm-dd`: the index partition of a run committed then. */
export function indexDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * Where a run's index goes.
 * @example runIndexKey('index/', 'bank-marketing', new Date('2026-12-01T06:00:00Z'), 'calls-0a1b2c3d4e5f') // 'index/bank-marketing/2026-12-01/calls-0a1b2c3d4e5f.csv.gz'
 */
export function runIndexKey(indexPrefix: string, model: string, committedAt: Date, runId: string): string {
  return `${indexPrefix}${model}/${indexDay(committedAt)}/${runId}${INDEX_SUFFIX}`;
}

/** The day and run id an index key names, or `undefined` for any other key. */
export function parseRunIndexKey(key: string, indexPrefix: string, model: string): { readonly day: string; readonly runId: string } | undefined {
  const folder = `${indexPrefix}${model}/`;
  if (!key.startsWith(folder) || !key.endsWith(INDEX_SUFFIX)) return undefined;
  const [day, file, ...rest] = key.slice(folder.length).split('/');
  if (rest.length > 0 || !day || !DAY.test(day) || !file) return undefined;
  return { day, runId: file.slice(0, -INDEX_SUFFIX.length) };
}

/** One index line, line feed included (cells written as they are: the ids were neutralised, if at all, by the run). */
export function formatRunIndexRow(row: RunIndexRow): string {
  return csvRecord([row.id, row.score, row.selected ? '1' : '0', row.value], { injectionProtection: false });
}

/**
 * Checks an index file's header.
 * @throws DriftError naming the file when the header is not {@link RUN_INDEX_HEADER}.
 */
export function assertRunIndexHeader(header: readonly string[] | null, source: string): void {
  if (header?.join(',') !== RUN_INDEX_HEADER.join(',')) {
    throw new DriftError(`${source}: not a run index (its header is not ${RUN_INDEX_HEADER.join(',')})`);
  }
}

/** An index line's parsed fields back as a row. */
export function runIndexRowOf(fields: readonly string[]): RunIndexRow {
  return { id: fields[0] ?? '', score: fields[1] ?? '', selected: fields[2] === '1', value: fields[3] ?? '' };
}

/** The columns of a run's `scores.csv` and `targets.csv` the index is built from. */
export interface RunFileColumns {
  /** Index of `probability` (binary) or `confidence` (multiclass) in `scores.csv`. */
  readonly score: number;
  /** Index of `value` in `targets.csv`; -1 for multiclass target lists, which have none. */
  readonly value: number;
}

/**
 * Finds the score and value columns in the headers a run wrote.
 * @throws DriftError naming the file when `scores.csv` has neither `probability` nor `confidence`.
 */
export function runFileColumns(scoresHeader: readonly string[], targetsHeader: readonly string[], source: string): RunFileColumns {
  const probability = scoresHeader.indexOf('probability');
  const score = probability >= 0 ? probability : scoresHeader.indexOf('confidence');
  if (score < 1) throw new DriftError(`${source}scores.csv: no probability or confidence column after the id`);
  return { score, value: targetsHeader.indexOf('value') };
}

/** Rows gathered into chunks of `size`: the shape the label joins read (`claimIndexedOutcomes`). */
export async function* inChunks(rows: AsyncIterable<RunIndexRow>, size = 4096): AsyncGenerator<RunIndexRow[]> {
  let chunk: RunIndexRow[] = [];
  for await (const row of rows) {
    chunk.push(row);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}
