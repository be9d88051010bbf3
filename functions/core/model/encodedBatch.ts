import type { RowEncoder, RowIssue } from '../spec/rowEncoder.js';
import type { ScoringModel } from './scoringModel.js';

/**
 * Rows encoded for a model, in the form {@link ScoringModel.score} takes them: `capacity × width`
 * numbers and, for a model that takes columns as text (an imported pipeline), `capacity × textWidth`
 * strings beside them. Every path that scores encoded rows (a batch run, predict, a drift baseline,
 * a retraining holdout) fills one of these, so none can leave a text-input model without its text.
 * @example
 * const batch = new EncodedBatch(encoder, 8192);
 * for (const fields of rows) {
 *   if (batch.add(fields)) continue; // the row is not kept
 *   if (batch.full) use(await batch.scoreAndClear(model));
 * }
 */
export class EncodedBatch {
  readonly values: Float32Array;
  /** Text slots, row-major; undefined when the model takes no column as text. */
  readonly text: string[] | undefined;
  /** Rows kept so far by {@link add}; {@link scoreAndClear} scores these. */
  rows = 0;

  constructor(
    private readonly encoder: RowEncoder,
    readonly capacity: number,
  ) {
    this.values = new Float32Array(capacity * encoder.width);
    this.text = encoder.textWidth > 0 ? new Array<string>(capacity * encoder.textWidth) : undefined;
  }

  get full(): boolean {
    return this.rows === this.capacity;
  }

  /** Encodes `fields` as the next row. Returns the row's issue (then the row is not kept) or null. */
  add(fields: readonly string[]): RowIssue | null {
    const issue = this.encodeAt(this.rows, fields);
    if (!issue) this.rows++;
    return issue;
  }

  /**
   * Encodes `fields` into row `row` without counting it, for a caller that lays rows out itself (predict
   * puts each customer's occluded copies after all the customers). Returns the issue or null.
   */
  encodeAt(row: number, fields: readonly string[]): RowIssue | null {
    if (row < 0 || row >= this.capacity) throw new RangeError(`row ${row} is outside a batch of ${this.capacity}`);
    return this.encoder.encode(fields, this.values, row * this.encoder.width, this.text, row * this.encoder.textWidth);
  }

  /** Scores the first `rows` rows (default: those {@link add} kept) and empties the batch. */
  async scoreAndClear(model: ScoringModel, rows = this.rows): Promise<Float32Array> {
    const probabilities = await model.score(this.values, rows, this.text);
    this.rows = 0;
    return probabilities;
  }
}
