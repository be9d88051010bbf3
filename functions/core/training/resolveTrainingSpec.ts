import { TrainingError } from '../errors.js';
import { refuseImportOnlyOptions } from '../spec/featureSpec.js';
import { parseTrainingSpec, type Architecture, type SearchSettings, type TrainingSettings, type TrainingSpec } from './trainingSpec.js';

/** What a caller may lay over the spec for one training (quick settings for tests, `search: false`). */
export interface TrainingOverrides {
  readonly training?: Partial<TrainingSettings>;
  readonly search?: Partial<SearchSettings> | false;
  readonly model?: Architecture;
}

/** Folds of an mlp's cross-validated ensemble when the spec does not say (see `training.folds`). */
export const DEFAULT_MLP_FOLDS = 5;

/** The spec as this training runs it: overrides applied, and the search to run (none when undefined). */
export interface ResolvedTrainingSpec {
  /** `training.folds` is always set. */
  readonly spec: TrainingSpec & { readonly training: TrainingSpec['training'] & { readonly folds: number } };
  readonly search: SearchSettings | undefined;
}

/**
 * Parses the training spec and lays the overrides and the seed over it. Refuses what cannot train
 * before any data is read (a sequence ensemble), so a bad request fails fast.
 * @throws SpecError SPEC_INVALID for an invalid spec; TrainingError for an ensemble of sequence models.
 * @example
 * const { spec, search } = resolveTrainingSpec(JSON.parse(specText), { source: 'spec.json', overrides: { search: false } });
 */
export function resolveTrainingSpec(
  value: unknown,
  options: { readonly source?: string; readonly seed?: number; readonly overrides?: TrainingOverrides } = {},
): ResolvedTrainingSpec {
  const parsed = parseTrainingSpec(value, options.source ?? 'training spec');
  refuseImportOnlyOptions(parsed.featureSpec, options.source ?? 'training spec');
  const o = options.overrides ?? {};
  const training = { ...parsed.training, ...(o.training ?? {}), ...(options.seed !== undefined ? { seed: options.seed } : {}) };
  const search = o.search === false ? undefined : parsed.search ? { ...parsed.search, ...(o.search ?? {}) } : undefined;
  const model = o.model ?? parsed.model;
  if (model.kind === 'sequence' && training.ensemble > 1) {
    throw new TrainingError('an ensemble (training.ensemble > 1) is only supported for mlp models', { isInputError: true });
  }
  if (model.kind === 'sequence' && (training.folds ?? 1) > 1) {
    throw new TrainingError('a cross-validated ensemble (training.folds > 1) is only supported for mlp models', { isInputError: true });
  }
  const spec = { ...parsed, training: { ...training, folds: training.folds ?? (model.kind === 'mlp' ? DEFAULT_MLP_FOLDS : 1) }, model };
  return { spec, search };
}
