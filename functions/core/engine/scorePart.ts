import { ConfigError, PropensityError, type RejectReason, type RowReject } from '../errors.js';
import { LimbSums, MAX_VALUE_PER_RESPONSE, moneyUnits, probabilityUnits } from '../economics/fixedPoint.js';
import type { SuppressionSet } from '../policy/suppressionList.js';
import { CONTACT_CAP_REASON } from '../policy/contactHistory.js';
import { RankedRunWriter } from './rankedRuns.js';
import { spoolCustomerIds } from './crossPartCustomers.js';
import { campaignCandidates } from './targetLists.js';
import { responseGain, responseValueOf, type CampaignEconomics } from '../economics/campaignEconomics.js';
import { ScoreHistogram } from '../economics/scoreHistogram.js';
import { SegmentSelector } from '../economics/segmentSelection.js';
import { ProfileAccumulator } from '../drift/runProfile.js';
import { openExtract, type ExtractLimits, type ExtractReadOptions, type ExtractRecord } from '../extract/readExtract.js';
import { readLongCustomers } from '../extract/longLayout.js';
import { layoutExpectation } from '../spec/columnLayout.js';
import { afterLayoutCheckBatches, checkLayoutPlausibility, layoutSuspectError } from './layoutPlausibility.js';
import { compileEncoder } from '../spec/rowEncoder.js';
import { EncodedBatch } from '../model/encodedBatch.js';
import { missingMarkers, targetColumn } from '../spec/featureSpec.js';
import { LabelTally, WRITTEN_SCALE } from '../evaluation/labelTally.js';
import { worthContacting } from '../economics/targetSelection.js';
import { csvField, csvRecord, formatProbability, type CsvTextOptions } from './csvText.js';
import type { LoadedBundle } from './loadBundle.js';
import type { RunObserver } from './runObserver.js';
import type { ScoredPart } from './scoredPart.js';
import { binPrefix, spoolLine, type SpoolFactory } from './spool.js';
import { writeText } from './textStreams.js';

export const DEFAULT_BATCH_SIZE = 8192;

export interface ScoreProgress {
  readonly rowsRead: number;
  readonly rowsScored: number;
  readonly rowsRejected: number;
}

export interface ScorePartOptions {
  /** Extract bytes (plain or gzip). */
  readonly input: NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
  /** File name or S3 key: every error and reject names it. */
  readonly source: string;
  readonly bundle: LoadedBundle;
  readonly economics: CampaignEconomics;
  /** Makes the spool that keeps the part's scored and reject lines until the merge (e.g. `tempFileSpool()`). */
  readonly spool: SpoolFactory;
  readonly batchSize?: number;
  /**
   * For a byte range of a larger file after the first: the whole file's header and delimiter (see
   * {@link readExtractLayout}) and the range's first line; with `firstByte` (the range's offset) the
   * input limits count the whole file, not the part alone.
   */
  readonly part?: { readonly headerFields: string[]; readonly firstLine: number; readonly firstByte?: number; readonly delimiter?: ExtractReadOptions['delimiter'] };
  /** Sees every good row and every batch of scores, besides the run profile the engine keeps. */
  readonly observer?: RunObserver;
  /** Id of the run (its output folder), recorded in the run profile. */
  readonly runId?: string;
  readonly onProgress?: (progress: ScoreProgress) => void;
  /**
   * Neutralise CSV cells that a spreadsheet would run as a formula (see `neutraliseFormula`).
   * @default true
   */
  readonly csvInjectionProtection?: boolean;
  /** Bounds on decompressed bytes, lines and record length; past one, `EXTRACT_TOO_LARGE`. @default DEFAULT_EXTRACT_LIMITS */
  readonly limits?: Partial<ExtractLimits>;
  /**
   * Refuse (EXTRACT_LAYOUT_SUSPECT) an extract whose first rows look nothing like the training
   * data (see {@link checkLayoutPlausibility}); false for a run where the population really changed.
   * @default true
   */
  readonly layoutCheck?: boolean;
  /**
   * Customers never to contact: still scored (scores.csv marks them), never candidates for the
   * target list. Given (even empty), scores.csv gets the `suppressed` and `suppression_reason` columns.
   */
  readonly suppression?: SuppressionSet | null | undefined;
  /**
   * Customers over the frequency cap (see `ContactCounter.overCap`): like the suppressed, scored and
   * never candidates; scores.csv gives them the reason `contact-cap`. A suppressed customer counts as suppressed.
   */
  readonly overCap?: SuppressionSet | null | undefined;
  /**
   * For a long extract, spool its customers' ids, sorted, with their lines (the `customer-ids`
   * channel, see `crossPartCustomers.ts`): a part of a larger run needs them for the merge to refuse
   * a customer whose rows are in two parts; a whole-file pass (which refuses it itself) does not.
   * @default true
   */
  readonly customerIds?: boolean;
}

