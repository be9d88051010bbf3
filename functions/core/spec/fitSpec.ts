import { SpecError } from '../errors.js';
import { cellParserFor, type CellParser } from './cellParsers.js';
import { layoutColumns } from './columnLayout.js';
import { CrossTally, crossSlotNames, fitCross } from './featureCrosses.js';
import {
  crossName,
  featureColumns,
  missingMarkers,
  pleBinsFor,
  targetColumn,
  type ColumnSpec,
  type FeatureSpec,
  type FittedColumn,
  type FittedCross,
  type FittedSpec,
} from './featureSpec.js';
import { ValueBuffer } from './valueBuffer.js';

/** Slot names the encoder adds besides plain columns. */
export const OTHER_CATEGORY = '__other__';
export const MISSING_CATEGORY = '__missing__';
export const MISSING_INDICATOR_SUFFIX = '__missing';
/** Piecewise-linear slots are named `<column>__ple1` … `<column>__pleT`. */
export const PLE_SLOT_SUFFIX = '__ple';

export interface TrainingTable {
  readonly header: readonly string[] | null;
  readonly records: AsyncIterable<readonly string[]> | Iterable<readonly string[]>;
}

export interface FitOptions {
  /** Name of the training file, for messages. */
  readonly source?: string;
  /** Fit date; also the default reference date for date columns. */
  readonly now?: Date;
  /** Told about each column fitted as a constant (all missing, or one value, in the training rows). */
  readonly warn?: (warning: FitWarning) => void;
}

/** A column (or cross) the fit could not learn from: it is fitted as a constant, so the model cannot use it. */
export interface FitWarning {
  /** The column's name, or the cross's (`a×b`). */
  readonly column: string;
  readonly reason: 'ALL_MISSING' | 'CONSTANT';
  readonly message: string;
}

const constantNote = 'fitted as a constant (the model cannot use it until it is retrained on rows where it varies)';

/** A numeric column's parsed values, and how many cells were missing. */
class NumberColumn extends ValueBuffer {
  missing = 0;
}

/** Linear-interpolated quantile of sorted values (numpy's default), so fits match pandas/sklearn. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/** Mean and population std (as sklearn's StandardScaler) of the clipped values plus `extra` copies of `fill`. */
function clippedMoments(sorted: Float64Array, clipped: (v: number) => number, fill: number, extra: number): { mean: number; std: number } {
  const n = sorted.length + extra;
  let sum = fill * extra;
  for (const v of sorted) sum += clipped(v);
  const mean = sum / n;
  let squares = (fill - mean) ** 2 * extra;
  for (const v of sorted) squares += (clipped(v) - mean) ** 2;
  return { mean, std: Math.sqrt(squares / n) };
}

function mostFrequent(counts: Map<string, number>): string | undefined {
  let best: string | undefined;
  let bestCount = -1;
  for (const [value, count] of counts) {
    if (count > bestCount || (count === bestCount && best !== undefined && value < best)) {
      best = value;
      bestCount = count;
    }
  }
  return best;
}

/**
 * Edges of `bins` quantile bins over sorted (clipped) values, repeated edges dropped (as rtdl's
 * `compute_bins` and numpy's `unique` do), so a column with few distinct values gets fewer bins.
 * Undefined when fewer than two distinct edges remain (a constant column keeps one scaled slot).
 */
