import type { EncodeObserver } from '../spec/rowEncoder.js';

/**
 * Hooks a run profile (drift) into the encoder without a second parse: every good row's values
 * (the encoder's observer) and every batch of model outputs.
 */
export interface RunObserver extends EncodeObserver {
  /** A batch of model outputs, `rows × width` row-major. */
  score(probabilities: Float32Array, rows: number, width: number): void;
}
