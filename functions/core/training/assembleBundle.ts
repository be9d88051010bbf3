import { createBundle } from '../bundle/bundle.js';
import type { BundleManifest } from '../bundle/bundleManifest.js';
import type { DriftBaseline } from '../drift/driftBaseline.js';
import type { Evaluation } from '../evaluation/evaluateClassifier.js';
import type { TrainingCurves } from '../evaluation/trainingCurves.js';
import { renderTrainingReport, TRAINING_REPORT_HTML } from '../report/trainingReport.js';
import type { FittedSpec } from '../spec/featureSpec.js';
import type { CalibrationPlacement, ValidationMetrics } from './calibrateAndChooseThresholds.js';
import type { ThresholdChoice } from './chooseThresholds.js';
import type { EncodedSplits } from './encodeSplits.js';
import type { CalibrationChoice } from './fitCalibration.js';
import { MODEL_INPUT_NAME } from './modelGraphNames.js';
import type { RecordLabels } from './labelRecords.js';
import type { FittedModel } from './fitModel.js';
import type { RowSplits } from './splitRows.js';
import type { TrainTimings } from './trainTimings.js';
import type { TrainingSpec } from './trainingSpec.js';
import type { TrainingTable } from './trainingTable.js';
import type { TrainingDataSummary } from './trainingDataSummary.js';

export type { TrainingDataSummary } from './trainingDataSummary.js';


/**
 * Counts where the rows went: read, rejected by the reader, unlabelled, refused by the encoder,
 * and the rows of each part.
 */
export function summarizeData(
  table: TrainingTable,
  labels: Pick<RecordLabels, 'unlabelled'>,
  splits: Pick<RowSplits, 'testSplit'>,
  encoded: Pick<EncodedSplits, 'dropped' | 'unseenClassesInTest' | 'train' | 'validation' | 'test' | 'fit' | 'folds'>,
): TrainingDataSummary {
  return {
    source: table.source,
    rows: table.records.length + (table.rejected ?? 0),
    rejectedByReader: table.rejected ?? 0,
    unlabelled: labels.unlabelled,
    droppedByEncoder: encoded.dropped,
    unseenClassesInTest: encoded.unseenClassesInTest,
    trainRows: encoded.train.rows,
    validationRows: encoded.validation.rows,
    fitRows: encoded.fit.rows,
    folds: Math.max(1, encoded.folds.length),
    testRows: encoded.test.rows,
    testSplit: splits.testSplit,
  };
}

export interface AssembleBundleInput {
  readonly spec: TrainingSpec;
  readonly version: string;
  readonly created: Date;
  readonly fitted: FittedSpec;
  readonly classes: readonly string[];
  readonly model: { readonly outputName: string; readonly extraFiles: readonly string[]; readonly inputShape: readonly number[] };
  /** The fitted model's record, without the model itself. */
  readonly trained: Pick<FittedModel, 'config' | 'history' | 'bestEpoch' | 'search' | 'crossValidation' | 'refit'>;
  readonly backend: string;
  readonly evaluation: Evaluation;
  readonly validation: ValidationMetrics;
  readonly calibration: CalibrationChoice;
  readonly calibrationAppliedIn: CalibrationPlacement;
  readonly thresholds: ThresholdChoice | undefined;
  readonly data: TrainingDataSummary;
  readonly parity: { readonly rows: number; readonly maxAbsDiff: number };
  readonly timings: TrainTimings;
  readonly baseline: DriftBaseline;
  /** ROC points and reliability before/after calibration on the test rows, for the training report; absent: the report says so. */
  readonly curves?: TrainingCurves;
  /** Training warnings for the manifest (columns fitted as constants). */
  readonly warnings?: readonly string[];
}

/** `5 members`, or `4 of 5 members (the size budget)` when the merged model ships fewer. */
function members(crossValidation: FittedModel['crossValidation'], folds: number): string {
  const trained = crossValidation?.members.length ?? folds;
  const shipped = crossValidation?.shipped ?? trained;
  return shipped < trained ? `${shipped} of its ${trained} members (the bundle's size budget)` : `${trained} members`;
}

/** The note saying which rows trained the shipped model, and which ones calibrated and evaluated it. */
function whatTrainedTheModel(data: Parameters<typeof bundleNotes>[0]['data'], trained: Pick<FittedModel, 'crossValidation' | 'refit'> | undefined): string {
  const folds = data.folds ?? 1;
  const evaluated = `evaluated on ${data.testRows} held-out test rows${data.testSplit ? ` (${data.testSplit})` : ''}.`;
  if (folds > 1) {
    return (
      `A cross-validated ensemble of ${members(trained?.crossValidation, folds)} merged into one model, trained on all ${data.fitRows} rows of ${data.source} left after the holdout ` +
      `(each member learns from ${folds - 1} of ${folds} folds, early-stopped on the fold it does not see); calibration and thresholds on the members' out-of-fold predictions; ${evaluated}`
    );
  }
  const refit = trained?.refit?.report;
  if (refit) {
    return (
      `Configuration and epoch count chosen on ${data.trainRows} train and ${data.validationRows} validation rows of ${data.source}, then refitted on all ${refit.rows} of them ` +
      `(${refit.epochs} epochs${refit.members > 1 ? `, ${refit.members} seeds merged` : ''}); calibration and thresholds on the search model's validation predictions; ${evaluated}`
    );
  }
  return `Trained on ${data.trainRows} rows of ${data.source}; early stopping and calibration on ${data.validationRows} validation rows; evaluated on ${data.testRows} held-out test rows.`;
}