export function quantileEdges(sorted: Float64Array, bins: number, clip: (v: number) => number = (v) => v): number[] | undefined {
  const edges: number[] = [];
  for (let t = 0; t <= bins; t++) {
    const edge = clip(quantileSorted(sorted, t / bins));
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return edges.length >= 2 ? edges : undefined;
}

function fitNumeric(column: ColumnSpec, values: NumberColumn, rows: number, source: string, bins: number | undefined, warn: (w: FitWarning) => void): FittedColumn {
  const sorted = values.sorted();
  const strategy = column.impute?.strategy ?? 'median';
  const missingRate = rows === 0 ? 0 : values.missing / rows;
  if (sorted.length === 0) {
    // Clipped to [0, 0] with fill 0: the value slot is 0 whatever a later row holds.
    warn({ column: column.name, reason: 'ALL_MISSING', message: `column "${column.name}" has no non-missing value in the ${rows} training rows: ${constantNote}` });
    return { kind: 'numeric', fill: 0, clipLower: 0, clipUpper: 0, shift: 0, scale: 1, missingRate };
  }
  let clipLower: number | null = null;
  let clipUpper: number | null = null;
  if (sorted[0] === sorted[sorted.length - 1]) {
    // One value: clipped to it, so the slot keeps the one value the model saw.
    warn({ column: column.name, reason: 'CONSTANT', message: `column "${column.name}" has one value in all ${sorted.length} non-missing training rows: ${constantNote}` });
    clipLower = clipUpper = sorted[0]!;
  } else if (column.clip) {
    clipLower = quantileSorted(sorted, column.clip.lowerQuantile);
    clipUpper = quantileSorted(sorted, column.clip.upperQuantile);
  }
  const clipped = (v: number) => (clipLower !== null && v < clipLower ? clipLower : clipUpper !== null && v > clipUpper ? clipUpper : v);
  const { mean, std } = clippedMoments(sorted, clipped, 0, 0);

  let fill: number;
  switch (strategy) {
    case 'mean':
      fill = mean;
      break;
    case 'constant': {
      if (typeof column.impute?.value !== 'number') {
        throw new SpecError('SPEC_INVALID', 'constant imputation of a numeric column needs a numeric value', { source, path: `${column.name}.impute.value` });
      }
      fill = column.impute.value;
      break;
    }
    case 'most-frequent': {
      const counts = new Map<string, number>();
      for (const v of sorted) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
      fill = Number(mostFrequent(counts));
      break;
    }
    case 'missing-category':
      throw new SpecError('SPEC_INVALID', 'missing-category imputation only applies to categorical columns', { source, path: `${column.name}.impute.strategy` });
    default:
      // median, and `none` (missing rows are rejected, but a fill keeps the vector defined).
      fill = quantileSorted(sorted, 0.5);
  }
  fill = clipped(fill);

  let shift = 0;
  let scale = 1;
  if (column.scale === 'standard') {
    // scikit-learn's Pipeline([SimpleImputer, StandardScaler]): the scaler also sees each missing cell at its fill.
    const moments = column.scaleAfterImpute ? clippedMoments(sorted, clipped, fill, values.missing) : { mean, std };
    shift = moments.mean;
    scale = moments.std > 0 ? moments.std : 1;
  } else if (column.scale === 'minmax') {
    const imputed = column.scaleAfterImpute && values.missing > 0;
    const lo = Math.min(clipped(sorted[0]!), imputed ? fill : Number.POSITIVE_INFINITY);
    const hi = Math.max(clipped(sorted[sorted.length - 1]!), imputed ? fill : Number.NEGATIVE_INFINITY);
    shift = lo;
    scale = hi > lo ? hi - lo : 1;
  }
  const fitted: FittedColumn = { kind: 'numeric', fill, clipLower, clipUpper, shift, scale, missingRate };
  const edges = bins === undefined ? undefined : quantileEdges(sorted, bins, clipped);
  if (edges) fitted.edges = edges;
  return fitted;
}

function fitCategorical(column: ColumnSpec, counts: Map<string, number>, missing: number, rows: number, source: string, warn: (w: FitWarning) => void): FittedColumn {
  const strategy = column.impute?.strategy ?? 'most-frequent';
  const ranked = [...counts.entries()]
    .filter(([, count]) => count >= column.minCategoryCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, column.maxCategories)
    .map(([value]) => value)
    .sort();
  const missingRate = rows === 0 ? 0 : missing / rows;
  const oneOutcome = ranked.length === 0 || (ranked.length === 1 && counts.size === 1 && (missing === 0 || strategy !== 'missing-category'));
  if (oneOutcome && strategy !== 'none') {
    // Only the `other` slot: every value, seen or not, and every missing cell land on it.
    const reason = counts.size === 0 ? 'ALL_MISSING' : 'CONSTANT';
    const what =
      reason === 'ALL_MISSING'
        ? `has no non-missing value in the ${rows} training rows`
        : ranked.length === 0
          ? `has no category seen at least ${column.minCategoryCount} times in the training rows`
          : 'has one category in the training rows';
    warn({ column: column.name, reason, message: `column "${column.name}" ${what}: ${constantNote}` });
    return { kind: 'categorical', vocabulary: [OTHER_CATEGORY], otherIndex: 0, fillIndex: 0, missingRate };
  }
  if (ranked.length === 0) {
    throw new SpecError('FIT_FAILED', `column "${column.name}" has no category seen at least ${column.minCategoryCount} times`, {
      source,
      path: column.name,
    });
  }
  const vocabulary = [...ranked, OTHER_CATEGORY];
  const otherIndex = vocabulary.length - 1;
  let fillIndex: number | null;
  switch (strategy) {
    case 'missing-category':
      vocabulary.push(MISSING_CATEGORY);
      fillIndex = vocabulary.length - 1;
      break;
    case 'constant': {
      const value = String(column.impute?.value ?? '');
      const index = vocabulary.indexOf(value);
      fillIndex = index >= 0 ? index : otherIndex;
      break;
    }
    case 'none':
      fillIndex = null;
      break;
    case 'most-frequent':
      fillIndex = vocabulary.indexOf(mostFrequent(counts)!);
      if (fillIndex < 0) fillIndex = otherIndex;
      break;
    default:
      throw new SpecError('SPEC_INVALID', `${strategy} imputation does not apply to a categorical column`, {
        source,
        path: `${column.name}.impute.strategy`,
      });
  }
  return { kind: 'categorical', vocabulary, otherIndex, fillIndex, missingRate };
}

/**
 * scikit-learn's one-hot options, laid over a fitted categorical column: explicit `categories` (the
 * slot order, whatever the data held) and `unknown: 'ignore'` (no `__other__` slot: an unseen value
 * is an all-zero block). The fill follows the column's strategy within the new vocabulary.
 * @throws SpecError for categories given twice, or an `ignore` column whose fill is no category.
 */
function withOneHotOptions(fit: FittedColumn, column: ColumnSpec, counts: Map<string, number>, source: string): FittedColumn {
  if (fit.kind !== 'categorical' || (column.categories === undefined && column.unknown !== 'ignore')) return fit;
  const categories = column.categories ?? fit.vocabulary.filter((v) => v !== OTHER_CATEGORY && v !== MISSING_CATEGORY);
  if (new Set(categories).size !== categories.length) {
    throw new SpecError('SPEC_INVALID', `categories of "${column.name}" hold a value twice`, { source, path: `${column.name}.categories` });
  }
  const ignore = column.unknown === 'ignore';
  const vocabulary = ignore ? [...categories] : [...categories, OTHER_CATEGORY];
  const otherIndex = ignore ? -1 : vocabulary.length - 1;
  if (fit.vocabulary.includes(MISSING_CATEGORY)) vocabulary.push(MISSING_CATEGORY);
  const strategy = column.impute?.strategy ?? 'most-frequent';
  const fillValue = strategy === 'missing-category' ? MISSING_CATEGORY : strategy === 'constant' ? String(column.impute?.value ?? '') : strategy === 'none' ? null : mostFrequent(counts);
  let fillIndex = fillValue === null ? null : vocabulary.indexOf(fillValue ?? '');
  if (fillIndex === -1) {
    if (ignore) {
      throw new SpecError('SPEC_INVALID', `the fill of "${column.name}" is not one of its categories: with unknown "ignore", add it to categories or use missing-category`, {
        source,
        path: `${column.name}.impute`,
      });
    }
    fillIndex = otherIndex;
  }
  return { ...fit, vocabulary, otherIndex, fillIndex, ...(ignore ? { unknown: 'ignore' as const } : {}) };
}

/** Names of the encoded slots, in the order the encoder writes them (static features, then sequence groups, then crosses). */
export function slotNames(spec: FeatureSpec, fitted: Record<string, FittedColumn>, crosses: readonly FittedCross[] = []): string[] {
  const names: string[] = [];
  const columnSlots = (column: ColumnSpec): string[] => {
    if (column.feed === 'string') return [];
    const fit = fitted[column.name]!;
    const slots =
      fit.kind === 'categorical'
        ? fit.vocabulary.map((v) => `${column.name}=${v}`)
        : fit.edges
          ? fit.edges.slice(1).map((_, t) => `${column.name}${PLE_SLOT_SUFFIX}${t + 1}`)
          : [column.name];
    if (column.impute?.indicator) slots.push(`${column.name}${MISSING_INDICATOR_SUFFIX}`);
    return slots;
  };
  for (const column of orderedFeatureColumns(spec)) names.push(...columnSlots(column));
  for (const cross of crosses) names.push(...crossSlotNames(cross, OTHER_CATEGORY));
  return names;
}

/** Columns the model takes as text (`feed: 'string'`), one string slot each, in spec order. */
export function textSlotNames(spec: FeatureSpec): string[] {
  return featureColumns(spec)
    .filter((column) => column.feed === 'string')
    .map((column) => column.name);
}

/**
 * Feature columns in slot order: plain features in spec order, then each sequence group
 * period-major (p1f1, p1f2, …, p2f1, …) so a Conv1D input is one contiguous `[periods, features]` block.
 */
export function orderedFeatureColumns(spec: FeatureSpec): ColumnSpec[] {
  const features = featureColumns(spec);
  const plain = features.filter((c) => !c.sequence);
  const groups = [...new Set(features.filter((c) => c.sequence).map((c) => c.sequence!.group))];
  const sequenced: ColumnSpec[] = [];
  for (const group of groups) {
    const members = features.filter((c) => c.sequence?.group === group);
    const featureOrder = [...new Set(members.map((c) => c.sequence!.feature))];
    sequenced.push(
      ...members.sort(
        (a, b) => a.sequence!.period - b.sequence!.period || featureOrder.indexOf(a.sequence!.feature) - featureOrder.indexOf(b.sequence!.feature),
      ),
    );
  }
  return [...plain, ...sequenced];
}

function sequenceLayout(spec: FeatureSpec, ordered: ColumnSpec[], source: string): FittedSpec['sequences'] {
  const groups = [...new Set(ordered.filter((c) => c.sequence).map((c) => c.sequence!.group))];
  if (groups.length === 0) return undefined;
  const plainSlots = ordered.filter((c) => !c.sequence).length;
  let offset = plainSlots;
  return groups.map((group) => {
    const members = ordered.filter((c) => c.sequence?.group === group);
    const features = [...new Set(members.map((c) => c.sequence!.feature))];
    const periods = [...new Set(members.map((c) => c.sequence!.period))];
    for (const c of members) {
      if (c.type === 'categorical' || c.impute?.indicator) {
        throw new SpecError('SPEC_INVALID', 'sequence columns must be numeric with one slot each (no indicator)', { source, path: c.name });
      }
    }
    if (members.length !== features.length * periods.length) {
      throw new SpecError('SPEC_INVALID', `sequence group "${group}" needs every feature for every period`, { source, path: group });
    }
    const layout = { group, offset, periods: periods.length, features };
    offset += members.length;
    return layout;
  });
}

function classLabels(spec: FeatureSpec, counts: Map<string, number>, source: string): string[] | undefined {
  const target = targetColumn(spec);
  if (!target) return undefined;
  const labels = [...counts.keys()].sort();
  if (labels.length < 2) {
    throw new SpecError('FIT_FAILED', `target "${target.name}" has fewer than two classes in the training data`, { source, path: target.name });
  }
  if (labels.length > 2) return labels;
  const positive =
    spec.positiveClass ?? labels.find((l) => ['1', 'yes', 'true', 'y', '1.0'].includes(l.toLowerCase())) ?? labels[1]!;
  if (!labels.includes(positive)) {
    throw new SpecError('FIT_FAILED', `positive class "${positive}" does not occur in target "${target.name}"`, { source, path: 'positiveClass' });
  }
  return [labels.find((l) => l !== positive)!, positive];
}

/**
 * Learns every parameter of the spec (fills, clip bounds, scales, vocabularies, classes) from
 * training rows. Rows are streamed once; numeric cells are kept in typed arrays for quantiles.
 *
 * @example
 * const fitted = await fitSpec(spec, { header: ['age', 'job', 'y'], records: rows });
 */
export async function fitSpec(spec: FeatureSpec, table: TrainingTable, options: FitOptions = {}): Promise<FittedSpec> {
  const source = options.source ?? 'training data';
  const now = options.now ?? new Date();
  const warn = options.warn ?? (() => {});
  const referenceDate = spec.referenceDate ?? now.toISOString().slice(0, 10);
  const layout = layoutColumns(spec, table.header, source);
  const features = orderedFeatureColumns(spec);
  const target = targetColumn(spec);
  const targetIndex = target ? layout.indexOf(target.name) : -1;

  type Collector =
    | { kind: 'numeric'; column: ColumnSpec; index: number; parse: CellParser; markers: ReadonlySet<string>; values: NumberColumn }
    | { kind: 'categorical'; column: ColumnSpec; index: number; markers: ReadonlySet<string>; counts: Map<string, number>; missing: number };
  const collectors: Collector[] = features.map((column) => {
    const index = layout.require(column.name);
    const markers = missingMarkers(column);
    return column.type === 'categorical'
      ? { kind: 'categorical', column, index, markers, counts: new Map(), missing: 0 }
      : { kind: 'numeric', column, index, markers, parse: cellParserFor(column, referenceDate), values: new NumberColumn() };
  });
  const untrimmed = collectors.map((collector) => collector.column.trim === false);
  const targetCounts = new Map<string, number>();
  const targetMarkers = target ? missingMarkers(target) : new Set<string>();
  // Crosses: each row's source values (after trim and aliases; null when missing), tallied per cross.
  const crosses = (spec.crosses ?? []).map((cross) => ({
    cross,
    sources: cross.columns.map((name) => collectors.findIndex((collector) => collector.column.name === name)),
    tally: new CrossTally(),
  }));
  const rowValues = new Array<string | null>(collectors.length).fill(null);
  // A numeric column a cross bins: its value is tallied as text (the cross bands it once fitted).
  const crossedNumeric = collectors.map((collector, c) => collector.kind === 'numeric' && crosses.some(({ sources }) => sources.includes(c)));

  let rows = 0;
  for await (const fields of table.records) {
    rows++;
    for (let c = 0; c < collectors.length; c++) {
      const collector = collectors[c]!;
      const cell = fields[collector.index] ?? '';
      const raw = untrimmed[c] ? cell : cell.trim();
      rowValues[c] = null;
      if (collector.markers.has(raw)) {
        if (collector.kind === 'numeric') collector.values.missing++;
        else collector.missing++;
        continue;
      }
      if (collector.kind === 'numeric') {
        const value = collector.parse(raw);
        if (Number.isNaN(value)) collector.values.missing++;
        else {
          collector.values.push(value);
          if (crossedNumeric[c]) rowValues[c] = String(value);
        }
      } else {
        const aliases = collector.column.aliases;
        const value = aliases && Object.hasOwn(aliases, raw) ? aliases[raw]! : raw;
        collector.counts.set(value, (collector.counts.get(value) ?? 0) + 1);
        rowValues[c] = value;
      }
    }
    for (const { sources, tally } of crosses) tally.add(sources.map((c) => rowValues[c] ?? null));
    if (targetIndex >= 0) {
      const label = (fields[targetIndex] ?? '').trim();
      if (!targetMarkers.has(label)) targetCounts.set(label, (targetCounts.get(label) ?? 0) + 1);
    }
  }
  if (rows === 0) throw new SpecError('FIT_FAILED', 'no training rows', { source });

  const columns: Record<string, FittedColumn> = {};
  for (const collector of collectors) {
    columns[collector.column.name] =
      collector.kind === 'numeric'
        ? fitNumeric(collector.column, collector.values, rows, source, pleBinsFor(spec, collector.column), warn)
        : fitCategorical(collector.column, collector.counts, collector.missing, rows, source, warn);
  }
  for (const collector of collectors) {
    if (collector.kind === 'categorical') columns[collector.column.name] = withOneHotOptions(columns[collector.column.name]!, collector.column, collector.counts, source);
  }
  const fittedCrosses = crosses.map(({ cross, tally }) => {
    const fitted = fitCross(cross, tally, cross.columns.map((name) => columns[name]!));
    if (fitted.combinations.length === 0) {
      const name = crossName(cross);
      warn({ column: name, reason: 'CONSTANT', message: `cross "${name}" has no combination seen at least ${cross.minCategoryCount} times in the training rows: ${constantNote}` });
    }
    return fitted;
  });
  const fittedSpec: FittedSpec = {
    spec: { ...spec, referenceDate },
    fittedAt: now.toISOString(),
    trainingRows: rows,
    columns,
    ...(spec.crosses ? { crosses: fittedCrosses } : {}),
    featureNames: slotNames(spec, columns, fittedCrosses),
  };
  const textNames = textSlotNames(spec);
  if (textNames.length > 0) fittedSpec.textNames = textNames;
  const classes = target && targetIndex >= 0 ? classLabels(spec, targetCounts, source) : undefined;
  if (classes) fittedSpec.classes = classes;
  const sequences = sequenceLayout(spec, features, source);
  if (sequences) fittedSpec.sequences = sequences;
  return fittedSpec;
}
