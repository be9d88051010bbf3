import type { RejectReason } from '../errors.js';
import { cellParserFor, unparseableReason } from './cellParsers.js';
import { layoutColumns, type ColumnLayout } from './columnLayout.js';
import { compileCrossWriter } from './featureCrosses.js';
import { featureColumns, idColumn, missingMarkers, targetColumn, type ColumnSpec, type FittedSpec } from './featureSpec.js';
import { orderedFeatureColumns, slotNames } from './fitSpec.js';

/** Why one row cannot be encoded; the engine turns it into a line of `rejects.csv`. */
export interface RowIssue {
  readonly column: string;
  readonly reason: RejectReason;
  readonly detail: string;
}

/**
 * Sees the raw values of every row that encoded successfully (drift baselines and run profiles).
 * `column` indexes the spec's feature columns in spec order.
 */
export interface EncodeObserver {
  /** Parsed value before imputation and scaling; NaN when missing. Booleans are 0/1, dates days before the reference. */
  numeric(column: number, value: number): void;
  /** Vocabulary slot after aliases; -1 when missing; `unseen` when the value was not in the vocabulary (it lands in `other`). */
  category(column: number, slot: number, unseen: boolean): void;
}

export interface RowEncoder {
  /** Slots per encoded row. */
  readonly width: number;
  /** String slots per row: columns the model takes as text (`feed: 'string'`, see `FittedSpec.textNames`); 0 for most models. */
  readonly textWidth: number;
  readonly featureNames: readonly string[];
  /** Field index of the id column, or null when the spec has none (the line number is the id then). */
  readonly idIndex: number | null;
  /** Field index of the target column when the extract has it (training, labelled extracts). */
  readonly targetIndex: number | null;
  /** Field index of any column of the extract (e.g. the economics' value column). @throws ExtractError when absent */
  valueIndex(name: string): number;
  /**
   * Writes one row's `width` slots into `out` at `offset` (and, when `textWidth` > 0, its `textWidth`
   * strings into `text` at `textOffset`). Returns null when the row is fine, or the first issue
   * found (the slots are then undefined and the row must not be scored).
   */
  encode(fields: readonly string[], out: Float32Array, offset: number, text?: string[], textOffset?: number): RowIssue | null;
  /** Unseen categories counted so far, per categorical feature column name (rows that encoded only). */
  unseenCounts(): Record<string, number>;
  /** Missing cells filled by the spec's imputation so far, per feature column name (rows that encoded only). */
  imputedCounts(): Record<string, number>;
}

type SlotWriter = (fields: readonly string[], out: Float32Array, base: number, text: string[], textBase: number) => RowIssue | null;

/** `trim()` only when needed: most cells have no surrounding blanks, and trim allocates. */
function trimmed(text: string): string {
  return text.length > 0 && (text.charCodeAt(0) <= 32 || text.charCodeAt(text.length - 1) <= 32) ? text.trim() : text;
}

const truncate = (text: string) => (text.length > 40 ? `${text.slice(0, 37)}...` : text);

/**
 * Piecewise-linear encoding (Gorishniy et al., NeurIPS 2022) of `value` over T bins into `out[at…at+T)`:
 * slot t is 1 above its bin, 0 below it, the position inside it in between; the first bin is not
 * floored and the last not capped, so values beyond the training range extrapolate as in the paper.
 */
export function writePiecewiseLinear(value: number, lower: Float64Array, inverseWidth: Float64Array, out: Float32Array, at: number): void {
  const last = lower.length - 1;
  for (let t = 0; t <= last; t++) {
    const position = (value - lower[t]!) * inverseWidth[t]!;
    out[at + t] = t > 0 && position < 0 ? 0 : t < last && position > 1 ? 1 : position;
  }
}

/**
 * Compiles a fitted spec against an extract's header into a row encoder that writes straight into
 * a preallocated Float32Array batch: no per-row objects on the success path.
 *
 * @throws ExtractError EXTRACT_MISSING_COLUMN when an id or feature column is absent.
 * @example
 * const encoder = compileEncoder(bundle.featureSpec, header, 'extract.csv');
 * const issue = encoder.encode(fields, batch, row * encoder.width);
 */
