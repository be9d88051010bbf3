import type { DriftBaseline } from '../drift/driftBaseline.js';
import { ExtractError } from '../errors.js';
import type { ExtractItem, ExtractRecord } from '../extract/readExtract.js';
import { featureColumns, type FittedSpec } from '../spec/featureSpec.js';
import { compileEncoder } from '../spec/rowEncoder.js';

/** Rows looked at before scoring starts (all of them when the extract has fewer). */
export const LAYOUT_CHECK_ROWS = 200;
/** A column with a smaller share of plausible values looks wrong. */
export const PLAUSIBLE_SHARE = 0.5;
/** Values a column needs before it is judged: a handful of odd rows in a tiny extract say nothing about its layout. */
export const MIN_VALUES_TO_JUDGE = 20;

/** How one feature column of the first rows compares with the training data. */
export interface ColumnPlausibility {
  readonly column: string;
  /** Values that parsed and were looked at (a value that does not parse is a row reject, judged by the reject-rate guard). */
  readonly checked: number;
  /** Share (0–1) of them the model could have seen in training. */
  readonly share: number;
}

export interface LayoutPlausibility {
  readonly rows: number;
  readonly columns: readonly ColumnPlausibility[];
  /** Columns under {@link PLAUSIBLE_SHARE}. */
  readonly suspect: readonly ColumnPlausibility[];
  /** Whether the layout looks wrong (see {@link checkLayoutPlausibility}). */
  readonly refused: boolean;
}

/**
 * Compares each feature column of an extract's first rows with what the model saw in training,
 * through the row encoder itself (the same parsing as scoring). A value is plausible when it
 * parses and: numeric (booleans, dates too) — lies in the training range `[min, max]` of the drift
 * baseline; categorical — is in the fitted vocabulary; missing — training had missing values in
 * that column. A value that fails to parse is not counted here: its row is a reject, and the
 * reject-rate guard judges those. Without a baseline, numbers are not judged.
 *
 * A column is judged once it has {@link MIN_VALUES_TO_JUDGE} values, and looks wrong under
 * {@link PLAUSIBLE_SHARE} (50 %). The layout is refused when more than
 * half of the checked columns look wrong (a header-less file with shifted columns, nonsense under
 * the right names), or when a numeric column with a baseline does: most of its values lie beyond
 * the extremes of training (not a percentile range: the whole [min, max]), so it holds another
 * column's values (two columns swapped under the header) or another unit. One categorical column
 * with a new vocabulary alone does not refuse. A real population shift can trip it too: callers
 * let a run skip it.
 *
 * @example
 * const result = checkLayoutPlausibility(bundle.featureSpec, header, bundle.baseline, firstRecords, source);
 */
export function checkLayoutPlausibility(
  fitted: FittedSpec,
  header: readonly string[] | null,
  baseline: DriftBaseline | null,
  records: readonly ExtractRecord[],
  source: string,
): LayoutPlausibility {
  const names = featureColumns(fitted.spec).map((c) => c.name);
  const checked = new Array<number>(names.length).fill(0);
  const plausible = new Array<number>(names.length).fill(0);
  const numeric = new Array<boolean>(names.length).fill(false);
  const training = names.map((name) => baseline?.features.find((f) => f.name === name) ?? null);
  const encoder = compileEncoder(fitted, header, source, {
    observer: {
      numeric(c, value) {
        const base = training[c];
        numeric[c] = true;
        checked[c]!++;
        if (Number.isNaN(value)) plausible[c]! += base === null || base === undefined || base.missingRate > 0 ? 1 : 0;
        else if (base?.kind !== 'numeric' || (value >= base.min && value <= base.max)) plausible[c]!++;
      },
      category(c, slot, unseen) {
        const base = training[c];
        checked[c]!++;
        if (slot === -1 && !unseen) plausible[c]! += base === null || base === undefined || base.missingRate > 0 ? 1 : 0;
        else if (!unseen) plausible[c]!++;
      },
    },
  });
  const scratch = new Float32Array(encoder.width);
  const rows = Math.min(records.length, LAYOUT_CHECK_ROWS);
  // The observer sees every value that parses; a row the encoder refuses is a reject, not a layout verdict.
  for (let i = 0; i < rows; i++) encoder.encode(records[i]!.fields, scratch, 0);
  const columns = names.flatMap((column, c) => (checked[c]! >= MIN_VALUES_TO_JUDGE ? [{ column, checked: checked[c]!, share: plausible[c]! / checked[c]! }] : []));
  const suspect = columns.filter((c) => c.share < PLAUSIBLE_SHARE);
  // Most values beyond the extremes of training: another column's values (or another unit).
  const foreign = suspect.some((c) => numeric[names.indexOf(c.column)] && training[names.indexOf(c.column)]?.kind === 'numeric');
  return { rows, columns, suspect, refused: suspect.length * 2 > columns.length || foreign };
}

/** `EXTRACT_LAYOUT_SUSPECT` naming the columns that look wrong (names and shares only, never values). */
export function layoutSuspectError(result: LayoutPlausibility, source: string, line: number): ExtractError {
  const list = result.suspect.map((c) => `${c.column} (${Math.round(c.share * 100)} %)`).join(', ');
  return new ExtractError(
    'EXTRACT_LAYOUT_SUSPECT',
    `the first ${result.rows} rows look nothing like the training data in ${result.suspect.length} of ${result.columns.length} feature columns: ${list} plausible; columns shifted, missing or swapped? Fix the extract, or skip this check for the run (--skip-layout-check, SKIP_LAYOUT_CHECK=true) if the population really changed`,
    { file: source, line },
  );
}

/**
 * The batches of an extract (`OpenedExtract.nextBatch`), held back until `check` has seen the first
 * {@link LAYOUT_CHECK_ROWS} records (among the first four times as many items, rejects included:
 * memory stays bounded); no batch is handed on before it has passed.
 */
export function afterLayoutCheckBatches(
  nextBatch: () => Promise<ExtractItem[] | null>,
  check: (records: ExtractRecord[]) => void,
): () => Promise<ExtractItem[] | null> {
  const held: ExtractItem[][] = [];
  let checked = false;
  return async () => {
    if (!checked) {
      const records: ExtractRecord[] = [];
      let items = 0;
      while (records.length < LAYOUT_CHECK_ROWS && items < 4 * LAYOUT_CHECK_ROWS) {
        const batch = await nextBatch();
        if (batch === null) break;
        held.push(batch);
        for (let i = 0; i < batch.length && records.length < LAYOUT_CHECK_ROWS && items < 4 * LAYOUT_CHECK_ROWS; i++) {
          items++;
          const item = batch[i]!;
          if (item.kind === 'record') records.push(item.record);
        }
      }
      check(records);
      checked = true;
    }
    return held.shift() ?? nextBatch();
  };
}
