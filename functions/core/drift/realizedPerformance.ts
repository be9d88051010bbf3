import type { CampaignCosts } from '../economics/campaignRoi.js';
import { ExtractError } from '../errors.js';
import { rocAuc } from '../evaluation/metrics.js';

/** One scored customer whose outcome is now known. */
export interface LabelledScore {
  readonly probability: number;
  /** Whether the customer was on the run's target list (contacted). */
  readonly selected: boolean;
  readonly responded: boolean;
  /** Whether the customer was held out in the run's control group (control.csv); absent for a run without one. */
  readonly control?: boolean;
  /** Value of a response from this customer (the economics' constant or value column). */
  readonly value: number;
}

/** Expected (from the scores) and realized (from the labels) figures of one selection. */
export interface SelectionOutcome {
  readonly contacts: number;
  readonly responders: number;
  readonly expectedResponders: number;
  readonly precision: number | null;
  readonly expectedPrecision: number | null;
  readonly recall: number | null;
  readonly expectedRecall: number | null;
  readonly cost: number;
  readonly profit: number;
  readonly expectedProfit: number;
  /** profit / cost; null when nothing was spent. */
  readonly roi: number | null;
  readonly expectedRoi: number | null;
}

export interface RealizedPerformance {
  readonly rows: number;
  readonly responders: number;
  readonly responseRate: number | null;
  readonly expectedResponseRate: number | null;
  /** ROC AUC on the labels (ties count one half); null without both outcomes. */
  readonly auc: number | null;
  readonly selection: SelectionOutcome;
}

function aucOrNull(rows: readonly LabelledScore[]): number | null {
  const auc = rocAuc(
    rows.map((r) => r.probability),
    rows.map((r) => r.responded),
  );
  return Number.isNaN(auc) ? null : auc;
}

const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/**
 * Realized figures beside the expected ones once labels arrive: response rate, AUC, the
 * selection's precision and recall, and realized ROI beside expected ROI (same costs).
 *
 * @example
 * realizedPerformance(joined.rows, { costPerContact: 5, fixedCost: 0 }).selection.roi;
 */
export function realizedPerformance(rows: readonly LabelledScore[], costs: CampaignCosts): RealizedPerformance {
  let responders = 0;
  let expected = 0;
  let contacts = 0;
  let selectedResponders = 0;
  let selectedExpected = 0;
  let gain = 0;
  let expectedGain = 0;
  for (const row of rows) {
    if (row.responded) responders++;
    expected += row.probability;
    if (!row.selected) continue;
    contacts++;
    selectedExpected += row.probability;
    expectedGain += row.probability * row.value;
    if (row.responded) {
      selectedResponders++;
      gain += row.value;
    }
  }
  const cost = contacts > 0 ? costs.fixedCost + contacts * costs.costPerContact : 0;
  return {
    rows: rows.length,
    responders,
    responseRate: share(responders, rows.length),
    expectedResponseRate: share(expected, rows.length),
    auc: aucOrNull(rows),
    selection: {
      contacts,
      responders: selectedResponders,
      expectedResponders: selectedExpected,
      precision: share(selectedResponders, contacts),
      expectedPrecision: share(selectedExpected, contacts),
      recall: share(selectedResponders, responders),
      expectedRecall: share(selectedExpected, expected),
      cost,
      profit: gain - cost,
      expectedProfit: expectedGain - cost,
      roi: cost > 0 ? (gain - cost) / cost : null,
      expectedRoi: cost > 0 ? (expectedGain - cost) / cost : null,
    },
  };
}

/** Labelled outcomes by customer id, read from a `labels/<model>/*.csv` file. */
export interface OutcomeLabels {
  readonly outcomes: Map<string, boolean>;
  /**
   * From an optional `contact_date` column (`yyyy-mm-dd`): the UTC day of the run whose contact each
   * outcome answers. Absent when the file has no such column; customers with an empty cell are not in it.
   */
  readonly contactDay?: Map<string, string>;
  /** Rows whose outcome was empty. */
  readonly blank: number;
}