export function compileEncoder(
  fitted: FittedSpec,
  header: readonly string[] | null,
  source: string,
  options: { observer?: EncodeObserver } = {},
): RowEncoder {
  const spec = fitted.spec;
  const layout: ColumnLayout = layoutColumns(spec, header, source);
  const referenceDate = spec.referenceDate ?? fitted.fittedAt.slice(0, 10);
  const observer = options.observer;
  const specOrder = featureColumns(spec);
  const ordered = orderedFeatureColumns(spec);

  // Raw values of the row being encoded, replayed to the observer once the whole row is good.
  const lastNumeric = new Float64Array(specOrder.length);
  const lastSlot = new Int32Array(specOrder.length);
  const lastUnseen = new Uint8Array(specOrder.length);
  const unseen = new Float64Array(specOrder.length);
  const imputed = new Float64Array(specOrder.length);
  const isCategorical = specOrder.map((c) => c.type === 'categorical');

  const writers: SlotWriter[] = [];
  let offset = 0;
  let textSlots = 0;
  for (const column of ordered) {
    const fit = fitted.columns[column.name];
    if (!fit) throw new Error(`fitted spec has no parameters for feature "${column.name}"`);
    const index = layout.require(column.name);
    const observed = specOrder.indexOf(column);
    const markers = missingMarkers(column);
    const indicator = column.impute?.indicator === true;
    const rejectMissing = column.required === true || column.impute?.strategy === 'none';
    const slot = offset;
    const name = column.name;
    // Trimming off: a cell is matched against missing tokens and categories exactly as written.
    const clean = column.trim === false ? (text: string) => text : trimmed;

    if (fit.kind === 'categorical' && column.feed === 'string') {
      writers.push(textWriter(fit, column, index, textSlots++, observed, { markers, rejectMissing, clean, lastSlot, lastUnseen }));
      continue;
    }
    if (fit.kind === 'numeric') {
      const parse = cellParserFor(column, referenceDate);
      const reason = unparseableReason(column);
      const { clipLower, clipUpper, shift, scale } = fit;
      // `nan`: the model imputes; NaN stays NaN through the scaling.
      const fill = column.impute?.strategy === 'nan' ? Number.NaN : fit.fill;
      const lo = clipLower ?? Number.NEGATIVE_INFINITY;
      const hi = clipUpper ?? Number.POSITIVE_INFINITY;
      // Piecewise-linear encoding: bin t spans [lower[t], lower[t] + 1 / inverseWidth[t]).
      const edges = fit.edges ?? [];
      const bins = Math.max(0, edges.length - 1);
      const lower = Float64Array.from(edges.slice(0, bins));
      const inverseWidth = Float64Array.from(edges.slice(1), (edge, t) => 1 / (edge - edges[t]!));
      const width = bins === 0 ? 1 : bins;
      // Most columns have no marker that parses as a value, so parse first and look at markers only on failure.
      const markersFirst = [...markers].some((m) => !Number.isNaN(parse(m)));
      // Missing in every training row: the model only ever saw the indicator at 1, so it stays 1 (a value
      // appearing later must not move the score until the model is retrained on it).
      const alwaysMissing = fit.missingRate === 1;
      writers.push((fields, out, base) => {
        const raw = fields[index] ?? '';
        let value = markersFirst ? Number.NaN : parse(raw);
        let missing = 0;
        if (Number.isNaN(value)) {
          if (markers.has(clean(raw))) {
            if (rejectMissing) return { column: name, reason: 'MISSING_REQUIRED', detail: `"${name}" is empty` };
            lastNumeric[observed] = Number.NaN;
            value = fill;
            missing = 1;
          } else {
            if (markersFirst) value = parse(raw);
            if (Number.isNaN(value)) return { column: name, reason, detail: `"${truncate(raw)}" in "${name}"` };
          }
        }
        if (missing === 0) {
          lastNumeric[observed] = value;
          value = value < lo ? lo : value > hi ? hi : value;
        }
        if (bins === 0) {
          out[base + slot] = (value - shift) / scale;
        } else {
          writePiecewiseLinear(value, lower, inverseWidth, out, base + slot);
        }
        if (indicator) out[base + slot + width] = alwaysMissing ? 1 : missing;
        return null;
      });
      offset += width + (indicator ? 1 : 0);
    } else {
      const { vocabulary, otherIndex, fillIndex } = fit;
      // `ignore`: an unseen value leaves the block all zero (otherIndex is -1 then).
      const ignoreUnseen = fit.unknown === 'ignore';
      const slotOf = new Map(vocabulary.map((v, i) => [v, i]));
      const aliases = new Map(Object.entries(column.aliases ?? {}));
      const width = vocabulary.length;
      writers.push((fields, out, base) => {
        const raw = fields[index] ?? '';
        const start = base + slot;
        out.fill(0, start, start + width);
        let chosen: number;
        let missing = 0;
        // Fast path: the cell is a known category as written.
        const direct = slotOf.get(raw);
        if (direct !== undefined) {
          chosen = direct;
          lastSlot[observed] = chosen;
          lastUnseen[observed] = 0;
        } else {
          const value = clean(raw);
          if (markers.has(value)) {
            if (rejectMissing || fillIndex === null) return { column: name, reason: 'MISSING_REQUIRED', detail: `"${name}" is empty` };
            chosen = fillIndex;
            missing = 1;
            lastSlot[observed] = -1;
            lastUnseen[observed] = 0;
          } else {
            const known = slotOf.get(aliases.get(value) ?? value);
            chosen = known ?? otherIndex;
            lastSlot[observed] = known === undefined && ignoreUnseen ? -1 : chosen;
            lastUnseen[observed] = known === undefined ? 1 : 0;
          }
        }
        if (chosen >= 0) out[start + chosen] = 1;
        if (indicator) out[start + width] = missing;
        return null;
      });
      offset += width + (indicator ? 1 : 0);
    }
  }
  // Crosses: after every column's writer has set this row's source slots (`lastSlot`).
  for (const cross of fitted.crosses ?? []) {
    const sources = cross.columns.map((name) => fitted.columns[name]!);
    const observed = cross.columns.map((name) => specOrder.findIndex((column) => column.name === name));
    const writer = compileCrossWriter(cross, sources, { slots: lastSlot, numbers: lastNumeric }, observed);
    const slot = offset;
    writers.push((_fields, out, base) => {
      writer.write(out, base + slot);
      return null;
    });
    offset += writer.width;
  }
  if (offset !== fitted.featureNames.length) {
    throw new Error(`encoder writes ${offset} slots but the fitted spec names ${fitted.featureNames.length}`);
  }
  const placement = slotPlacement(fitted);

  const id = idColumn(spec);
  const idIndex = id ? layout.require(id.name) : null;
  const target = targetColumn(spec);
  const targetIndex = target ? layout.indexOf(target.name) : -1;
  const idMarkers = id ? missingMarkers(id) : new Set<string>();

  const width = offset;
  // An explicit slot order: encode in the encoder's order into a scratch row, then place each slot.
  const scratch = placement ? new Float32Array(width) : null;
  // A caller that does not feed text (layout checks, training) still gets the strings written somewhere.
  const noText = new Array<string>(textSlots);

  return {
    width,
    textWidth: textSlots,
    featureNames: fitted.featureNames,
    idIndex,
    targetIndex: targetIndex >= 0 ? targetIndex : null,
    valueIndex: (name) => layout.require(name),
    encode(fields, out, base, text = noText, textBase = 0) {
      if (layout.fieldCount !== null && fields.length !== layout.fieldCount) {
        return { column: '', reason: 'FIELD_COUNT', detail: `expected ${layout.fieldCount} fields, found ${fields.length}` };
      }
      if (idIndex !== null) {
        const value = fields[idIndex] ?? '';
        if (idMarkers.has(trimmed(value))) return { column: id!.name, reason: 'MISSING_REQUIRED', detail: `"${id!.name}" (the id) is empty` };
      }
      const target = scratch ?? out;
      const at = scratch ? 0 : base;
      for (let i = 0; i < writers.length; i++) {
        const issue = writers[i]!(fields, target, at, text, textBase);
        if (issue) return issue;
      }
      if (scratch) for (let s = 0; s < width; s++) out[base + placement![s]!] = scratch[s]!;
      for (let c = 0; c < specOrder.length; c++) {
        if (isCategorical[c]) {
          unseen[c]! += lastUnseen[c]!;
          if (lastSlot[c] === -1) imputed[c]!++;
          observer?.category(c, lastSlot[c]!, lastUnseen[c] === 1);
        } else {
          if (Number.isNaN(lastNumeric[c])) imputed[c]!++;
          observer?.numeric(c, lastNumeric[c]!);
        }
      }
      return null;
    },
    unseenCounts() {
      const counts: Record<string, number> = {};
      specOrder.forEach((column, c) => {
        if (isCategorical[c]) counts[column.name] = unseen[c]!;
      });
      return counts;
    },
    imputedCounts() {
      return Object.fromEntries(specOrder.map((column, c) => [column.name, imputed[c]!]));
    },
  };
}

