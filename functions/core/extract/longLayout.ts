import { ExtractError, type RejectReason, type RowReject } from '../errors.js';
import { parseDecimal } from '../spec/cellParsers.js';
import { idColumn, missingMarkers, type FeatureSpec } from '../spec/featureSpec.js';
import { ClosedCustomerIds } from './closedCustomerIds.js';
import type { ExtractItem, ExtractRecord } from './extractParser.js';

/**
 * The long layout of a sequence spec: one row per customer per period (`customer_id, period,
 * spend_groceries, …`), as a bank's statement table is exported, read into the same wide cells
 * (`spend_groceries_m1 … _m10`) a wide extract has, so both go through one encoder and one model.
 */
export interface LongLayout {
  /** The header the encoder sees: the long file's other columns, then every sequence column of the spec. */
  readonly wideHeader: readonly string[];
  /** Field index of the id column in the long file. */
  readonly idIndex: number;
  readonly periodIndex: number;
  readonly periodColumn: string;
  readonly idName: string;
  /** Periods per customer (N): the highest `sequence.period` of the spec. */
  readonly periods: number;
  readonly periodValues: 'number' | 'latest';
  readonly fieldCount: number;
  /** Long field → wide field, for columns outside the sequence (id, target, value column…). */
  readonly passThrough: ReadonlyArray<{ readonly from: number; readonly to: number; readonly name: string }>;
  /** Long field of each sequence feature and its wide field per period (index p − 1; −1 when the spec has no such column). */
  readonly sequence: ReadonlyArray<{ readonly from: number; readonly name: string; readonly toByPeriod: Int32Array }>;
  /** Wide column name → where its cell came from, for naming the row of a reject. */
  readonly sourceOfWide: ReadonlyMap<string, { readonly feature: string; readonly period: number } | { readonly passThrough: number }>;
}

/** Field index of `name` in a header: trimmed exact match first, then case-insensitive (as the column layout matches). */
function fieldOf(header: readonly string[], name: string): number {
  const names = header.map((n) => n.trim());
  const exact = names.indexOf(name);
  return exact >= 0 ? exact : names.findIndex((n) => n.toLowerCase() === name.toLowerCase());
}

/**
 * The long layout of `header` under `spec`, or null when the file is wide: the spec has no `long`
 * block, or the header has no period column.
 * @throws ExtractError EXTRACT_MISSING_COLUMN when the long file lacks the id or a sequence feature,
 *   EXTRACT_DUPLICATE_COLUMN when it names one of them twice.
 */
export function longLayoutFor(spec: FeatureSpec, header: readonly string[] | null, source: string): LongLayout | null {
  if (!spec.long || !header) return null;
  const periodIndex = fieldOf(header, spec.long.periodColumn);
  if (periodIndex < 0) return null;
  const id = idColumn(spec);
  if (!id) throw new ExtractError('EXTRACT_MISSING_COLUMN', 'a long extract needs an id column in the spec to tell customers apart', { file: source, line: 1 });
  const require = (name: string): number => {
    const at = fieldOf(header, name);
    if (at < 0) throw new ExtractError('EXTRACT_MISSING_COLUMN', `required column "${name}" is missing (a long extract, read by its period column "${header[periodIndex]!.trim()}")`, { file: source, line: 1, column: name });
    const again = header.findIndex((n, i) => i !== at && n.trim().toLowerCase() === header[at]!.trim().toLowerCase());
    if (again >= 0) throw new ExtractError('EXTRACT_DUPLICATE_COLUMN', `column "${name}" appears twice in the header (fields ${Math.min(at, again) + 1} and ${Math.max(at, again) + 1})`, { file: source, line: 1, column: Math.max(at, again) + 1 });
    return at;
  };
  const idIndex = require(id.name);
  require(header[periodIndex]!.trim());

  const sequenceColumns = spec.columns.filter((c) => c.sequence);
  const periods = Math.max(...sequenceColumns.map((c) => c.sequence!.period));
  const features = [...new Set(sequenceColumns.map((c) => c.sequence!.feature))];
  const sequenceNames = sequenceColumns.map((c) => c.name);
  const wideHeader: string[] = [];
  const passThrough: Array<{ from: number; to: number; name: string }> = [];
  const longFeatureFields = new Set(features.map((f) => fieldOf(header, f)));
  header.forEach((name, from) => {
    const trimmed = name.trim();
    if (from === periodIndex || longFeatureFields.has(from) || sequenceNames.includes(trimmed)) return;
    passThrough.push({ from, to: wideHeader.length, name: trimmed });
    wideHeader.push(trimmed);
  });
  const sourceOfWide = new Map<string, { feature: string; period: number } | { passThrough: number }>(passThrough.map((p, i) => [p.name, { passThrough: i }]));
  const sequence = features.map((feature) => ({ from: require(feature), name: header[fieldOf(header, feature)]!.trim(), toByPeriod: new Int32Array(periods).fill(-1) }));
  for (const column of sequenceColumns) {
    const { feature, period } = column.sequence!;
    sequence[features.indexOf(feature)]!.toByPeriod[period - 1] = wideHeader.length;
    sourceOfWide.set(column.name, { feature, period });
    wideHeader.push(column.name);
  }
  return {
    wideHeader,
    idIndex,
    periodIndex,
    periodColumn: header[periodIndex]!.trim(),
    idName: id.name,
    periods,
    periodValues: spec.long.periods,
    fieldCount: header.length,
    passThrough,
    sequence,
    sourceOfWide,
  };
}

