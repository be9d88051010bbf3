import { assertBaselineFitsSpec } from '../drift/runProfile.js';
import { parseDriftBaseline, type DriftBaseline } from '../drift/driftBaseline.js';
import { BundleError, DriftError } from '../errors.js';
import { loadOnnxModel } from '../model/onnxModel.js';
import type { ScoringModel } from '../model/scoringModel.js';
import type { FittedSpec } from '../spec/featureSpec.js';
import type { BundleManifest } from '../../../model-store/bundleManifest.js';
import type { BundleFiles } from '../../../model-store/registry.js';

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
 * Creates the scoring model a bundle describes (ONNX through onnxruntime-node, or tfjs) and checks
 * that its input width matches the fitted feature spec.
 * @throws BundleError MODEL_LOAD_FAILED / MODEL_SHAPE_MISMATCH naming bundle and version.
 */
export async function loadBundle(bundle: BundleFiles, options: { intraOpNumThreads?: number } = {}): Promise<LoadedBundle> {
  const { manifest } = bundle;
  const context = { bundle: bundle.location, version: manifest.version };
  const inputWidth = manifest.featureSpec.featureNames.length;
  const outputWidth = manifest.model.output === 'positive-probability' ? 1 : manifest.classes.length;
  const bytes = bundle.files.get(manifest.model.file);
  if (!bytes) throw new BundleError('BUNDLE_INVALID', `model file "${manifest.model.file}" is missing`, { bundle: bundle.location, modelVersion: manifest.version });

  const baseline = readBaseline(bundle);
  let model: ScoringModel;
  if (manifest.format === 'onnx') {
    model = await loadOnnxModel(bytes, { inputName: manifest.model.inputName, outputName: manifest.model.outputName, inputWidth, outputWidth }, context, options);
  } else {
    // tfjs is imported only for tfjs bundles: it costs ~1 s of cold start that ONNX bundles should not pay.
    const { loadTfjsModel } = await import('../model/tfjsModel.js');
    model = await loadTfjsModel(bundle.files, manifest.model.file, { inputWidth, outputWidth }, context);
  }
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