/**
 * Where each slot the encoder writes goes in the model's input, when the fitted spec gives its own
 * order (`slotOrder: 'featureNames'`); null when the encoder's order is the model's.
 */
function slotPlacement(fitted: FittedSpec): Int32Array | null {
  if (fitted.slotOrder !== 'featureNames') return null;
  const position = new Map(fitted.featureNames.map((name, i) => [name, i]));
  const natural = slotNames(fitted.spec, fitted.columns, fitted.crosses);
  const placement = Int32Array.from(natural, (name) => position.get(name) ?? -1);
  if (placement.some((p) => p < 0) || new Set(placement).size !== natural.length) {
    throw new Error('featureNames is not a permutation of the encoder\'s slots (see fittedSpecProblem)');
  }
  return placement;
}

/**
 * A column the model takes as text: writes the (cleaned) cell into the string batch; a missing cell
 * becomes the constant fill when the spec has one, else "" (what an imported scikit-learn pipeline's
 * imputer or one-hot encoder expects), or rejects the row when the column is required. The vocabulary
 * only serves the drift profile and the unseen counts.
 */
function textWriter(
  fit: Extract<FittedSpec['columns'][string], { kind: 'categorical' }>,
  column: ColumnSpec,
  index: number,
  textSlot: number,
  observed: number,
  state: { markers: ReadonlySet<string>; rejectMissing: boolean; clean: (text: string) => string; lastSlot: Int32Array; lastUnseen: Uint8Array },
): SlotWriter {
  const { markers, rejectMissing, clean, lastSlot, lastUnseen } = state;
  const slotOf = new Map(fit.vocabulary.map((v, i) => [v, i]));
  const aliases = new Map(Object.entries(column.aliases ?? {}));
  const fill = column.impute?.strategy === 'constant' && column.impute.value !== undefined ? String(column.impute.value) : '';
  const name = column.name;
  return (fields, _out, _base, text, textBase) => {
    const value = clean(fields[index] ?? '');
    if (markers.has(value)) {
      if (rejectMissing) return { column: name, reason: 'MISSING_REQUIRED', detail: `"${name}" is empty` };
      text[textBase + textSlot] = fill;
      lastSlot[observed] = -1;
      lastUnseen[observed] = 0;
      return null;
    }
    const category = aliases.get(value) ?? value;
    const known = slotOf.get(category);
    text[textBase + textSlot] = category;
    lastSlot[observed] = known ?? fit.otherIndex;
    lastUnseen[observed] = known === undefined ? 1 : 0;
    return null;
  };
}
