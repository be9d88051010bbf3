/**
 * What the scoring engine needs from a model, whatever runs it (onnxruntime-node, tfjs).
 *
 * Input is a row-major Float32Array batch of `rows × inputWidth` encoded features, exactly as
 * the fitted feature spec writes them. Output is `rows × classes.length` probabilities for
 * multiclass, or `rows × 1` probabilities of the positive class for binary models.
 */
export interface ScoringModel {
  readonly inputWidth: number;
  /** 1 for binary (P(positive)), K for a K-class model. */
  readonly outputWidth: number;
  score(batch: Float32Array, rows: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}
