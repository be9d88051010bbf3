import type { CampaignEconomics } from '../economics/campaignEconomics.js';
import { selectionRuleFor, type SelectionRule } from '../economics/targetSelection.js';
import { loadBundle } from '../engine/loadBundle.js';
import { TrainingError } from '../errors.js';
import { evaluateClassifier } from '../evaluation/evaluateClassifier.js';
import type { ModelLoader } from '../model/scoringModel.js';
import { missingMarkers, targetColumn } from '../spec/featureSpec.js';
import { compileEncoder } from '../spec/rowEncoder.js';
import { EncodedBatch } from '../model/encodedBatch.js';
import type { CandidateBundle } from './retrainAndPromote.js';
import type { ModelEvaluation } from './retrainPolicy.js';

/** Labelled rows both models are judged on (a training table: header + records with the target column). */
export interface LabelledHoldout {
  readonly source: string;
  readonly header: readonly string[] | null;
  readonly records: readonly (readonly string[])[];
}

const BATCH_ROWS = 8192;

/**
 * Profit the selection rule earns on labelled rows: customers ranked by p·v − cost, kept as the
 * rule says (profitable only / threshold / at most maxContacts), each contributing v if it
 * responded, minus the contact cost; minus the fixed cost when anyone is contacted.
 */
export function holdoutProfit(
  probabilities: ArrayLike<number>,
  responded: ArrayLike<number>,
  values: ArrayLike<number>,
  rule: SelectionRule,
  fixedCost: number,
): number {
  const n = probabilities.length;
  const expected = (i: number) => probabilities[i]! * values[i]! - rule.costPerContact;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => expected(b) - expected(a) || a - b);
  let contacts = 0;
  let profit = 0;
  for (const i of order) {
    if (rule.maxContacts !== null && contacts >= rule.maxContacts) break;
    if (rule.profitableOnly && !(expected(i) > 0)) break;
    if (rule.minProbability !== null && probabilities[i]! < rule.minProbability) continue;
    contacts++;
    profit += (responded[i] === 1 ? values[i]! : 0) - rule.costPerContact;
  }
  return contacts > 0 ? profit - fixedCost : 0;
}

/**
 * The `evaluate` of {@link retrainAndPromote}: scores a bundle (ONNX or tfjs, as scoring does) on
 * labelled holdout rows and returns AUC, ECE and the holdout profit of the economics' selection.
 * Pass the same `economics` for champion and challenger so profits compare like with like
 * (default: the bundle's own). Rows the encoder rejects, or whose label is missing or not one of
 * the model's classes, are left out.
 *
 * @throws TrainingError when the holdout has no target column or no usable row.
 */
export async function evaluateOnHoldout(
  bundle: CandidateBundle,
  holdout: LabelledHoldout,
  options: { readonly loadModel: ModelLoader; readonly economics?: CampaignEconomics },
): Promise<ModelEvaluation> {
  const { manifest } = bundle;
  const fitted = manifest.featureSpec;
  const target = targetColumn(fitted.spec);
  const encoder = compileEncoder(fitted, holdout.header, holdout.source);
  if (!target || encoder.targetIndex === null) {
    throw new TrainingError(`${holdout.source} has no target column to evaluate ${manifest.name}@${manifest.version} on`, { isInputError: true });
  }
  const economics = options.economics ?? manifest.economics;
  const valueColumn = typeof economics.valuePerResponse === 'object' ? encoder.valueIndex(economics.valuePerResponse.column) : -1;
  const constantValue = typeof economics.valuePerResponse === 'number' ? economics.valuePerResponse : 0;
  const gainShare = economics.saveRate ?? 1;
  const classIndex = new Map(manifest.classes.map((c, i) => [c, i]));
  const markers = missingMarkers(target);

  // Errors add the version to the location themselves.
  const loaded = await loadBundle({ ...bundle, location: manifest.name }, options.loadModel);
  try {
    const outputWidth = loaded.model.outputWidth;
    const probabilities = new Float32Array(holdout.records.length * outputWidth);
    const labels = new Int32Array(holdout.records.length);
    const values = new Float64Array(holdout.records.length);
    const batch = new EncodedBatch(encoder, BATCH_ROWS);
    let rows = 0;
    const flush = async () => {
      const filled = batch.rows;
      if (filled === 0) return;
      probabilities.set(await batch.scoreAndClear(loaded.model), (rows - filled) * outputWidth);
    };
    for (const record of holdout.records) {
      const label = (record[encoder.targetIndex] ?? '').trim();
      const k = markers.has(label) ? undefined : classIndex.get(label);
      if (k === undefined) continue;
      if (batch.add(record)) continue;
      const value = valueColumn >= 0 ? Number(record[valueColumn]) : constantValue;
      labels[rows] = k;
      values[rows] = Number.isFinite(value) ? value * gainShare : 0;
      rows++;
      if (batch.full) await flush();
    }
    await flush();
    if (rows === 0) throw new TrainingError(`${holdout.source} has no labelled row that ${manifest.name}@${manifest.version} can score`, { isInputError: true });

    const p = probabilities.subarray(0, rows * outputWidth);
    const y = labels.subarray(0, rows);
    const evaluation = evaluateClassifier({ values: p, rows, width: outputWidth }, y, manifest.classes);
    const expectedProfit =
      manifest.task === 'binary' && outputWidth === 1
        ? holdoutProfit(p, y, values.subarray(0, rows), selectionRuleFor(economics), economics.fixedCost)
        : Number.NaN;
    return { auc: evaluation.rocAuc, expectedProfit, ece: evaluation.expectedCalibrationError, rows };
  } finally {
    await loaded.model.dispose();
  }
}
