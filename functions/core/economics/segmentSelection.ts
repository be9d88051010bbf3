import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseWith } from '../validation.js';
import { LimbSums, PROBABILITY_SCALE, parseUnits, probabilityUnits, ratio } from './fixedPoint.js';
import { RankedRows } from './rankedRows.js';

/** How a multiclass (segmentation) run builds its target list. */
export interface SegmentSelectorOptions {
  /** Class labels in model output order. */
  readonly classes: readonly string[];
  /** Recommended action per class (from the bundle manifest); classes without one get null. */
  readonly actions?: Readonly<Record<string, string>> | null;
  /** Most customers on the list; null or absent = every scored customer. */
  readonly maxContacts?: number | null;
}

/** One customer on a multiclass target list. */
export interface SegmentTarget {
  readonly rank: number;
  readonly id: string;
  readonly line: number;
  /** Predicted class. */
  readonly segment: string;
  /** Probability of the predicted class. */
  readonly confidence: number;
  readonly action: string | null;
}

/** Per-segment figures over every scored customer, and how many of them made the list. */
export interface SegmentSummary {
  readonly segment: string;
  readonly action: string | null;
  readonly customers: number;
  /** Mean confidence of the customers predicted in this segment; null when there are none. */
  readonly meanConfidence: number | null;
  readonly selected: number;
}

export interface SegmentOutcome {
  readonly scored: number;
  readonly targets: SegmentTarget[];
  readonly segments: SegmentSummary[];
}

export const segmentSelectorJsonSchema = z
  .object({
    classes: z.array(z.string()).min(2),
    actions: z.record(z.string(), z.string()).nullable(),
    maxContacts: z.number().int().nonnegative().nullable(),
    /** Per class: [customers, Σ confidence in 1e-12 units]. */
    segments: z.array(z.tuple([z.number().int().nonnegative(), z.string()])),
    /** Kept rows in rank order, as columns (checked by hand in fromJSON: zod per element is slow). */
    ids: z.array(z.unknown()),
    lines: z.array(z.unknown()),
    classIndexes: z.array(z.unknown()),
    confidences: z.array(z.unknown()),
  })
  .strict();

/** The serialized form of a {@link SegmentSelector}. */
export type SegmentSelectorJson = z.infer<typeof segmentSelectorJsonSchema>;