/** The header the encoder compiles against: the wide header of a long file, else the file's own. */
export function encoderHeader(spec: FeatureSpec, header: readonly string[] | null, source: string): readonly string[] | null {
  return longLayoutFor(spec, header, source)?.wideHeader ?? header;
}

/** What a long run saw, beside its row counts (rows of scored customers + rejected rows = rows read). */
export interface LongLayoutCounts {
  readonly customersScored: number;
  /** Customers assembled but not scored: a cell of theirs was rejected, so all their rows were. */
  readonly customersRejected: number;
  /** (customer, period) blocks of scored customers that no row filled: imputed as missing cells. */
  readonly missingPeriods: number;
}

interface LongRow {
  readonly line: number;
  readonly raw: string;
  readonly fields: readonly string[];
  /** Period 1…N; for `latest`, 0 until the customer closes. */
  period: number;
  readonly periodText: string;
}

interface AssembledCustomer {
  readonly rows: readonly LongRow[];
  /** Per pass-through column, the row its value came from. */
  readonly passThroughRow: Int32Array;
  readonly missingPeriods: number;
}

const detailOf = (text: string): string => (text.length > 40 ? `${text.slice(0, 37)}...` : text);

/**
 * Reads a long extract's items (file order, a batch at a time) and hands on one wide record per
 * customer, plus a reject item per row that cannot be placed. Only the open customer's rows are
 * kept (memory is bounded by the batch and one customer), and the ids of closed customers (see
 * {@link ClosedCustomerIds}) to refuse a file whose customers are not consecutive.
 *
 * - A customer's record has its first kept row's line, the wide cells, and an empty `raw`: a reject
 *   of it is expanded into its rows by {@link rejectCustomer}.
 * - Cells outside the sequence (id, target, value column) come from the customer's last row that
 *   has them non-empty: a label on the last row only, or repeated on every row, both work.
 * - Rejected at their line: an unreadable or out-of-range period, a duplicate (customer, period)
 *   (the first row is kept), an empty id, a wrong field count.
 *
 * @throws ExtractError EXTRACT_CUSTOMER_NOT_CONSECUTIVE (from `nextBatch`) naming the lines of both blocks, never the id.
 *   A part of a run scored in parts sees only its own customers: the merge checks across parts
 *   (`crossPartCustomers.ts`), from the sorted ids each part spools ({@link LongCustomerReader.closedCustomers}):
 *   per million customers ~27 MB of scratch spool and ~1.3 s of sorting and merging (README "Sequence models").
 */
export class LongCustomerReader {
  private readonly closed = new ClosedCustomerIds();
  private readonly assembled = new WeakMap<ExtractRecord, AssembledCustomer>();
  private readonly idMarkers: ReadonlySet<string>;
  private openId: string | null = null;
  private openRows: LongRow[] = [];
  private openFirstLine = 0;
  private openLastLine = 0;
  private ended = false;
  private rowsRead = 0;
  private customers = 0;
  private rejectedCustomers = 0;
  private missing = 0;

  constructor(
    readonly layout: LongLayout,
    private readonly source: string,
    private readonly next: () => Promise<ExtractItem[] | null>,
    spec: FeatureSpec,
  ) {
    this.idMarkers = missingMarkers(idColumn(spec)!);
  }