/** What every part of a file needs from its first bytes: the header's fields and the delimiter. */
export interface ExtractLayout {
  /** The header's names; for a header-less spec, empty (the spec's columns name the fields). */
  readonly headerFields: string[];
  readonly delimiter: ExtractReadOptions['delimiter'];
}

/**
 * Reads the header and the delimiter of an extract from its first bytes (the first part of a plan,
 * or the whole file), as {@link scorePart} would for the whole file, and stops reading. Pass the
 * result as `part` for every later part, so all parts parse alike.
 *
 * @throws ExtractError when the file's start cannot be read as an extract (empty, no header,
 * a delimiter that does not fit the spec)
 * @example const layout = await readExtractLayout(createReadStream(file, { end: 1 << 20 }), bundle, file);
 */
export async function readExtractLayout(input: ScorePartOptions['input'], bundle: LoadedBundle, source: string): Promise<ExtractLayout> {
  const { spec } = bundle.featureSpec;
  const extract = await openExtract(input, { source, header: spec.file.header, delimiter: spec.file.delimiter, expect: layoutExpectation(spec) });
  await extract.items[Symbol.asyncIterator]().return?.();
  return { headerFields: extract.header ?? [], delimiter: extract.delimiter as ExtractReadOptions['delimiter'] };
}

/** The engine's own run profile and a caller's observer, both fed from one pass. */
function bothObservers(a: RunObserver | null, b: RunObserver | undefined): RunObserver | null {
  if (!a || !b) return a ?? b ?? null;
  return {
    numeric: (column, value) => (a.numeric(column, value), b.numeric(column, value)),
    category: (column, slot, unseen) => (a.category(column, slot, unseen), b.category(column, slot, unseen)),
    score: (probabilities, rows, width) => (a.score(probabilities, rows, width), b.score(probabilities, rows, width)),
  };
}

function rejectLine(reject: RowReject, csv: CsvTextOptions): string {
  return `${spoolLine(csvRecord([reject.line, reject.column, reject.reason, reject.detail, reject.raw], csv).slice(0, -1))}\n`;
}

/**
 * Streams an extract (or one byte range of it) through the feature spec and the model, batch by
 * batch: parse → encode into a preallocated Float32Array → score → accumulate economics and spool
 * the scored lines. Memory is bounded by the batch (plus the target list the policy keeps).
 *
 * The returned part holds a closed spool that the caller disposes of (after `writeRunOutputs`);
 * when scoring fails, the spool is disposed of here, before the error is rethrown.
 *
 * @throws ExtractError for a file that cannot be scored at all (missing column, encoding…)
 * @example
 * const part = await scorePart({ input: createReadStream(file), source: file, bundle, economics, spool: tempFileSpool() });
 */
