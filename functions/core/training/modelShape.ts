import { TrainingError } from '../errors.js';
import type { FittedSpec } from '../spec/featureSpec.js';
import type { Architecture } from './trainingSpec.js';

/** The model's tensors: the Keras input shape (without the batch) and the output width. */
export interface ModelShape {
  /** `[width]`, or `[periods, features]` for a sequence model. */
  readonly inputShape: number[];
  /** 1 for a binary model (P(positive class)), else one per class. */
  readonly outputUnits: number;
}

/**
 * The input and output shape of a model with this architecture over this fitted spec.
 * @throws TrainingError when a sequence model is asked for features outside one sequence group.
 * @example
 * modelShapeFor({ kind: 'mlp', … }, fitted, 7, ['no', 'yes']) // → { inputShape: [7], outputUnits: 1 }
 */
export function modelShapeFor(architecture: Architecture, fitted: FittedSpec, width: number, classes: readonly string[]): ModelShape {
  const outputUnits = classes.length === 2 ? 1 : classes.length;
  if (architecture.kind !== 'sequence') return { inputShape: [width], outputUnits };
  const sequences = fitted.sequences ?? [];
  const only = sequences[0];
  if (sequences.length !== 1 || !only || only.offset !== 0 || only.periods * only.features.length !== width) {
    throw new TrainingError(
      `a sequence model needs every feature in one sequence group (found ${sequences.length} group(s) covering ` +
        `${sequences.reduce((n, s) => n + s.periods * s.features.length, 0)} of ${width} slots); use an mlp for static features`,
      { isInputError: true },
    );
  }
  return { inputShape: [only.periods, only.features.length], outputUnits };
}
