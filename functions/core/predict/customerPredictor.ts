import { PredictRequestError, PropensityError, type RejectReason } from '../errors.js';
import { resolveEconomics, responseGain, responseValueOf, type CampaignEconomics } from '../economics/campaignEconomics.js';
import { MAX_VALUE_PER_RESPONSE, MONEY_SCALE, moneyUnits } from '../economics/fixedPoint.js';
import { budgetContacts, ruleTakes, selectionRuleFor, worthContacting } from '../economics/targetSelection.js';
import type { LoadedBundle } from '../engine/loadBundle.js';
import { featureColumns, idColumn } from '../spec/featureSpec.js';
import { compileEncoder } from '../spec/rowEncoder.js';
import { featureSlotGroups } from '../training/featureSlotGroups.js';
import { baselineDecileOf } from './baselineDecile.js';
import { EncodedBatch } from '../model/encodedBatch.js';
import type { CustomerRecord, PredictRequest } from './predictRequest.js';

/** Reasons given per customer with `explain: true`. */
export const REASONS_PER_CUSTOMER = 3;

/** One reason: how much this feature's value moved the score (see {@link CustomerPredictor}). */
export interface FeatureReason {
  /** The feature column (a sequence feature: `feature (group)`, all its periods at once). */
  readonly feature: string;
  /** Score with the customer's value − score with the value blanked (imputed); > 0 raised it. */
  readonly contribution: number;
}

interface PredictionBase {
  /** The spec's id column, or (a spec without one) the customer's 0-based index in the request. */
  readonly id: string;
  /** 1 (highest scores) … 10 against the bundle's baseline score distribution; null without one. */
  readonly decile: number | null;
  /** Whether the economics' policy takes this customer (its budget, a ranking, is the batch's: see the README). */
  readonly selected: boolean;
  /** With `explain: true`: the top {@link REASONS_PER_CUSTOMER} features by |contribution|. */
  readonly reasons?: FeatureReason[];
}

export interface BinaryPrediction extends PredictionBase {
  /** P(positive class), as the model gives it (batch prints it to 6 decimals). */
  readonly probability: number;
  /** The positive class when the customer is worth contacting at the bundle's economics (scores.csv's rule, `worthContacting`), else the negative one. */
  readonly predicted: string;
  /** p × value per response × saveRate − cost per contact, in the economics' currency (micro-unit exact, as targets.csv). */
  readonly expectedValue: number;
}

export interface SegmentPrediction extends PredictionBase {
  /** Probability per class. */
  readonly probabilities: Record<string, number>;
  /** The predicted class (highest probability; ties: the first class). */
  readonly segment: string;
  readonly confidence: number;
  /** The bundle's recommended action for the segment; null when it names none. */
  readonly action: string | null;
}

export type CustomerPrediction = BinaryPrediction | SegmentPrediction;

export interface PredictResponse {
  readonly model: string;
  readonly version: string;
  readonly task: 'binary' | 'multiclass';
  /** What `selected` and `expectedValue` were decided with (the bundle's economics). */
  readonly economics: {
    readonly currency: string;
    readonly policy: CampaignEconomics['policy'];
    /** Contacts a batch run's budget allows (it keeps the best that many); null: no cap. */
    readonly budgetContacts: number | null;
  };
  readonly customers: CustomerPrediction[];
}

/** Scores predict requests with one bundle: everything per version is built once, in {@link compilePredictor}. */
export interface CustomerPredictor {
  readonly model: string;
  readonly version: string;
  /**
   * Scores the request's customers, in order.
   * @throws PredictRequestError REQUEST_INVALID naming the customer's index and column (never its value)
   */
  predict(request: PredictRequest): Promise<PredictResponse>;
}

/** Why a cell was refused, in words that never quote it. */
const CELL_PROBLEMS: Partial<Record<RejectReason, string>> = {
  NOT_A_NUMBER: 'is not a number',
  NOT_A_DATE: 'is not an ISO date (YYYY-MM-DD)',
  NOT_A_BOOLEAN: "is not one of the column's true or false words",
  MISSING_REQUIRED: 'is empty, and the model takes no missing value there',
  MISSING_VALUE_COLUMN: `is not a number in [0, ${MAX_VALUE_PER_RESPONSE}] (the value per response)`,
};

