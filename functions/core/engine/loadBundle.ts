import { assertBaselineFitsSpec } from '../drift/runProfile.js';
import { parseDriftBaseline, type DriftBaseline } from '../drift/driftBaseline.js';
import { BundleError, DriftError } from '../errors.js';
import type { BundleManifest } from '../bundle/bundleManifest.js';
import { fittedSpecProblem } from '../bundle/fittedSpecContract.js';
import type { BundleFiles } from '../bundle/registry.js';
import type { ColumnInput, ModelLoader, ScoringModel } from '../model/scoringModel.js';
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
 * ONNX or tfjs), after checking the contract between manifest, fitted spec and model: every index of the
 * fitted spec in range, the encoder's slots in `featureNames` order, the model's input width equal to
 * the encoder's, and its output what the task needs. A binary model may give one probability per row
 * (`model.output: positive-probability`) or one per class (`class-probabilities`, `[N, 2]`): the
 * loaded model then gives the positive class's column, so every caller sees one probability per row.
 * @throws BundleError BUNDLE_INVALID (fitted spec or manifest contradict themselves, naming the field),
 *   MODEL_LOAD_FAILED / MODEL_SHAPE_MISMATCH naming bundle and version.
 * @example
 * const bundle = await loadBundle(await registry.read('bank-marketing'), loadModel);
 */
export interface LoadBundleOptions {
  /** Threads inside one model operator (see `ModelLoadRequest`). */
  readonly intraOpNumThreads?: number;
  /**
   * Load the model on its first `score()`, not now: for a caller that may never score in this
   * thread (a run on worker threads, which load their own). The model's checks then fail that call.
   */
  readonly modelOnFirstUse?: boolean;
}

export async function loadBundle(bundle: BundleFiles, loader: ModelLoader, options: LoadBundleOptions = {}): Promise<LoadedBundle> {
  const { manifest } = bundle;
  const context = { bundle: bundle.location, version: manifest.version };
  const details = { bundle: bundle.location, modelVersion: manifest.version };
  const problem = fittedSpecProblem(manifest.featureSpec);
  if (problem) throw new BundleError('BUNDLE_INVALID', `${problem.field} ${problem.message}`, details);
  const inputWidth = manifest.featureSpec.featureNames.length;
  const { outputWidth, positiveColumn } = outputContract(manifest, details);
  if (!bundle.files.has(manifest.model.file)) throw new BundleError('BUNDLE_INVALID', `model file "${manifest.model.file}" is missing`, details);

  const baseline = readBaseline(bundle);
  const columnInputs = columnInputsOf(manifest);
  const load = async (): Promise<ScoringModel> => {
    const model: ScoringModel = await loader(
      {
        format: manifest.format,
        files: bundle.files,
        file: manifest.model.file,
        inputName: manifest.model.inputName,
        outputName: manifest.model.outputName,
        inputWidth,
        outputWidth,
        ...(columnInputs ? { columnInputs, textWidth: manifest.featureSpec.textNames?.length ?? 0 } : {}),
        ...(options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: options.intraOpNumThreads }),
      },
      context,
    );
    if (model.inputWidth !== inputWidth || model.outputWidth !== outputWidth) {
      await model.dispose();
      throw new BundleError(
        'MODEL_SHAPE_MISMATCH',
        `model takes ${model.inputWidth} inputs and gives ${model.outputWidth} outputs; the feature spec encodes ${inputWidth} and the task needs ${outputWidth}`,
        details,
      );
    }
    return positiveColumn === null ? model : positiveClassColumn(model, positiveColumn, details);
  };
  // A binary model giving class probabilities is read as one probability per row (positiveClassColumn).
  const model = options.modelOnFirstUse ? modelOnFirstUse(load, inputWidth, positiveColumn === null ? outputWidth : 1) : await load();
  return { manifest, featureSpec: manifest.featureSpec, model, location: bundle.location, baseline };
}

/** A model that loads (and checks) itself on its first `score()`; disposing of it before then loads nothing. */
function modelOnFirstUse(load: () => Promise<ScoringModel>, inputWidth: number, outputWidth: number): ScoringModel {
  let loading: Promise<ScoringModel> | null = null;
  return {
    inputWidth,
    outputWidth,
    score: async (batch, rows, text) => (await (loading ??= load())).score(batch, rows, text),
    dispose: async () => {
      const loaded = await loading?.catch(() => null);
      await loaded?.dispose();
    },
  };
}

/**
 * The output width the model must give, and for a binary model giving class probabilities, which
 * column holds the positive class (its position in `classes`).
 */
function outputContract(manifest: BundleManifest, details: { bundle: string; modelVersion: string }): { outputWidth: number; positiveColumn: number | null } {
  if (manifest.task === 'multiclass') {
    if (manifest.model.output !== 'class-probabilities') {
      throw new BundleError('BUNDLE_INVALID', `model.output is "${manifest.model.output}", a multiclass model must give class-probabilities`, details);
    }
    return { outputWidth: manifest.classes.length, positiveColumn: null };
  }
  if (manifest.model.output === 'positive-probability') return { outputWidth: 1, positiveColumn: null };
  const positive = manifest.positiveClass ?? manifest.classes[1]!;
  return { outputWidth: manifest.classes.length, positiveColumn: manifest.classes.indexOf(positive) };
}

/** A binary model's `[N, 2]` class probabilities, read as one P(positive) per row. */
function positiveClassColumn(model: ScoringModel, column: number, details: { bundle: string; modelVersion: string }): ScoringModel {
  const width = model.outputWidth;
  return {
    inputWidth: model.inputWidth,
    outputWidth: 1,
    async score(batch, rows, text) {
      const all = await model.score(batch, rows, text);
      if (all.length !== rows * width) {
        throw new BundleError('MODEL_SHAPE_MISMATCH', `model gave ${all.length} values for ${rows} rows, expected [${rows}, ${width}]`, details);
      }
      const positive = new Float32Array(rows);
      for (let row = 0; row < rows; row++) positive[row] = all[row * width + column]!;
      return positive;
    },
    dispose: () => model.dispose(),
  };
}

/** A raw-columns model's graph inputs with the batch slot each is fed from (the manifest schema checked every column has one). */
function columnInputsOf(manifest: BundleManifest): ColumnInput[] | undefined {
  const { inputs } = manifest.model;
  if (!inputs) return undefined;
  const { featureNames, textNames = [] } = manifest.featureSpec;
  return inputs.map(({ name, column, type }) => ({ name, type, slot: (type === 'string' ? textNames : featureNames).indexOf(column) }));
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