  /** The header the encoder compiles against (see {@link LongLayout.wideHeader}). */
  get header(): readonly string[] {
    return this.layout.wideHeader;
  }

  /** Rows read so far: records and parser rejects. */
  get rows(): number {
    return this.rowsRead;
  }

  counts(): LongLayoutCounts {
    return { customersScored: this.customers - this.rejectedCustomers, customersRejected: this.rejectedCustomers, missingPeriods: this.missing };
  }

  /**
   * The customers read so far (all of them once `nextBatch` returned null), ids in UTF-8 byte order
   * with their lines: what a part of a run hands the merge so that a customer repeated in another
   * part is refused as a single pass would (see `crossPartCustomers.ts`).
   */
  closedCustomers(): ReturnType<ClosedCustomerIds['sorted']> {
    return this.closed.sorted();
  }

  /** Assembled customers and row rejects, in file order; null at the end. Same contract as `OpenedExtract.nextBatch`. */
  readonly nextBatch = async (): Promise<ExtractItem[] | null> => {
    for (;;) {
      if (this.ended) return null;
      const items = await this.next();
      const out: ExtractItem[] = [];
      if (items === null) {
        this.ended = true;
        this.closeCustomer(out);
        return out.length > 0 ? out : null;
      }
      for (let i = 0; i < items.length; i++) this.take(items[i]!, out);
      if (out.length > 0) return out;
    }
  };

  /**
   * The rejects that replace a customer's record the encoder (or the value column) refused: the row
   * that holds the refused cell gets the reason, every other row of the customer CUSTOMER_REJECTED.
   */
  rejectCustomer(record: ExtractRecord, issue: { readonly column: string; readonly reason: RejectReason; readonly detail: string }): RowReject[] {
    const customer = this.assembled.get(record);
    if (!customer) return [{ line: record.line, column: issue.column, reason: issue.reason, detail: issue.detail, raw: record.raw }];
    this.assembled.delete(record);
    this.rejectedCustomers++;
    this.missing -= customer.missingPeriods;
    const from = this.layout.sourceOfWide.get(issue.column);
    let culprit = 0;
    let column = issue.column;
    if (from && 'feature' in from) {
      const at = customer.rows.findIndex((row) => row.period === from.period);
      culprit = Math.max(0, at);
      column = from.feature;
    } else if (from) {
      culprit = customer.passThroughRow[from.passThrough]!;
    }
    const culpritLine = customer.rows[culprit]!.line;
    return customer.rows.map((row, i) =>
      i === culprit
        ? { line: row.line, column, reason: issue.reason, detail: issue.detail, raw: row.raw }
        : { line: row.line, column: '', reason: 'CUSTOMER_REJECTED', detail: `line ${culpritLine} of the same customer was rejected (${issue.reason})`, raw: row.raw },
    );
  }

  private take(item: ExtractItem, out: ExtractItem[]): void {
    this.rowsRead++;
    if (item.kind === 'reject') {
      out.push(item);
      return;
    }
    const { fields, line, raw } = item.record;
    const layout = this.layout;
    const reject = (column: string, reason: RejectReason, detail: string): void => {
      out.push({ kind: 'reject', reject: { line, column, reason, detail, raw } });
    };
    if (fields.length !== layout.fieldCount) return reject('', 'FIELD_COUNT', `expected ${layout.fieldCount} fields, found ${fields.length}`);
    const id = (fields[layout.idIndex] ?? '').trim();
    if (this.idMarkers.has(id)) return reject(layout.idName, 'MISSING_REQUIRED', `"${layout.idName}" (the id) is empty`);
    if (id !== this.openId) {
      this.closeCustomer(out);
      const earlier = this.closed.find(id);
      if (earlier) {
        throw customerNotConsecutiveError(this.source, layout.idName, earlier, line);
      }
      this.openId = id;
      this.openFirstLine = line;
    }
    this.openLastLine = line;
    const periodText = (fields[layout.periodIndex] ?? '').trim();
    if (periodText === '') return reject(layout.periodColumn, 'PERIOD_INVALID', `"${layout.periodColumn}" is empty`);
    let period = 0;
    if (layout.periodValues === 'number') {
      period = parseDecimal(periodText);
      if (!Number.isInteger(period)) return reject(layout.periodColumn, 'PERIOD_INVALID', `"${detailOf(periodText)}" in "${layout.periodColumn}" is not a period number`);
      if (period < 1 || period > layout.periods) return reject(layout.periodColumn, 'PERIOD_OUT_OF_RANGE', `period ${period} is outside 1…${layout.periods}`);
      if (this.openRows.some((row) => row.period === period)) return reject(layout.periodColumn, 'DUPLICATE_PERIOD', `a second row for period ${period} of the customer whose rows start at line ${this.openFirstLine}`);
    } else if (this.openRows.some((row) => row.periodText === periodText)) {
      return reject(layout.periodColumn, 'DUPLICATE_PERIOD', `a second row for period "${detailOf(periodText)}" of the customer whose rows start at line ${this.openFirstLine}`);
    }
    this.openRows.push({ line, raw, fields, period, periodText });
  }

