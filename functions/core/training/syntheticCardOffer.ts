import { createRng, shuffleInPlace, type Rng } from './seededRandom.js';
import type { TrainingSpecInput } from './trainingSpec.js';
import type { TrainingTable } from './trainingTable.js';

/**
 * A seeded, synthetic stand-in for the card-offer response job, whose real data is private:
 * customers × months of a few dozen card behaviours, and whether the customer took up a premium
 * travel card when offered. Responders follow a learnable pattern that lives in the *sequence*:
 * a travel-planning event in the last months (rising travel and foreign spend, more app use),
 * on top of steady traits (affluence, travel affinity, digital engagement, financial stress) that
 * only show through noisy monthly behaviour.
 */

/** Monthly behaviours, in file and slot order. */
export const CARD_OFFER_BEHAVIOURS = [
  'spend_groceries',
  'spend_travel',
  'spend_dining',
  'spend_online',
  'spend_fuel',
  'spend_entertainment',
  'spend_utilities',
  'spend_electronics',
  'txn_count',
  'atm_withdrawals',
  'avg_balance',
  'credit_utilization',
  'payment_ratio',
  'late_payment',
  'app_logins',
  'web_visits',
  'support_calls',
  'emails_opened',
  'offers_clicked',
  'cashback_earned',
  'foreign_txn',
  'contactless_share',
  'rewards_redeemed',
  'salary_credit',
] as const;

export interface CardOfferOptions {
  /** @default 20000 */
  readonly customers?: number;
  /** @default 10 */
  readonly months?: number;
  /** @default 7 */
  readonly seed?: number;
  /** Share of monthly cells left empty, as real extracts have. @default 0.003 */
  readonly missingRate?: number;
  /** First customer id. @default 100001 */
  readonly firstId?: number;
}

