import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseWith } from '../validation.js';
import { MONEY_SCALE, fromUnits, moneyUnits, ratio } from '../economics/fixedPoint.js';
import type { CampaignCosts } from '../economics/campaignRoi.js';
import { averagePrecisionOfCounts, rocAucOfCounts, type CalibrationBin, type LiftRow } from './metrics.js';
import type { LabelledEvaluation, RealizedFigures } from './labelledEvaluation.js';

/** Probabilities are judged as scores.csv writes them: 6 decimals, i.e. whole micro-units. */
export const WRITTEN_SCALE = 1_000_000;
/** Equal-width calibration bins over [0, 1], as `expectedCalibrationError` uses. */
const CALIBRATION_BINS = 10;
const PER_CALIBRATION_BIN = WRITTEN_SCALE / CALIBRATION_BINS;

/** Contacts, responders and the responders' gain (micro-units) of a contact set, counted from labels. */
export interface RealizedTotals {
  readonly contacts: number;
  readonly responders: number;
  readonly gainMicros: bigint;
}

/**
 * Scored rows against the labels the extract carried, kept exactly and in bounded memory: a count per
 * (class, written probability, label hit) — at most 2·(10⁶+1) entries per class, whatever the rows —
 * plus fixed-size counts per histogram bin and calibration bin. Every sum is an integer, so parts
 * merged in any order give exactly the figures of one pass (same map, walked in key order).
 *
 * Binary: the key is the written P(positive); multiclass: one map per class of its written p_k (one
 * versus rest), plus the top class's confidence for calibration and accuracy.
 */
export class LabelTally {
  /** key = (class · (WRITTEN_SCALE + 1) + micro) · 2 + hit → rows. */
  private readonly counts = new Map<number, number>();
  /** Binary: labelled rows and positives per score-histogram bin (for lift by the run's deciles). */
  private readonly binRows: Float64Array;
  private readonly binPositives: Float64Array;
  /** Multiclass: per calibration bin, rows, Σ top confidence (micro-units) and rows whose top class was right. */
  private readonly topBins = new Float64Array(CALIBRATION_BINS * 3);
  private labelledRows = 0;
  private unlabelledRows = 0;
  private everyoneContacts = 0;
  private everyoneResponders = 0;
  private everyoneGain = 0n;

  constructor(
    readonly column: string,
    readonly task: 'binary' | 'multiclass',
    readonly classes: number,
    readonly bins: number,
  ) {
    this.binRows = new Float64Array(task === 'binary' ? bins : 0);
    this.binPositives = new Float64Array(task === 'binary' ? bins : 0);
  }

  /** A scored row whose label cell was empty or not a known class. */
  unlabelled(): void {
    this.unlabelledRows++;
  }

  /**
   * A binary row: its written P(positive) in micro-units, whether it was a positive, its histogram
   * bin, and — when it could be contacted (not suppressed) — its gain per response in money units.
   */
  addBinary(micro: number, positive: boolean, bin: number, contactableGain: number | null): void {
    this.labelledRows++;
    this.bump(micro * 2 + (positive ? 1 : 0));
    this.binRows[bin]!++;
    if (positive) this.binPositives[bin]!++;
    if (contactableGain === null) return;
    this.everyoneContacts++;
    if (positive) {
      this.everyoneResponders++;
      this.everyoneGain += BigInt(moneyUnits(contactableGain));
    }
  }

  /** A multiclass row: the written p_k of every class in micro-units, its label and its top class. */
  addMulticlass(micros: ArrayLike<number>, label: number, top: number): void {
    this.labelledRows++;
    for (let k = 0; k < this.classes; k++) this.bump((k * (WRITTEN_SCALE + 1) + micros[k]!) * 2 + (k === label ? 1 : 0));
    const confidence = micros[top]!;
    const b = Math.min(CALIBRATION_BINS - 1, Math.floor(confidence / PER_CALIBRATION_BIN)) * 3;
    this.topBins[b]!++;
    this.topBins[b + 1]! += confidence;
    if (top === label) this.topBins[b + 2]!++;
  }

