import type { RejectReason } from '../errors.js';
import type { CampaignEconomics } from '../economics/campaignEconomics.js';
import type { CampaignFigures, CampaignRoi } from '../economics/campaignRoi.js';
import type { DecileRow, ScoreDistribution, ScoreHistogram } from '../economics/scoreHistogram.js';
import type { ProfitPoint } from '../economics/profitCurve.js';
import type { SegmentSummary } from '../economics/segmentSelection.js';
import type { LabelledEvaluation } from '../evaluation/labelledEvaluation.js';
import type { LongLayoutCounts } from '../extract/longLayout.js';
import type { LoadedBundle } from './loadBundle.js';
import type { ScoredPart } from './scoredPart.js';

/** `summary.json`: what a run read, scored, rejected and chose, and what it should earn. */
export interface RunSummary {
  readonly status: 'complete';
  readonly source: string;
  readonly model: { readonly name: string; readonly version: string; readonly task: 'binary' | 'multiclass'; readonly location: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /**
   * read = scored + rejected, always, counted in lines of the file. For a long extract (one row per
   * customer per period) `scored` is the rows of scored customers; `longLayout` counts the customers.
   */
  readonly rows: { readonly read: number; readonly scored: number; readonly rejected: number; readonly rejectReasons: Partial<Record<RejectReason, number>> };
  /** Values not seen in training, per categorical feature (scored as `other`). */
  readonly unseenCategories: Record<string, number>;
  /** Missing cells per input column among scored rows, filled by the spec's imputation. */
  readonly imputed?: Record<string, number>;
  /** Present when the extract carried the spec's target column: the scores against those outcomes. */
  readonly labels?: LabelledEvaluation;
  /** Only for a long extract: customers scored and rejected, and (customer, period) blocks imputed as missing. */
  readonly longLayout?: LongLayoutCounts;
  readonly delimiter: string;
  /** Whether CSV cells that a spreadsheet would run as a formula were neutralised (a leading `'`). */
  readonly csvInjectionProtection: boolean;
  readonly economics: CampaignEconomics;
  /** Binary: probabilities of the positive class; multiclass: confidence of the predicted segment. */
  readonly scoreDistribution: ScoreDistribution;
  readonly deciles: DecileRow[] | null;
  readonly campaign: CampaignRoi | null;
  /** Binary: expected profit against customers contacted, best score first (see `economics/profitCurve.ts`); absent for multiclass. */
  readonly profitCurve?: readonly ProfitPoint[];
  /** How many customers the target list holds. */
  readonly selected: number;
  readonly segments: SegmentSummary[] | null;
  /** The contact policy's exclusions; absent for a run without suppression lists or control group. */
  readonly policy?: ContactPolicySummary;
}

/**
 * What the contact policy took out, in the order it applies: suppressed customers (scored, never
 * candidates), then the budget, then the control split. `campaign.selection` is restated on the
 * customers actually contacted (targets.csv).
 */
export interface ContactPolicySummary {
  /** Scored customers found on a suppression list, per reason; null for a run with neither lists nor a frequency cap. */
  readonly suppression: { readonly customers: number; readonly byReason: Readonly<Record<string, number>> } | null;
  /** Scored customers over the frequency cap (and on no suppression list); null without a cap. */
  readonly overCap: number | null;
  /** The control group (control.csv) held out of the selection, with the expected figures had it been contacted; null without one. */
  readonly control: ({ readonly fraction: number; readonly salt: string } & CampaignFigures) | null;
  /** The selection before the control split (targets.csv + control.csv); null without a control group. */
  readonly selectedBeforeControl: number | null;
}

export function buildRunSummary(input: {
  parts: readonly ScoredPart[];
  bundle: LoadedBundle;
  economics: CampaignEconomics;
  source: string;
  startedAt: Date;
  /** The whole run's histogram: probabilities (binary) or confidences (multiclass). */
  histogram: ScoreHistogram;
  campaign: CampaignRoi | null;
  profitCurve?: readonly ProfitPoint[] | null;
  deciles: DecileRow[] | null;
  segments: SegmentSummary[] | null;
  /** Customers on the target list. */
  selected: number;
  policy?: ContactPolicySummary | null;
  /** The scores against the extract's labels; null when it had none. */
  labels?: LabelledEvaluation | null;
}): RunSummary {
  const { parts, bundle, campaign, segments } = input;
  const rows = { read: 0, scored: 0, rejected: 0, rejectReasons: {} as Partial<Record<RejectReason, number>> };
  const unseen: Record<string, number> = {};
  const imputed: Record<string, number> = {};
  let long: { customersScored: number; customersRejected: number; missingPeriods: number } | undefined;
  for (const part of parts) {
    if (part.longLayout) {
      long ??= { customersScored: 0, customersRejected: 0, missingPeriods: 0 };
      long.customersScored += part.longLayout.customersScored;
      long.customersRejected += part.longLayout.customersRejected;
      long.missingPeriods += part.longLayout.missingPeriods;
    }
    rows.read += part.rowsRead;
    rows.scored += part.rowsScored;
    rows.rejected += part.rowsRejected;
    for (const [reason, count] of Object.entries(part.rejectReasons) as Array<[RejectReason, number]>) {
      rows.rejectReasons[reason] = (rows.rejectReasons[reason] ?? 0) + count;
    }
    for (const [column, count] of Object.entries(part.unseenCategories)) unseen[column] = (unseen[column] ?? 0) + count;
    for (const [column, count] of Object.entries(part.imputed)) imputed[column] = (imputed[column] ?? 0) + count;
  }
  if (rows.read !== rows.scored + rows.rejected) {
    throw new Error(`row accounting broke: read ${rows.read} ≠ scored ${rows.scored} + rejected ${rows.rejected}`);
  }
  const finishedAt = new Date();
  return {
    status: 'complete',
    source: input.source,
    model: { name: bundle.manifest.name, version: bundle.manifest.version, task: bundle.manifest.task, location: bundle.location },
    startedAt: input.startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - input.startedAt.getTime(),
    rows,
    unseenCategories: unseen,
    imputed,
    ...(input.labels ? { labels: input.labels } : {}),
    ...(long ? { longLayout: long } : {}),
    delimiter: parts[0]!.delimiter,
    csvInjectionProtection: parts[0]!.csvInjectionProtection,
    economics: input.economics,
    scoreDistribution: input.histogram.distribution(),
    deciles: input.deciles,
    campaign,
    ...(input.profitCurve ? { profitCurve: input.profitCurve } : {}),
    selected: input.selected,
    segments,
    ...(input.policy ? { policy: input.policy } : {}),
  };
}