/** Standard normal draw (Box–Muller). */
function gaussian(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const round2 = (v: number) => (Math.round(v * 100) / 100).toFixed(2);

/** Column names: `customer_id`, then `<behaviour>_m<month>` behaviour by behaviour, then `responded`. */
export function cardOfferHeader(months = 10): string[] {
  const header = ['customer_id'];
  for (const behaviour of CARD_OFFER_BEHAVIOURS) for (let m = 1; m <= months; m++) header.push(`${behaviour}_m${m}`);
  header.push('responded');
  return header;
}

/**
 * Generates the table in memory (rows of strings, as a CSV reader would return them).
 * @example
 * const table = generateCardOfferTable({ customers: 2000, seed: 1 }); // ~9 % responders
 */
export function generateCardOfferTable(options: CardOfferOptions = {}): TrainingTable & { readonly responders: number } {
  const customers = options.customers ?? 20000;
  const months = options.months ?? 10;
  const missingRate = options.missingRate ?? 0.003;
  const firstId = options.firstId ?? 100001;
  const rng = createRng(options.seed ?? 7);
  const header = cardOfferHeader(months);
  const records: string[][] = [];
  const B = CARD_OFFER_BEHAVIOURS.length;
  const values = new Float64Array(B * months);
  let responders = 0;

  for (let c = 0; c < customers; c++) {
    const affluence = gaussian(rng);
    const travel = gaussian(rng);
    const digital = gaussian(rng);
    const stress = gaussian(rng);
    // A travel-planning event in some month (or none): the sequence signal.
    const eventMonth = rng() < 0.22 ? 1 + Math.floor(rng() * months) : 0;
    const recentEvent = eventMonth > 0 && eventMonth > months - 4;
    let ar = 0;
    for (let m = 1; m <= months; m++) {
      ar = 0.6 * ar + 0.4 * gaussian(rng);
      const event = eventMonth > 0 && m >= eventMonth ? 1 : 0;
      const seasonal = Math.sin((2 * Math.PI * m) / 12);
      const noise = () => 0.35 * gaussian(rng);
      const put = (b: number, v: number) => {
        values[b * months + (m - 1)] = v;
      };
      put(0, Math.exp(5.6 + 0.25 * affluence + 0.1 * ar + noise()));
      put(1, Math.exp(3.2 + 0.55 * travel + 0.3 * affluence + 1.1 * event + 0.3 * seasonal + noise()));
      put(2, Math.exp(4.1 + 0.35 * affluence + 0.15 * travel + noise()));
      put(3, Math.exp(4.0 + 0.45 * digital + 0.2 * affluence + 0.4 * event + noise()));
      put(4, Math.exp(3.9 + 0.1 * affluence + noise()));
      put(5, Math.exp(3.3 + 0.3 * affluence + 0.2 * digital + noise()));
      put(6, Math.exp(4.6 + 0.15 * affluence + 0.5 * noise()));
      put(7, Math.exp(2.6 + 0.4 * affluence + 0.3 * digital + 1.2 * noise()));
      put(8, Math.max(0, Math.round(38 + 8 * affluence + 6 * digital + 3 * ar + 5 * gaussian(rng))));
      put(9, Math.max(0, Math.round(3 - 1.2 * digital + 0.8 * stress + 1.5 * gaussian(rng))));
      put(10, Math.exp(7.2 + 0.8 * affluence - 0.5 * stress + 0.2 * ar + noise()));
      put(11, Math.min(1, Math.max(0, 0.32 + 0.14 * stress - 0.05 * affluence + 0.05 * ar + 0.04 * gaussian(rng))));
      put(12, Math.min(1, Math.max(0, 0.72 - 0.16 * stress + 0.08 * affluence + 0.08 * gaussian(rng))));
      put(13, rng() < sigmoid(-3.2 + 1.1 * stress) ? 1 : 0);
      put(14, Math.max(0, Math.round(9 + 4 * digital + 3 * event + 2.5 * gaussian(rng))));
      put(15, Math.max(0, Math.round(4 + 2 * digital + 2 * event * (travel > 0 ? 1 : 0.5) + 1.5 * gaussian(rng))));
      put(16, Math.max(0, Math.round(0.5 + 0.5 * stress + 0.7 * gaussian(rng))));
      put(17, Math.max(0, Math.round(2 + 1.2 * digital + 1.2 * gaussian(rng))));
      put(18, Math.max(0, Math.round(0.6 + 0.5 * digital + 0.4 * travel + 0.6 * event + 0.7 * gaussian(rng))));
      put(19, Math.max(0, 0.01 * (values[0 * months + m - 1]! + values[1 * months + m - 1]! + values[2 * months + m - 1]!) * (1 + 0.1 * gaussian(rng))));
      put(20, Math.max(0, Math.round(0.4 + 0.6 * travel + 2.2 * event + 0.8 * gaussian(rng))));
      put(21, Math.min(1, Math.max(0, 0.55 + 0.1 * digital + 0.08 * gaussian(rng))));
      put(22, rng() < sigmoid(-2.2 + 0.6 * affluence + 0.4 * digital) ? 1 : 0);
      put(23, rng() < 0.93 - 0.05 * Math.max(0, stress) ? 1 : 0);
    }
    // Response: steady traits plus the recent event, seen only through the behaviours above.
    const z = -3.3 + 0.75 * travel + 0.45 * affluence + 0.35 * digital - 0.6 * stress + (recentEvent ? 2.4 : eventMonth > 0 ? 0.5 : 0);
    const responded = rng() < sigmoid(z);
    if (responded) responders++;

    const record: string[] = [String(firstId + c)];
    for (let b = 0; b < B; b++) {
      for (let m = 0; m < months; m++) {
        const v = values[b * months + m]!;
        record.push(rng() < missingRate ? '' : Number.isInteger(v) ? String(v) : round2(v));
      }
    }
    record.push(responded ? 'yes' : 'no');
    records.push(record);
  }
  return { source: `synthetic card-offer (seed ${options.seed ?? 7}, ${customers} customers)`, header, records, responders };
}

/** The table as comma-separated CSV lines with a header (no field needs quoting), for writing to a file. */
export function* cardOfferCsvLines(table: TrainingTable): Generator<string> {
  yield `${table.header!.join(',')}\n`;
  for (const record of table.records) yield `${record.join(',')}\n`;
}

/**
 * The same customers in the *long* layout a bank's statement table exports: `customer_id, period,
 * <behaviour>…, responded`, one row per customer and month (`period` 1…10), customers in table
 * order, each customer's rows in a seeded random order, and `responded` on the customer's last row
 * only. Read with the card-offer spec's `long` block, it gives the wide table's cells exactly.
 * `dropMonths` leaves out those (customer index, month) rows, for missing periods.
 */
export function* cardOfferLongCsvLines(
  table: TrainingTable,
  options: { readonly seed?: number; readonly months?: number; readonly dropMonths?: ReadonlyArray<readonly [customer: number, month: number]> } = {},
): Generator<string> {
  const months = options.months ?? 10;
  const header = table.header!;
  const rng = createRng(options.seed ?? 11);
  const dropped = new Set((options.dropMonths ?? []).map(([c, m]) => `${c}:${m}`));
  const fieldOf = new Map(header.map((name, i) => [name, i]));
  yield `customer_id,period,${CARD_OFFER_BEHAVIOURS.join(',')},responded\n`;
  for (let c = 0; c < table.records.length; c++) {
    const record = table.records[c]!;
    const order = shuffleInPlace(Array.from({ length: months }, (_, m) => m + 1), rng).filter((m) => !dropped.has(`${c}:${m}`));
    for (let k = 0; k < order.length; k++) {
      const month = order[k]!;
      const cells = CARD_OFFER_BEHAVIOURS.map((b) => record[fieldOf.get(`${b}_m${month}`)!]!);
      const label = k === order.length - 1 ? record[fieldOf.get('responded')!]! : '';
      yield `${record[fieldOf.get('customer_id')!]!},${month},${cells.join(',')},${label}\n`;
    }
  }
}

/**
 * The training spec of the card-offer model: every monthly column in one sequence group
 * (`monthly`, `[months, behaviours]`), a Conv1D model, and offer economics.
 */
export function cardOfferSpec(months = 10): TrainingSpecInput {
  const columns: NonNullable<TrainingSpecInput['featureSpec']>['columns'] = [{ name: 'customer_id', role: 'id' }];
  const skewed = new Set(['spend_groceries', 'spend_travel', 'spend_dining', 'spend_online', 'spend_fuel', 'spend_entertainment', 'spend_utilities', 'spend_electronics', 'avg_balance', 'cashback_earned']);
  for (const behaviour of CARD_OFFER_BEHAVIOURS) {
    for (let m = 1; m <= months; m++) {
      columns.push({
        name: `${behaviour}_m${m}`,
        role: 'feature',
        type: 'numeric',
        ...(skewed.has(behaviour) ? { clip: { lowerQuantile: 0, upperQuantile: 0.99 } } : {}),
        sequence: { group: 'monthly', feature: behaviour, period: m },
      });
    }
  }
  columns.push({ name: 'responded', role: 'target', type: 'categorical' });
  return {
    schemaVersion: 1,
    name: 'card-offer',
    description: 'Response to a premium travel-card offer from 10 months of card behaviour (synthetic data: the real extract is private).',
    featureSpec: { file: { header: true, delimiter: ',' }, positiveClass: 'yes', columns, long: { periodColumn: 'period', periods: 'number' } },
    model: { kind: 'sequence', filters: 32, kernelSize: 3, convLayers: 1, pooling: 'flatten', layers: [32], activation: 'relu', dropout: 0.2, l2: 0, batchNorm: false },
    training: { seed: 42, epochs: 60, batchSize: 256, learningRate: 0.001, patience: 6, reduceLrPatience: 3, classWeights: 'none', calibration: 'auto' },
    search: {
      trials: 4,
      eta: 2,
      minEpochs: 4,
      space: { filters: [16, 32], kernelSize: [3, 4], dropout: [0.2, 0.3], learningRate: [0.0005, 0.001], batchSize: [128, 256] },
    },
    economics: { currency: 'EUR', costPerContact: 3, valuePerResponse: 90, policy: 'max-expected-profit' },
    notes: [
      'Trained on synthetic data from generateCardOfferTable (functions/core/training/syntheticCardOffer.ts): the real card-offer extract is private.',
      'Input is [10 months, 24 behaviours]: columns <behaviour>_m1 … _m10 form the sequence group "monthly".',
    ],
  };
}
