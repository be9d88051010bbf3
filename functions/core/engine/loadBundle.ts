import { assertBaselineFitsSpec } from '../drift/runProfile.js';
import { parseDriftBaseline, type DriftBaseline } from '../drift/driftBaseline.js';
import { BundleError, DriftError } from '../errors.js';
import type { BundleManifest } from '../bundle/bundleManifest.js';
import type { BundleFiles } from '../bundle/registry.js';
import type { ModelLoader, ScoringModel } from '../model/scoringModel.js';
import type { FittedSpec } from '../spec/featureSpec.js';

/** A verified bundle with its model ready to score. */
export interface LoadedBundle {
  readonly manifest: BundleManifest;
  readonly featureSpec: FittedSpec;
  readonly model: ScoringModel;
  readonly location: string;
  /** What the model was trained on, for the run profile (`profile.json`); null for a bundle without one. */
  readonly baseline: DriftBaseline | null;
}

/**
 * Creates the scoring model a bundle describes, through the given loader (the adapters' `loadModel`:
 * ONNX or tfjs), and checks that its input width matches the fitted feature spec.
 * @throws BundleError MODEL_LOAD_FAILED / MODEL_SHAPE_MISMATCH naming bundle and version.
 * @example
 * const bundle = await loadBundle(await registry.read('bank-marketing'), loadModel);
 */
export async function loadBundle(bundle: BundleFiles, loader: ModelLoader, options: { intraOpNumThreads?: number } = {}): Promise<LoadedBundle> {
  const { manifest } = bundle;
  const context = { bundle: bundle.location, version: manifest.version };
  const inputWidth = manifest.featureSpec.featureNames.length;
  const outputWidth = manifest.model.output === 'positive-probability' ? 1 : manifest.classes.length;
  if (!bundle.files.has(manifest.model.file)) throw new BundleError('BUNDLE_INVALID', `model file "${manifest.model.file}" is missing`, { bundle: bundle.location, modelVersion: manifest.version });

  const baseline = readBaseline(bundle);
  const model: ScoringModel = await loader(
    {
      format: manifest.format,
      files: bundle.files,
      file: manifest.model.file,
      inputName: manifest.model.inputName,
      outputName: manifest.model.outputName,
      inputWidth,
      outputWidth,
      ...options,
    },
    context,
  );
  if (model.inputWidth !== inputWidth || model.outputWidth !== outputWidth) {
    await model.dispose();
    throw new BundleError(
      'MODEL_SHAPE_MISMATCH',
      `model takes ${model.inputWidth} inputs and gives ${model.outputWidth} outputs; the feature spec encodes ${inputWidth} and the task needs ${outputWidth}`,
      { bundle: bundle.location, modelVersion: manifest.version },
    );
  }
  return { manifest, featureSpec: manifest.featureSpec, model, location: bundle.location, baseline };
}

/** Validated once per load, so every run's profile counts on bins that match the spec. */
function readBaseline(bundle: BundleFiles): DriftBaseline | null {
  const { manifest } = bundle;
  if (manifest.baseline === undefined) return null;
  try {
    const baseline = parseDriftBaseline(manifest.baseline, `${bundle.location} manifest.json baseline`);
    assertBaselineFitsSpec(baseline, manifest.featureSpec);
    return baseline;
  } catch (error) {
    if (!(error instanceof DriftError)) throw error;
    throw new BundleError('BUNDLE_INVALID', `drift baseline: ${error.message}`, { bundle: bundle.location, modelVersion: manifest.version });
  }
}