function canonicalActions(actions: Readonly<Record<string, string>> | null | undefined): Record<string, string> | null {
  if (!actions) return null;
  return Object.fromEntries(Object.entries(actions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Target list for a multiclass model: every scored customer with its segment (predicted class),
 * confidence and recommended action, ranked by confidence (ties: line ascending), limited to
 * `maxContacts` when set. Also counts customers and sums confidence per segment (exactly, in
 * fixed units) for the summary.
 *
 * Memory: with `maxContacts` a bounded heap; without it the list is every scored customer, so
 * memory grows with the file (one small record per customer). Mergeable and JSON-serializable
 * like {@link TargetSelector}.
 */
export class SegmentSelector {
  readonly classes: readonly string[];
  readonly actions: Readonly<Record<string, string>> | null;
  readonly maxContacts: number | null;
  private readonly rows: RankedRows;
  private readonly counts: Float64Array;
  private readonly confidenceSums: LimbSums;
  private scoredCount = 0;

  constructor(options: SegmentSelectorOptions) {
    if (options.classes.length < 2) {
      throw new ConfigError('CONFIG_INVALID', 'a multiclass target list needs at least 2 classes', { key: 'classes', source: 'segment selector' });
    }
    this.classes = [...options.classes];
    this.actions = canonicalActions(options.actions);
    this.maxContacts = options.maxContacts ?? null;
    this.rows = new RankedRows(this.maxContacts);
    this.counts = new Float64Array(this.classes.length);
    this.confidenceSums = new LimbSums(this.classes.length);
  }

  get scored(): number {
    return this.scoredCount;
  }

  /**
   * Offers one scored customer.
   * @param classIndex index of the predicted class in `classes` (model output order)
   * @param confidence probability of that class
   * @throws RangeError when classIndex is not a class or confidence is not in [0, 1]
   */
  offer(id: string, line: number, classIndex: number, confidence: number): void {
    if (!(confidence >= 0 && confidence <= 1) || !(classIndex >= 0 && classIndex < this.classes.length && Number.isInteger(classIndex))) {
      throw new RangeError(`line ${line}: class index ${classIndex} must be in [0, ${this.classes.length}) and confidence ${confidence} in [0, 1]`);
    }
    this.counts[classIndex]! += 1;
    this.confidenceSums.add(classIndex, probabilityUnits(confidence));
    this.scoredCount++;
    this.rows.offer(id, line, confidence, classIndex, 0);
  }

  /** Adds another part's customers (same classes, actions and maxContacts). */
  merge(other: SegmentSelector): this {
    const same =
      JSON.stringify(this.classes) === JSON.stringify(other.classes) &&
      JSON.stringify(this.actions) === JSON.stringify(other.actions) &&
      this.maxContacts === other.maxContacts;
    if (!same) {
      throw new ConfigError('CONFIG_INVALID', 'cannot merge segment selectors with different classes, actions or maxContacts', {
        key: 'classes',
        source: 'segment selector merge',
      });
    }
    for (let c = 0; c < this.classes.length; c++) this.counts[c]! += other.counts[c]!;
    this.confidenceSums.addAll(other.confidenceSums);
    this.scoredCount += other.scoredCount;
    this.rows.offerAll(other.rows);
    return this;
  }

  private actionOf(segment: string): string | null {
    return this.actions?.[segment] ?? null;
  }

  /** The ranked target list and the per-segment summary. */
  finish(): SegmentOutcome {
    const rows = this.rows;
    const selected = new Array<number>(this.classes.length).fill(0);
    const targets = rows.rankedSlots().map((slot, i): SegmentTarget => {
      const classIndex = rows.a(slot);
      selected[classIndex]!++;
      const segment = this.classes[classIndex]!;
      return { rank: i + 1, id: rows.id(slot), line: rows.line(slot), segment, confidence: rows.key(slot), action: this.actionOf(segment) };
    });
    const segments = this.classes.map((segment, c): SegmentSummary => {
      const customers = this.counts[c]!;
      return {
        segment,
        action: this.actionOf(segment),
        customers,
        meanConfidence: ratio(this.confidenceSums.total(c), BigInt(customers) * BigInt(PROBABILITY_SCALE)),
        selected: selected[c]!,
      };
    });
    return { scored: this.scoredCount, targets, segments };
  }

  /** Plain JSON: options, per-segment sums (exact, as decimal strings) and kept rows in rank order. */
  toJSON(): SegmentSelectorJson {
    const rows = this.rows;
    const slots = rows.rankedSlots();
    return {
      classes: [...this.classes],
      actions: this.actions ? { ...this.actions } : null,
      maxContacts: this.maxContacts,
      segments: this.classes.map((_, c) => [this.counts[c]!, this.confidenceSums.total(c).toString()] as [number, string]),
      ids: slots.map((s) => rows.id(s)),
      lines: slots.map((s) => rows.line(s)),
      classIndexes: slots.map((s) => rows.a(s)),
      confidences: slots.map((s) => rows.key(s)),
    };
  }

  /**
   * Rebuilds a selector from {@link toJSON} output.
   * @throws ConfigError CONFIG_INVALID naming the offending key when the JSON is not a segment selector
   */
  static fromJSON(json: unknown, source = 'segment selector JSON'): SegmentSelector {
    const data = parseWith(segmentSelectorJsonSchema, json, ({ path, message }) => new ConfigError('CONFIG_INVALID', message, { key: path, source }));
    if (data.segments.length !== data.classes.length) {
      throw new ConfigError('CONFIG_INVALID', `${data.segments.length} segment sums for ${data.classes.length} classes`, { key: 'segments', source });
    }
    const selector = new SegmentSelector(data);
    data.segments.forEach(([customers, sum], c) => {
      const units = parseUnits(sum);
      if (units === undefined) throw new ConfigError('CONFIG_INVALID', `"${sum}" is not a non-negative integer`, { key: `segments.${c}.1`, source });
      selector.counts[c] = customers;
      selector.confidenceSums.set(c, units);
      selector.scoredCount += customers;
    });
    const { ids, lines, classIndexes, confidences } = data;
    if (lines.length !== ids.length || classIndexes.length !== ids.length || confidences.length !== ids.length) {
      throw new ConfigError('CONFIG_INVALID', 'columns ids, lines, classIndexes and confidences must have the same length', { key: 'ids', source });
    }
    for (let i = 0; i < ids.length; i++) {
      const [id, line, classIndex, confidence] = [ids[i], lines[i], classIndexes[i], confidences[i]];
      const problem =
        typeof id !== 'string' ? ['ids', 'expected a string']
        : typeof line !== 'number' || !Number.isFinite(line) ? ['lines', 'expected a number']
        : typeof classIndex !== 'number' || !Number.isInteger(classIndex) || classIndex < 0 || classIndex >= data.classes.length
          ? ['classIndexes', `expected one of ${data.classes.length} class indexes`]
        : typeof confidence !== 'number' || !(confidence >= 0 && confidence <= 1) ? ['confidences', 'expected a probability in [0, 1]']
        : null;
      if (problem) throw new ConfigError('CONFIG_INVALID', problem[1]!, { key: `${problem[0]}.${i}`, source });
      selector.rows.offer(id as string, line as number, confidence as number, classIndex as number, 0);
    }
    return selector;
  }
}