  private bump(key: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Adds another part's tally (same column, task, classes and bins). */
  merge(other: LabelTally): this {
    if (other.task !== this.task || other.classes !== this.classes || other.bins !== this.bins || other.column !== this.column) {
      throw new ConfigError('CONFIG_INVALID', 'cannot merge label tallies of different models or columns', { key: 'labels', source: 'label tally merge' });
    }
    for (const [key, n] of other.counts) this.counts.set(key, (this.counts.get(key) ?? 0) + n);
    for (let b = 0; b < this.binRows.length; b++) {
      this.binRows[b]! += other.binRows[b]!;
      this.binPositives[b]! += other.binPositives[b]!;
    }
    for (let i = 0; i < this.topBins.length; i++) this.topBins[i]! += other.topBins[i]!;
    this.labelledRows += other.labelledRows;
    this.unlabelledRows += other.unlabelledRows;
    this.everyoneContacts += other.everyoneContacts;
    this.everyoneResponders += other.everyoneResponders;
    this.everyoneGain += other.everyoneGain;
    return this;
  }

  /** Distinct written values of class k, ascending, with their hits (label = k) and misses. */
  private classCounts(k: number): { values: Float64Array; hits: Float64Array; misses: Float64Array } {
    const base = k * (WRITTEN_SCALE + 1);
    const byMicro = new Map<number, [number, number]>();
    for (const [key, n] of this.counts) {
      const micro = Math.floor(key / 2) - base;
      if (micro < 0 || micro > WRITTEN_SCALE) continue;
      const entry = byMicro.get(micro) ?? [0, 0];
      entry[key % 2]! += n;
      byMicro.set(micro, entry);
    }
    const micros = [...byMicro.keys()].sort((a, b) => a - b);
    const values = new Float64Array(micros.length);
    const hits = new Float64Array(micros.length);
    const misses = new Float64Array(micros.length);
    micros.forEach((m, i) => {
      values[i] = m / WRITTEN_SCALE;
      misses[i] = byMicro.get(m)![0];
      hits[i] = byMicro.get(m)![1];
    });
    return { values, hits, misses };
  }

  /**
   * The figures of `summary.json` `labels`; null when no scored row carried a known label.
   * @param decileByBin the run's decile of each histogram bin (the `decile` column of scores.csv)
   * @param realized binary: what the selection (targets.csv) and the best selection contacted, counted from the run's targets
   */
  evaluate(decileByBin: Readonly<Uint8Array>, costs: CampaignCosts, realized: { selection: RealizedTotals; best: RealizedTotals } | null): LabelledEvaluation | null {
    if (this.labelledRows === 0) return null;
    const n = this.labelledRows;
    const clip = (q: number) => Math.min(Math.max(q, 1e-15), 1 - 1e-15);
    if (this.task === 'binary') {
      const { values, hits, misses } = this.classCounts(0);
      let positives = 0;
      let loss = 0;
      let correct = 0;
      const calibration = new Float64Array(CALIBRATION_BINS * 3);
      for (let i = 0; i < values.length; i++) {
        const p = values[i]!;
        positives += hits[i]!;
        loss -= hits[i]! * Math.log(clip(p)) + misses[i]! * Math.log(clip(1 - p));
        correct += p >= 0.5 ? hits[i]! : misses[i]!;
        const b = Math.min(CALIBRATION_BINS - 1, Math.floor(Math.round(p * WRITTEN_SCALE) / PER_CALIBRATION_BIN)) * 3;
        calibration[b]! += hits[i]! + misses[i]!;
        calibration[b + 1]! += Math.round(p * WRITTEN_SCALE) * (hits[i]! + misses[i]!);
        calibration[b + 2]! += hits[i]!;
      }
      return {
        column: this.column,
        task: 'binary',
        rows: n,
        unlabelled: this.unlabelledRows,
        positives,
        rocAuc: rocAucOfCounts(hits, misses),
        prAuc: averagePrecisionOfCounts(hits, misses),
        logLoss: loss / n,
        accuracy: correct / n,
        calibration: calibrationOf(calibration, n),
        liftByDecile: this.liftByDecile(decileByBin, positives),
        realized: realized && {
          selection: realizedFigures(realized.selection, costs),
          everyone: realizedFigures({ contacts: this.everyoneContacts, responders: this.everyoneResponders, gainMicros: this.everyoneGain }, costs),
          best: realizedFigures(realized.best, costs),
        },
      };
    }
    let auc = 0;
    let classesWithBoth = 0;
    let loss = 0;
    for (let k = 0; k < this.classes; k++) {
      const { values, hits, misses } = this.classCounts(k);
      for (let i = 0; i < values.length; i++) loss -= hits[i]! * Math.log(clip(values[i]!));
      const classAuc = rocAucOfCounts(hits, misses);
      // scikit-learn refuses a class absent from the labels; here it is left out of the macro average.
      if (!Number.isNaN(classAuc)) {
        auc += classAuc;
        classesWithBoth++;
      }
    }
    let correct = 0;
    for (let b = 0; b < CALIBRATION_BINS; b++) correct += this.topBins[b * 3 + 2]!;
    return {
      column: this.column,
      task: 'multiclass',
      rows: n,
      unlabelled: this.unlabelledRows,
      positives: null,
      rocAuc: classesWithBoth === 0 ? Number.NaN : auc / classesWithBoth,
      prAuc: null,
      logLoss: loss / n,
      accuracy: correct / n,
      calibration: calibrationOf(this.topBins, n),
      liftByDecile: null,
      realized: null,
    };
  }

  /** Realized response rate per decile of the run (decile 1 = highest scores), as scores.csv's `decile` column. */
  private liftByDecile(decileByBin: Readonly<Uint8Array>, positives: number): LiftRow[] {
    const acc = Array.from({ length: 11 }, () => ({ rows: 0, positives: 0, low: -1, high: -1 }));
    for (let b = this.bins - 1; b >= 0; b--) {
      if (this.binRows[b] === 0) continue;
      const d = acc[decileByBin[b]!]!;
      if (d.high < 0) d.high = b;
      d.low = b;
      d.rows += this.binRows[b]!;
      d.positives += this.binPositives[b]!;
    }
    const overall = positives / this.labelledRows;
    const rows: LiftRow[] = [];
    let cumulativeRows = 0;
    let cumulativePositives = 0;
    for (let decile = 1; decile <= 10; decile++) {
      const d = acc[decile]!;
      if (d.rows === 0) continue;
      cumulativeRows += d.rows;
      cumulativePositives += d.positives;
      const responseRate = d.positives / d.rows;
      rows.push({
        decile,
        rows: d.rows,
        positives: d.positives,
        responseRate,
        lift: overall > 0 ? responseRate / overall : Number.NaN,
        cumulativeGain: positives > 0 ? cumulativePositives / positives : Number.NaN,
        cumulativeLift: overall > 0 ? cumulativePositives / cumulativeRows / overall : Number.NaN,
        minScore: d.low / this.bins,
        maxScore: (d.high + 1) / this.bins,
      });
    }
    return rows;
  }

  /** Plain JSON (entries in key order), for a part that travels between threads or Lambdas. */
  toJSON(): LabelTallyJson {
    const sparse = (a: Float64Array, b: Float64Array): Array<[number, number, number]> => {
      const out: Array<[number, number, number]> = [];
      for (let i = 0; i < a.length; i++) if (a[i] !== 0) out.push([i, a[i]!, b[i]!]);
      return out;
    };
    return {
      column: this.column,
      task: this.task,
      classes: this.classes,
      bins: this.bins,
      labelled: this.labelledRows,
      unlabelled: this.unlabelledRows,
      counts: [...this.counts].sort((a, b) => a[0] - b[0]),
      histogramBins: sparse(this.binRows, this.binPositives),
      topBins: [...this.topBins],
      everyone: [this.everyoneContacts, this.everyoneResponders, String(this.everyoneGain)],
    };
  }

  /**
   * Rebuilds a tally from {@link toJSON} output.
   * @throws ConfigError CONFIG_INVALID naming `source` and the key when the JSON is not a tally
   */
  static fromJSON(json: unknown, source = 'label tally JSON'): LabelTally {
    const data = parseWith(labelTallyJsonSchema, json, ({ path, message }) => new ConfigError('CONFIG_INVALID', message, { key: path, source }));
    const tally = new LabelTally(data.column, data.task, data.classes, data.bins);
    const fail = (key: string) => new ConfigError('CONFIG_INVALID', 'out of range', { key, source });
    let rows = 0;
    for (const [key, n] of data.counts) tally.counts.set(key, n);
    for (const [bin, n, positives] of data.histogramBins) {
      if (bin >= tally.binRows.length || positives > n) throw fail('histogramBins');
      tally.binRows[bin] = n;
      tally.binPositives[bin] = positives;
      rows += n;
    }
    if (data.topBins.length !== CALIBRATION_BINS * 3) throw fail('topBins');
    tally.topBins.set(data.topBins);
    if (data.task === 'binary' && rows !== data.labelled) throw fail('labelled');
    tally.labelledRows = data.labelled;
    tally.unlabelledRows = data.unlabelled;
    [tally.everyoneContacts, tally.everyoneResponders] = data.everyone;
    tally.everyoneGain = BigInt(data.everyone[2]);
    return tally;
  }
}

const count = z.number().int().nonnegative();
const labelTallyJsonSchema = z
  .object({
    column: z.string(),
    task: z.enum(['binary', 'multiclass']),
    classes: z.number().int().min(2).max(1000),
    bins: z.number().int().positive(),
    labelled: count,
    unlabelled: count,
    counts: z.array(z.tuple([count, z.number().int().positive()])),
    histogramBins: z.array(z.tuple([count, count, count])),
    topBins: z.array(z.number().nonnegative()),
    everyone: z.tuple([count, count, z.string().regex(/^\d+$/)]),
  })
  .strict();

/** The serialized form of a {@link LabelTally}. */
export type LabelTallyJson = z.infer<typeof labelTallyJsonSchema>;

/** Calibration bins from [rows, Σ written probability (micro-units), hits] per bin; ECE over the labelled rows. */
function calibrationOf(bins: Float64Array, n: number): { ece: number; bins: CalibrationBin[] } {
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < CALIBRATION_BINS; b++) {
    const rows = bins[b * 3]!;
    if (rows === 0) continue;
    const meanPredicted = bins[b * 3 + 1]! / rows / WRITTEN_SCALE;
    const observedRate = bins[b * 3 + 2]! / rows;
    ece += (rows / n) * Math.abs(meanPredicted - observedRate);
    out.push({ lower: b / CALIBRATION_BINS, upper: (b + 1) / CALIBRATION_BINS, count: rows, meanPredicted, observedRate });
  }
  return { ece, bins: out };
}

/** A contact set's realized money: responders × their gain, against fixedCost + contacts × costPerContact. */
export function realizedFigures(totals: RealizedTotals, costs: CampaignCosts): RealizedFigures {
  const costMicros = totals.contacts === 0 ? 0n : BigInt(moneyUnits(costs.fixedCost)) + BigInt(totals.contacts) * BigInt(moneyUnits(costs.costPerContact));
  const profitMicros = totals.gainMicros - costMicros;
  return {
    contacted: totals.contacts,
    responders: totals.responders,
    cost: fromUnits(costMicros, MONEY_SCALE),
    gain: fromUnits(totals.gainMicros, MONEY_SCALE),
    profit: fromUnits(profitMicros, MONEY_SCALE),
    roi: ratio(profitMicros, costMicros),
  };
}