/**
 * A customer's cell as the CSV reader would hand it over: a string as is, a number as its shortest
 * decimal text, null as an empty cell. The column is looked up as a header is (exact, else ignoring case).
 */
function cellOf(customer: CustomerRecord, column: string, index: number): string {
  let key: string | undefined = column;
  if (!Object.hasOwn(customer, key)) {
    const lower = column.toLowerCase();
    key = Object.keys(customer).find((name) => name.trim().toLowerCase() === lower);
  }
  if (key === undefined) throw new PredictRequestError('REQUEST_INVALID', 'is missing', { customer: index, column, reason: 'MISSING_COLUMN' });
  const value = customer[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value === null) return '';
  throw new PredictRequestError('REQUEST_INVALID', 'must be a JSON string, number or null', { customer: index, column, reason: 'NOT_A_CELL' });
}

/**
 * Builds what one bundle version needs to answer predict requests, once: the row encoder (the batch's,
 * over a header of the spec's id, feature and value columns), the economics, the baseline deciles and
 * the explanation groups. Every customer then goes the batch's way: the same cell parsers and encoder,
 * the same model, the same economics ({@link ruleTakes}, micro-unit expected values), so it scores
 * identically online and in a batch run.
 *
 * Explanations (`explain: true`) are by occlusion: for each feature, the customer is scored again
 * with that feature's cell blanked, which the encoder fills as it fills any missing cell (the
 * training median or most frequent category, plus the missing indicator where the spec has one);
 * the contribution is the score with the customer's value minus the score without it. Features the
 * model cannot take missing (required, `impute: none`) give no reason. All rows go to the model in one call.
 *
 * @throws ConfigError ECONOMICS_INVALID when the bundle's economics do not validate
 * @example
 * const predictor = compilePredictor(bundle);
 * const { customers } = await predictor.predict({ customers: [{ age: 41, job: 'technician', … }], explain: false });
 */