export async function scorePart(options: ScorePartOptions): Promise<ScoredPart> {
  const { bundle, economics, source, observer } = options;
  const { manifest, featureSpec, model } = bundle;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const readOptions: ExtractReadOptions = {
    source,
    header: options.part ? false : featureSpec.spec.file.header,
    // A later part must split its lines as the first part did, not guess again on its own bytes.
    delimiter: options.part?.delimiter ?? featureSpec.spec.file.delimiter,
    expect: layoutExpectation(featureSpec.spec),
    limits: options.limits,
    ...(options.part ? { headerFields: options.part.headerFields, firstLine: options.part.firstLine, ...(options.part.firstByte === undefined ? {} : { firstByte: options.part.firstByte }) } : {}),
  };
  const extract = await openExtract(options.input, readOptions);
  const fileHeader = options.part ? (featureSpec.spec.file.header ? options.part.headerFields : null) : extract.header;
  // A long file (one row per customer per period) is read one customer at a time into wide cells.
  const long = readLongCustomers(featureSpec.spec, fileHeader, source, extract.nextBatch);
  const header = long?.header ?? fileHeader;
  const profile = bundle.baseline
    ? new ProfileAccumulator(bundle.baseline, { model: manifest.name, modelVersion: manifest.version, ...(options.runId ? { runId: options.runId } : {}) })
    : null;
  const runObserver = bothObservers(profile, observer);
  const encoder = compileEncoder(featureSpec, header, source, runObserver ? { observer: runObserver } : {});
  const valueColumn = typeof economics.valuePerResponse === 'object' ? economics.valuePerResponse.column : null;
  const valueIndex = valueColumn ? encoder.valueIndex(valueColumn) : -1;
  // Every value below is a response's gain to the campaign: the value per response × saveRate.
  const constantValue = typeof economics.valuePerResponse === 'number' ? responseGain(economics, economics.valuePerResponse) : 0;

  const multiclass = manifest.task === 'multiclass';
  const classes = manifest.classes;
  const positive = manifest.positiveClass ?? classes[1]!;
  const negative = classes.find((c) => c !== positive) ?? classes[0]!;
  const worth = worthContacting(economics);
  const csvInjectionProtection = options.csvInjectionProtection ?? true;
  const csv: CsvTextOptions = { injectionProtection: csvInjectionProtection };
  const positiveField = csvField(positive, csv);
  const negativeField = csvField(negative, csv);
  const classFields = classes.map((c) => spoolLine(csvField(c, csv)));
  const histogram = new ScoreHistogram();
  // An extract that still has the spec's target column: its labels are tallied against the written
  // scores (never a feature). A long extract's cells are per period: it is not evaluated.
  const target = targetColumn(featureSpec.spec);
  const labelIndex = long || !target ? null : encoder.targetIndex;
  const labelMarkers = target ? missingMarkers(target) : new Set<string>();
  const classOf = new Map(classes.map((c, k) => [c, k]));
  const tally = labelIndex === null ? null : new LabelTally(target!.name, manifest.task, classes.length, histogram.bins);
  const positiveIndex = classes.indexOf(positive);
  // Multiclass: counts and confidence sums per segment only (maxContacts 0 keeps no rows): the
  // ranked list goes to the runs like the binary one.
  const segments = multiclass ? new SegmentSelector({ classes, actions: manifest.actions ?? null, maxContacts: 0 }) : null;
  const candidates = campaignCandidates(economics);
  const { costMicros } = candidates;
  // Multiclass: one reader, every customer by confidence within maxContacts.
  const maxContacts = economics.budget.maxContacts ?? null;
  const readers = multiclass ? [{ cap: maxContacts, takes: () => true }] : candidates.readers;
  if (multiclass && (economics.controlFraction ?? 0) > 0) {
    throw new ConfigError('ECONOMICS_INVALID', 'a control group needs a binary model', { key: 'controlFraction', source: `${manifest.name} economics` });
  }
  const suppression = options.suppression ?? null;
  const overCap = options.overCap ?? null;
  const suppressed = suppression || overCap ? { customers: 0, overCap: 0, byReason: {} as Record<string, number> } : null;
  // The suppressed customers' probability (0) and expected gain (1) in exact units, as the histogram sums them.
  const suppressedSums = new LimbSums(2);
  const reasonFields = new Map<string, string>();
  /** The scores.csv columns a run with suppression lists adds: `suppressed` and `suppression_reason`. */
  const suppressionCells = (reason: string | null): string => {
    if (!suppressed) return '';
    if (reason === null) return ',false,';
    let field = reasonFields.get(reason);
    if (field === undefined) reasonFields.set(reason, (field = `,true,${spoolLine(csvField(reason, csv))}`));
    return field;
  };
  const suppress = (reason: string, capped: boolean, p: number, v: number) => {
    suppressed!.customers++;
    suppressedSums.add(0, probabilityUnits(p));
    suppressedSums.add(1, moneyUnits(p * v));
    if (capped) suppressed!.overCap++;
    else suppressed!.byReason[reason] = (suppressed!.byReason[reason] ?? 0) + 1;
  };

  const spool = await options.spool();
  try {
    const ranked = new RankedRunWriter(spool, readers);
    const batch = new EncodedBatch(encoder, batchSize);
    const idFields: string[] = new Array<string>(batchSize);
    const reasons: Array<string | null> = new Array<string | null>(batchSize).fill(null);
    const capped = new Uint8Array(batchSize);
    const lines = new Float64Array(batchSize);
    const values = new Float64Array(batchSize);
    const labels = new Int16Array(batchSize);
    const micros = new Float64Array(multiclass ? model.outputWidth : 0);
    let rowsRead = 0;
    let rowsScored = 0;
    let rowsRejected = 0;
    let rejectText = '';
    const rejectReasons: Partial<Record<RejectReason, number>> = {};

    const reject = (item: RowReject) => {
      rowsRejected++;
      rejectReasons[item.reason] = (rejectReasons[item.reason] ?? 0) + 1;
      rejectText += rejectLine(item, csv);
    };
    // A long extract counts rows of the file, not the customers the loop sees (see `LongCustomerReader`).
    const counts = (): ScoreProgress => (long ? { rowsRead: long.rows, rowsScored: long.rows - rowsRejected, rowsRejected } : { rowsRead, rowsScored, rowsRejected });
    const rejectRecord = (record: ExtractRecord, issue: Pick<RowReject, 'column' | 'reason' | 'detail'>) => {
      if (long) for (const row of long.rejectCustomer(record, issue)) reject(row);
      else reject({ line: record.line, ...issue, raw: record.raw });
    };

    const flush = async () => {
      if (rejectText) {
        await writeText(spool.rejects, rejectText);
        rejectText = '';
      }
      const filled = batch.rows;
      if (filled === 0) return;
      const probabilities = await batch.scoreAndClear(model);
      const out = model.outputWidth;
      runObserver?.score(probabilities, filled, out);
      let text = '';
      for (let row = 0; row < filled; row++) {
        const idField = idFields[row]!;
        const line = lines[row]!;
        if (!multiclass) {
          const p = probabilities[row]!;
          if (!(p >= 0 && p <= 1)) throw new PropensityError('MODEL_SHAPE_MISMATCH', `model returned ${p} for line ${line}, not a probability`, { isInputError: false });
          const v = valueIndex >= 0 ? values[row]! : constantValue;
          const bin = histogram.add(p, v);
          const ev = moneyUnits(p * v) - costMicros;
          const reason = reasons[row]!;
          const written = formatProbability(p);
          // Run tag: 0 unlabelled, 1 negative, 2 positive (the realized figures of the target lists).
          let tag = 0;
          if (tally) {
            const label = labels[row]!;
            if (label < 0) tally.unlabelled();
            else {
              tag = label === positiveIndex ? 2 : 1;
              tally.addBinary(Math.round(Number(written) * WRITTEN_SCALE), tag === 2, bin, reason === null ? v : null);
            }
          }
          if (reason !== null) suppress(reason, capped[row] === 1, p, v);
          else if (candidates.accepts(p, ev)) ranked.add(ev, line, p, v, idField, tag);
          text += `${binPrefix(bin)}${idField},${written},${worth(p, ev) ? positiveField : negativeField}${suppressionCells(reason)}\n`;
        } else {
          let top = 0;
          let fields = '';
          for (let k = 0; k < out; k++) {
            const p = probabilities[row * out + k]!;
            if (p > probabilities[row * out + top]!) top = k;
            const written = formatProbability(p);
            if (tally) micros[k] = Math.round(Number(written) * WRITTEN_SCALE);
            fields += `,${written}`;
          }
          if (tally) {
            if (labels[row]! < 0) tally.unlabelled();
            else tally.addMulticlass(micros, labels[row]!, top);
          }
          const conf = Math.min(1, Math.max(0, probabilities[row * out + top]!));
          segments!.offer(idField, line, top, conf);
          const bin = histogram.add(conf, 0);
          const reason = reasons[row]!;
          if (reason !== null) suppress(reason, capped[row] === 1, conf, 0);
          else if (maxContacts !== 0) ranked.add(conf, line, top, 0, idField);
          text += `${binPrefix(bin)}${idField}${fields},${classFields[top]!},${formatProbability(probabilities[row * out + top]!)}${suppressionCells(reason)}\n`;
        }
      }
      await writeText(spool.scores, text);
      rowsScored += filled;
      options.onProgress?.(counts());
    };

    const nextBatch = options.layoutCheck === false
      ? (long?.nextBatch ?? extract.nextBatch)
      : afterLayoutCheckBatches(long?.nextBatch ?? extract.nextBatch, (records) => {
          const check = checkLayoutPlausibility(featureSpec, header, bundle.baseline, records, source);
          if (check.refused) throw layoutSuspectError(check, source, records[0]!.line);
        });
    try {
      for (let items = await nextBatch(); items !== null; items = await nextBatch()) {
        for (let i = 0; i < items.length; i++) {
          const item = items[i]!;
          rowsRead++;
          if (item.kind === 'reject') {
            reject(item.reject);
            continue;
          }
          const { fields, line } = item.record;
          const row = batch.rows;
          // The value column is checked first: once the encoder accepts a row, the profile has counted it.
          if (valueIndex >= 0) {
            const value = responseValueOf(fields[valueIndex] ?? '');
            if (value === null) {
              rejectRecord(item.record, { column: valueColumn!, reason: 'MISSING_VALUE_COLUMN', detail: `value "${fields[valueIndex] ?? ''}" is not a number in [0, ${MAX_VALUE_PER_RESPONSE}]` });
              continue;
            }
            values[row] = responseGain(economics, value);
          }
          const issue = batch.add(fields);
          if (issue) {
            rejectRecord(item.record, issue);
            continue;
          }
          const id = encoder.idIndex === null ? String(line) : (fields[encoder.idIndex] ?? '').trim();
          idFields[row] = spoolLine(csvField(id, csv));
          if (suppressed) {
            const listed = suppression?.reasonOf(id) ?? null;
            const over = listed === null && overCap !== null && overCap.reasonOf(id) !== null;
            reasons[row] = over ? CONTACT_CAP_REASON : listed;
            capped[row] = over ? 1 : 0;
          }
          if (labelIndex !== null) {
            const cell = (fields[labelIndex] ?? '').trim();
            labels[row] = labelMarkers.has(cell) ? -1 : (classOf.get(cell) ?? -1);
          }
          lines[row] = line;
          if (batch.full) await flush();
        }
      }
    } finally {
      extract.close();
    }
    await flush();
    const rankedRuns = ranked.finish();
    const customerIds = long && options.customerIds !== false ? await spoolCustomerIds(long, spool) : null;
    await spool.close();
    return {
      source,
      task: manifest.task,
      ...counts(),
      ...(long ? { longLayout: long.counts() } : {}),
      ...(customerIds ? { customerIds } : {}),
      rejectReasons,
      unseenCategories: encoder.unseenCounts(),
      imputed: encoder.imputedCounts(),
      labels: tally,
      delimiter: extract.delimiter,
      csvInjectionProtection,
      histogram,
      segments,
      rankedRuns,
      profile: profile?.toProfile() ?? null,
      suppressed: suppressed && { ...suppressed, probabilityUnits: suppressedSums.total(0), gainMicros: suppressedSums.total(1) },
      spool,
    };
  } catch (error) {
    // Reject lines quote customer rows: nothing of a failed part may stay behind.
    await spool.dispose();
    throw error;
  }
}