  /** Hands on the open customer (its out-of-window rows as rejects first) and records its id as closed. */
  private closeCustomer(out: ExtractItem[]): void {
    if (this.openId === null) return;
    const layout = this.layout;
    let rows = this.openRows;
    if (layout.periodValues === 'latest') rows = this.placeLatest(rows, out);
    if (rows.length > 0) {
      const wide = new Array<string>(layout.wideHeader.length).fill('');
      const passThroughRow = new Int32Array(layout.passThrough.length);
      layout.passThrough.forEach(({ from, to }, p) => {
        for (let r = 0; r < rows.length; r++) {
          const value = rows[r]!.fields[from] ?? '';
          if (r === 0 || value.trim() !== '') {
            wide[to] = value;
            passThroughRow[p] = r;
          }
        }
      });
      for (const row of rows) {
        for (const { from, toByPeriod } of layout.sequence) {
          const to = toByPeriod[row.period - 1]!;
          if (to >= 0) wide[to] = row.fields[from] ?? '';
        }
      }
      const missingPeriods = layout.periods - rows.length;
      const record: ExtractRecord = { line: rows[0]!.line, fields: wide, raw: '' };
      this.assembled.set(record, { rows, passThroughRow, missingPeriods });
      this.customers++;
      this.missing += missingPeriods;
      out.push({ kind: 'record', record });
    }
    this.closed.add(this.openId, this.openFirstLine, this.openLastLine);
    this.openId = null;
    this.openRows = [];
  }

  /** `latest`: the customer's N latest period values become periods N, N−1, …; older rows are rejected. */
  private placeLatest(rows: LongRow[], out: ExtractItem[]): LongRow[] {
    const layout = this.layout;
    const newestFirst = [...rows].sort((a, b) => (a.periodText < b.periodText ? 1 : a.periodText > b.periodText ? -1 : 0));
    newestFirst.forEach((row, rank) => {
      row.period = layout.periods - rank;
    });
    for (const row of rows) {
      if (row.period < 1) {
        out.push({ kind: 'reject', reject: { line: row.line, column: layout.periodColumn, reason: 'PERIOD_OUT_OF_RANGE', detail: `older than the customer's latest ${layout.periods} periods`, raw: row.raw } });
      }
    }
    return rows.filter((row) => row.period >= 1);
  }
}

/**
 * The error of a long extract whose customer comes back: its earlier block (`earlier`) and the line
 * that starts it again, never the id. One builder for the reader and the merge of a run's parts
 * (`crossPartCustomers.ts`), so both name a repeat alike.
 */
export function customerNotConsecutiveError(source: string, idName: string, earlier: { readonly firstLine: number; readonly lastLine: number }, line: number): ExtractError {
  const lines = earlier.firstLine === earlier.lastLine ? `line ${earlier.firstLine}` : `lines ${earlier.firstLine}–${earlier.lastLine}`;
  return new ExtractError(
    'EXTRACT_CUSTOMER_NOT_CONSECUTIVE',
    `the rows of one customer are not consecutive: ${lines} and line ${line} have the same "${idName}"; a long extract must be sorted by customer (ORDER BY ${idName})`,
    { file: source, line, column: idName },
  );
}

/**
 * Reads a long extract one customer at a time, or null for a wide one (see {@link longLayoutFor}).
 * @example const long = readLongCustomers(spec, extract.header, file, extract.nextBatch); const nextBatch = long?.nextBatch ?? extract.nextBatch;
 */
export function readLongCustomers(
  spec: FeatureSpec,
  header: readonly string[] | null,
  source: string,
  next: () => Promise<ExtractItem[] | null>,
): LongCustomerReader | null {
  const layout = longLayoutFor(spec, header, source);
  return layout ? new LongCustomerReader(layout, source, next, spec) : null;
}