export function compilePredictor(bundle: LoadedBundle): CustomerPredictor {
  const { manifest, featureSpec, model } = bundle;
  const { spec } = featureSpec;
  const source = `predict ${manifest.name}@${manifest.version}`;
  const economics = resolveEconomics(manifest.economics, undefined, `${bundle.location}manifest.json`);
  const valueColumn = typeof economics.valuePerResponse === 'object' ? economics.valuePerResponse.column : null;
  const id = idColumn(spec);
  const header = [...new Set([...(id ? [id.name] : []), ...featureColumns(spec).map((c) => c.name), ...(valueColumn ? [valueColumn] : [])])];
  const encoder = compileEncoder(featureSpec, header, source);
  const valueIndex = valueColumn ? header.indexOf(valueColumn) : -1;
  const constantValue = typeof economics.valuePerResponse === 'number' ? responseGain(economics, economics.valuePerResponse) : 0;
  const rule = selectionRuleFor(economics);
  const costMicros = moneyUnits(economics.costPerContact);
  // A multiclass run lists every customer by confidence (within maxContacts): selected unless that is 0.
  const segmentSelected = economics.budget.maxContacts !== 0;
  const decileOf = baselineDecileOf(bundle.baseline);
  const { groups, columnsOf } = featureSlotGroups(featureSpec);
  const explainGroups = groups.map((group) => ({ name: group.name, fields: columnsOf.get(group.name)!.map((name) => header.indexOf(name)) }));

  const multiclass = manifest.task === 'multiclass';
  const { classes } = manifest;
  const positive = manifest.positiveClass ?? classes[1]!;
  const negative = classes.find((c) => c !== positive) ?? classes[0]!;
  const worth = worthContacting(economics);
  const out = model.outputWidth;
  const summary = { currency: economics.currency, policy: economics.policy, budgetContacts: budgetContacts(economics) };

  /** The score a customer is ranked on: P(positive), or the top class (index and probability). */
  const scoreOf = (probabilities: Float32Array, row: number): { top: number; score: number } => {
    if (!multiclass) {
      const p = probabilities[row]!;
      if (!(p >= 0 && p <= 1)) throw new PropensityError('MODEL_SHAPE_MISMATCH', `model returned ${p}, not a probability`, { isInputError: false });
      return { top: 0, score: p };
    }
    let top = 0;
    for (let k = 1; k < out; k++) if (probabilities[row * out + k]! > probabilities[row * out + top]!) top = k;
    return { top, score: Math.min(1, Math.max(0, probabilities[row * out + top]!)) };
  };

  return {
    model: manifest.name,
    version: manifest.version,
    async predict(request) {
      const { customers, explain } = request;
      const n = customers.length;
      const perCustomer = explain ? 1 + explainGroups.length : 1;
      // Each customer's row, then each customer's occluded copies (one per explained group).
      const batch = new EncodedBatch(encoder, n * perCustomer);
      const ids = new Array<string>(n);
      const values = new Float64Array(n);
      // Per customer and group: whether the blanked row encoded (a feature that cannot be missing gives no reason).
      const occluded = new Uint8Array(explain ? n * explainGroups.length : 0);
      for (let i = 0; i < n; i++) {
        const fields = header.map((column) => cellOf(customers[i]!, column, i));
        // The value column first, as a batch run checks it.
        if (valueIndex >= 0) {
          const value = responseValueOf(fields[valueIndex]!);
          if (value === null) throw cellError(i, valueColumn!, 'MISSING_VALUE_COLUMN');
          values[i] = responseGain(economics, value);
        } else values[i] = constantValue;
        const issue = batch.encodeAt(i, fields);
        if (issue) throw cellError(i, issue.column, issue.reason);
        ids[i] = encoder.idIndex === null ? String(i) : fields[encoder.idIndex]!.trim();
        if (explain) {
          explainGroups.forEach((group, g) => {
            const blanked = [...fields];
            for (const field of group.fields) blanked[field] = '';
            const row = n + i * explainGroups.length + g;
            occluded[i * explainGroups.length + g] = batch.encodeAt(row, blanked) ? 0 : 1;
          });
        }
      }
      const probabilities = await batch.scoreAndClear(model, n * perCustomer);

      const predictions = customers.map((_, i): CustomerPrediction => {
        const { top, score } = scoreOf(probabilities, i);
        const reasons = explain ? reasonsFor(i, top, score) : undefined;
        const decile = decileOf?.(score) ?? null;
        if (multiclass) {
          const segment = classes[top]!;
          const byClass = Object.fromEntries(classes.map((c, k) => [c, probabilities[i * out + k]!]));
          return { id: ids[i]!, probabilities: byClass, segment, confidence: score, action: manifest.actions?.[segment] ?? null, decile, selected: segmentSelected, ...(reasons ? { reasons } : {}) };
        }
        const evMicros = moneyUnits(score * values[i]!) - costMicros;
        return {
          id: ids[i]!,
          probability: score,
          predicted: worth(score, evMicros) ? positive : negative,
          decile,
          expectedValue: evMicros / MONEY_SCALE,
          selected: ruleTakes(rule, score, evMicros),
          ...(reasons ? { reasons } : {}),
        };
      });
      return { model: manifest.name, version: manifest.version, task: manifest.task, economics: summary, customers: predictions };

      function reasonsFor(i: number, top: number, score: number): FeatureReason[] {
        const reasons: FeatureReason[] = [];
        explainGroups.forEach((group, g) => {
          const slot = i * explainGroups.length + g;
          if (!occluded[slot]) return;
          const row = n + slot;
          const without = multiclass ? probabilities[row * out + top]! : probabilities[row]!;
          const contribution = score - without;
          if (contribution !== 0) reasons.push({ feature: group.name, contribution });
        });
        // Largest effect first; a stable sort keeps spec order between equal ones.
        return reasons.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution)).slice(0, REASONS_PER_CUSTOMER);
      }
    },
  };
}

function cellError(customer: number, column: string, reason: RejectReason): PredictRequestError {
  return new PredictRequestError('REQUEST_INVALID', CELL_PROBLEMS[reason] ?? 'cannot be read', { customer, column, reason });
}

const predictors = new WeakMap<LoadedBundle, CustomerPredictor>();

/** The predictor of a loaded bundle, compiled on first use and kept as long as the bundle is. */
export function predictorFor(bundle: LoadedBundle): CustomerPredictor {
  let predictor = predictors.get(bundle);
  if (!predictor) predictors.set(bundle, (predictor = compilePredictor(bundle)));
  return predictor;
}
