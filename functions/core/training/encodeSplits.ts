import { BaselineBuilder } from '../drift/baselineBuilder.js';
import { TrainingError } from '../errors.js';
import { featureColumns, type FeatureSpec, type FittedSpec } from '../spec/featureSpec.js';
import { fitSpec, type FitWarning } from '../spec/fitSpec.js';
import { compileEncoder, type RowEncoder } from '../spec/rowEncoder.js';
import type { RecordLabels } from './labelRecords.js';
import type { RowSplits } from './splitRows.js';
import type { TrainingTable } from './trainingTable.js';
import { selectRows, type EncodedRows } from './trialTrainer.js';

/** Encoded rows and the record (into the table) each came from. */
export interface EncodedRecords extends EncodedRows {
  readonly records: Int32Array;
}

export interface EncodedSplits {
  readonly fitted: FittedSpec;
  /** The fitted spec's classes: the model's outputs, in order. */
  readonly classes: readonly string[];
  /** Compiled against the table's header (no observer): finds value columns by name. */
  readonly encoder: RowEncoder;
  /** Slots per encoded row. */
  readonly width: number;
  readonly train: EncodedRecords;
  readonly validation: EncodedRecords;
  /** Every fit row (train and validation), in `splits.fit` order. */
  readonly fit: EncodedRecords;
  /** With K folds: positions into `fit` of each fold's rows (the last is `validation`); empty otherwise. */
  readonly folds: readonly Int32Array[];
  /** Time-ordered data: the random in-period holdout (see `RowSplits.inPeriod`). */
  readonly inPeriod?: EncodedRecords;
  /** Without the rows whose class the model never saw (listed in `unseenClassesInTest`). */
  readonly test: EncodedRecords;
  /** Has observed the training and validation rows; the drift baseline is built from it. */
  readonly baselineBuilder: BaselineBuilder;
  /** Rows the encoder refused, by reason, over all three parts. */
  readonly dropped: Record<string, number>;
  /** Labels that appear only in the test rows, in the order first met. */
  readonly unseenClassesInTest: string[];
  /** Columns fitted as constants (all missing or one value in the fit rows). */
  readonly warnings: readonly FitWarning[];
}

/** Encodes the given records; rows the encoder refuses are counted by reason and left out. */
export function encodeRecords(
  encoder: RowEncoder,
  table: TrainingTable,
  records: ArrayLike<number>,
  labelOf: (record: number) => number,
  dropped: Record<string, number>,
): EncodedRecords {
  const width = encoder.width;
  const x = new Float32Array(records.length * width);
  const y = new Int32Array(records.length);
  const kept = new Int32Array(records.length);
  let rows = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const issue = encoder.encode(table.records[record]!, x, rows * width);
    if (issue) {
      dropped[issue.reason] = (dropped[issue.reason] ?? 0) + 1;
      continue;
    }
    y[rows] = labelOf(record);
    kept[rows] = record;
    rows++;
  }
  return { x: x.subarray(0, rows * width), y: y.subarray(0, rows), rows, records: kept.subarray(0, rows) };
}

/** The rows of `encoded` at `positions`, copied. */
function pickRows(encoded: EncodedRecords, positions: ArrayLike<number>, width: number): EncodedRecords {
  return { ...selectRows(encoded, positions, width), records: Int32Array.from(positions, (p) => encoded.records[p]!) };
}

/** Finds positions in `encoded` of given records (records the encoder refused are skipped); the lookup is built once. */
function positionsIn(encoded: EncodedRecords): (records: ArrayLike<number>) => Int32Array {
  const position = new Map<number, number>();
  encoded.records.forEach((record, p) => position.set(record, p));
  return (records) => Int32Array.from(Array.from(records, (r) => position.get(r) ?? -1).filter((p) => p >= 0));
}

/** The rows of `encoded` whose label is known (y ≥ 0); `encoded` itself when all are. */
export function withKnownLabels(encoded: EncodedRecords, width: number): EncodedRecords {
  const keep = Int32Array.from({ length: encoded.rows }, (_, i) => i).filter((i) => encoded.y[i]! >= 0);
  if (keep.length === encoded.rows) return encoded;
  return pickRows(encoded, keep, width);
}

/**
 * Fits the feature spec on the train and validation records, then encodes the three parts. The
 * training and validation rows pass through the drift baseline's observer as they are encoded (so
 * the baseline needs no second parse). A class only in the test rows cannot be predicted: those
 * rows are left out and reported.
 * @throws TrainingError when a part has no usable row left; ExtractError when a feature column is missing.
 * @example
 * const encoded = await encodeSplits(table, spec.featureSpec, labels, splits, now);
 */
export async function encodeSplits(table: TrainingTable, featureSpec: FeatureSpec, labels: RecordLabels, splits: RowSplits, now: Date): Promise<EncodedSplits> {
  const source = table.source;
  const warnings: FitWarning[] = [];
  const fitted = await fitSpec(featureSpec, { header: table.header, records: Array.from(splits.fit, (r) => table.records[r]!) }, { source, now, warn: (w) => warnings.push(w) });
  const features = featureColumns(featureSpec);
  if (features.length > 0 && features.every((c) => warnings.some((w) => w.column === c.name))) {
    throw new TrainingError(`nothing to learn from: every feature column is missing or constant in the ${splits.fit.length} rows before the holdout`, { isInputError: true });
  }
  const classes = fitted.classes;
  if (!classes) throw new TrainingError('the fitted spec has no classes', { isInputError: false });
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const unseen = new Set<string>();
  const labelOf = (record: number) => {
    const k = classIndex.get(labels.text[record]!);
    if (k === undefined) unseen.add(labels.text[record]!);
    return k ?? -1;
  };

  const dropped: Record<string, number> = {};
  const baselineBuilder = new BaselineBuilder(fitted);
  const observedEncoder = compileEncoder(fitted, table.header, source, { observer: baselineBuilder });
  const encoder = compileEncoder(fitted, table.header, source);
  const width = encoder.width;
  const fit = encodeRecords(observedEncoder, table, splits.fit, labelOf, dropped);
  const positionsOf = positionsIn(fit);
  const train = pickRows(fit, positionsOf(splits.train), width);
  const validation = pickRows(fit, positionsOf(splits.validation), width);
  const folds = splits.folds.map(positionsOf);
  const test = withKnownLabels(encodeRecords(encoder, table, splits.test, labelOf, dropped), width);
  const inPeriod = splits.inPeriod ? withKnownLabels(encodeRecords(encoder, table, splits.inPeriod, labelOf, dropped), width) : undefined;
  if (train.rows === 0 || validation.rows === 0 || test.rows === 0 || folds.some((f) => f.length === 0) || inPeriod?.rows === 0) {
    const parts = [`${train.rows} train`, `${validation.rows} validation`, `${test.rows} test`, ...(inPeriod ? [`${inPeriod.rows} in-period holdout`] : [])];
    throw new TrainingError(`too few usable rows: ${parts.join(', ')}${folds.length ? `; fold sizes ${folds.map((f) => f.length).join(', ')}` : ''}`, { isInputError: true });
  }
  return { fitted, classes, encoder, width, train, validation, fit, folds, ...(inPeriod ? { inPeriod } : {}), test, baselineBuilder, dropped, unseenClassesInTest: [...unseen], warnings };
}