/** The optional column of a label file that names the day of the contact an outcome answers. */
export const CONTACT_DATE_COLUMN = 'contact_date';
const CONTACT_DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads labels (customer id + outcome) from parsed CSV records. An outcome equal to
 * `positiveClass` (case-insensitive, trimmed) is a response; any other non-empty value is not.
 * A later row for the same id overrides an earlier one (corrections are appended). With a
 * `contact_date` column, each outcome also names the day of the contact it answers.
 *
 * @throws ExtractError EXTRACT_MISSING_COLUMN when the id or outcome column is absent;
 *   EXTRACT_MALFORMED when a contact date is not `yyyy-mm-dd` (record number and column, never the value).
 */
export function readOutcomeLabels(
  header: readonly string[],
  records: Iterable<readonly string[]>,
  options: { readonly source: string; readonly idColumn: string; readonly outcomeColumn: string; readonly positiveClass: string },
): OutcomeLabels {
  const find = (name: string) => {
    const index = header.findIndex((h) => h.trim().toLowerCase() === name.toLowerCase());
    if (index < 0) {
      // The first line is not quoted: in a labels file without its header line it is a customer's id and outcome.
      const fields = `${header.length} field${header.length === 1 ? '' : 's'}`;
      throw new ExtractError('EXTRACT_MISSING_COLUMN', `labels need a "${name}" column; the first line has ${fields}, none named "${name}" (is the header line missing?)`, {
        file: options.source,
        line: 1,
        column: name,
      });
    }
    return index;
  };
  const idIndex = find(options.idColumn);
  const outcomeIndex = find(options.outcomeColumn);
  const dayIndex = header.findIndex((h) => h.trim().toLowerCase() === CONTACT_DATE_COLUMN);
  const positive = options.positiveClass.trim().toLowerCase();
  const outcomes = new Map<string, boolean>();
  const contactDay = dayIndex >= 0 ? new Map<string, string>() : undefined;
  let blank = 0;
  let recordNumber = 0;
  for (const record of records) {
    recordNumber++;
    const id = (record[idIndex] ?? '').trim();
    const outcome = (record[outcomeIndex] ?? '').trim().toLowerCase();
    if (id === '' || outcome === '') {
      blank++;
      continue;
    }
    outcomes.set(id, outcome === positive);
    if (!contactDay) continue;
    const day = (record[dayIndex] ?? '').trim();
    if (day === '') contactDay.delete(id);
    else if (CONTACT_DAY.test(day) && !Number.isNaN(Date.parse(day))) contactDay.set(id, day);
    else {
      throw new ExtractError('EXTRACT_MALFORMED', `record ${recordNumber}: the contact date is not a yyyy-mm-dd day`, { file: options.source, line: recordNumber + 1, column: CONTACT_DATE_COLUMN });
    }
  }
  return contactDay ? { outcomes, contactDay, blank } : { outcomes, blank };
}

/**
 * Joins labels with a run's scored customers (`scores.csv` probabilities, `targets.csv` membership).
 * Customers without a label are left out and counted, as are labels of customers the run did not score.
 */
export function joinOutcomes(
  labels: ReadonlyMap<string, boolean>,
  scored: Iterable<{ readonly id: string; readonly probability: number; readonly selected: boolean; readonly value: number }>,
): { rows: LabelledScore[]; unlabelled: number; unmatchedLabels: number } {
  const rows: LabelledScore[] = [];
  const seen = new Set<string>();
  let unlabelled = 0;
  for (const customer of scored) {
    const responded = labels.get(customer.id);
    if (responded === undefined) {
      unlabelled++;
      continue;
    }
    seen.add(customer.id);
    rows.push({ probability: customer.probability, selected: customer.selected, responded, value: customer.value });
  }
  return { rows, unlabelled, unmatchedLabels: labels.size - seen.size };
}