/**
 * The bundle's notes: the spec's own, where the rows went, where the calibration lives and, for a
 * binary model, the thresholds chosen.
 */
export function bundleNotes(
  input: Pick<AssembleBundleInput, 'spec' | 'calibration' | 'calibrationAppliedIn' | 'thresholds' | 'classes'> & {
    readonly trained?: Pick<FittedModel, 'crossValidation' | 'refit'>;
    readonly data: Pick<TrainingDataSummary, 'source' | 'trainRows' | 'validationRows' | 'testRows'> & Partial<Pick<TrainingDataSummary, 'fitRows' | 'folds' | 'testSplit'>>;
  },
): string[] {
  const { data, calibration, thresholds } = input;
  const folds = data.folds ?? 1;
  const notes = [
    ...input.spec.notes,
    whatTrainedTheModel(input.data, input.trained),
    input.calibrationAppliedIn === 'output-layer'
      ? `The ${calibration.method} calibration (metrics.calibration) is folded into the output layer of both model.onnx and tfjs/.`
      : input.calibrationAppliedIn === 'onnx-graph'
        ? `model.onnx ends with the ${calibration.method} calibration (metrics.calibration); tfjs/ holds the model before it: apply applyCalibration to its output.`
        : 'No calibration was applied.',
  ];
  if (input.classes.length === 2 && thresholds) {
    notes.push(
      `threshold ${thresholds.maxExpectedProfit.threshold.toFixed(4)} maximizes expected profit on the ${folds > 1 ? 'out-of-fold predictions' : 'validation rows'} under the default economics; ` +
        `the F1-optimal threshold is ${thresholds.maxF1.threshold.toFixed(4)}.`,
    );
  }
  return notes;
}

/**
 * Assembles the model bundle: the manifest (task, classes, model files, fitted spec, economics,
 * threshold, metrics of every step, drift baseline, notes) with the sha256 of every file, and the
 * training report (`report.html`, rendered from that manifest) among the files.
 * @throws BundleError BUNDLE_INVALID when the manifest does not validate.
 */
export async function assembleBundle(
  input: AssembleBundleInput,
  files: ReadonlyMap<string, Uint8Array>,
): Promise<{ manifest: BundleManifest; files: ReadonlyMap<string, Uint8Array> }> {
  const manifest = bundleManifest(input);
  // Validated first, so the report renders from exactly what the manifest will hold.
  const checked = createBundle(manifest, files);
  const report = new TextEncoder().encode(await renderTrainingReport(checked.manifest));
  return createBundle(manifest, new Map([...files, [TRAINING_REPORT_HTML, report]]));
}

function bundleManifest(input: AssembleBundleInput): Parameters<typeof createBundle>[0] {
  const { spec, classes, calibration, thresholds, trained } = input;
  const binary = classes.length === 2;
  return (
    {
      schemaVersion: 1,
      name: spec.name,
      version: input.version,
      created: input.created.toISOString(),
      ...(spec.description ? { description: spec.description } : {}),
      task: binary ? 'binary' : 'multiclass',
      classes: [...classes],
      ...(binary ? { positiveClass: classes[1]! } : {}),
      format: 'onnx',
      model: {
        file: 'model.onnx',
        inputName: MODEL_INPUT_NAME,
        outputName: input.model.outputName,
        output: binary ? 'positive-probability' : 'class-probabilities',
        extraFiles: [...input.model.extraFiles],
      },
      featureSpec: input.fitted,
      economics: spec.economics,
      ...(spec.actions ? { actions: spec.actions } : {}),
      ...(binary && thresholds ? { threshold: thresholds.maxExpectedProfit.threshold } : {}),
      metrics: {
        evaluation: input.evaluation,
        validation: input.validation,
        calibration: {
          method: calibration.method,
          appliedIn: input.calibrationAppliedIn,
          ...(calibration.calibration ? { parameters: calibration.calibration } : {}),
          ...(calibration.candidates ? { candidates: calibration.candidates } : {}),
        },
        ...(thresholds ? { thresholds } : {}),
        training: {
          seed: spec.training.seed,
          backend: input.backend,
          architecture: trained.config.architecture,
          settings: { ...spec.training, ...trained.config.settings },
          inputShape: input.model.inputShape,
          epochs: trained.history.length,
          bestEpoch: trained.bestEpoch.epoch,
          history: trained.history,
          ...(trained.crossValidation ? { crossValidation: { folds: input.data.folds, shippedMembers: trained.crossValidation.shipped, members: trained.crossValidation.members } } : {}),
          ...(trained.refit ? { refit: trained.refit.report } : {}),
        },
        search: trained.search,
        data: input.data,
        parity: input.parity,
        timings: input.timings,
        ...(input.curves ? { curves: input.curves } : {}),
      },
      baseline: input.baseline,
      notes: bundleNotes(input),
      ...(input.warnings && input.warnings.length > 0 ? { warnings: [...input.warnings] } : {}),
    }
  );
}
