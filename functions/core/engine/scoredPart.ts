import type { RejectReason } from '../errors.js';
import type { ScoreHistogram } from '../economics/scoreHistogram.js';
import type { SegmentSelector } from '../economics/segmentSelection.js';
import type { RunProfile } from '../drift/runProfile.js';
import type { LongLayoutCounts } from '../extract/longLayout.js';
import type { LabelTally } from '../evaluation/labelTally.js';
import type { Spool, SpoolChannel } from './spool.js';

/**
 * What scoring one extract (or one part of it) produced, before the outputs are written: made by
 * `scorePart`, merged in file order by `writeRunOutputs`. Its own module, so that the summary,
 * the profile and both halves of the engine share it without importing one another.
 *
 * Everything that grows with the rows is in the spool (scored lines, rejects, the sorted runs of
 * target candidates); what is kept in memory has a fixed size (histograms, counts, the profile).
 */
export interface ScoredPart {
  readonly source: string;
  readonly task: 'binary' | 'multiclass';
  /** Rows of the file; for a long extract too (see {@link longLayout} for its customers). */
  readonly rowsRead: number;
  readonly rowsScored: number;
  readonly rowsRejected: number;
  readonly rejectReasons: Partial<Record<RejectReason, number>>;
  readonly unseenCategories: Record<string, number>;
  /** Missing cells filled by imputation, per feature column, among the part's scored rows. */
  readonly imputed: Record<string, number>;
  /** The scored rows against the extract's own labels; null when the extract has no target column. */
  readonly labels: LabelTally | null;
  readonly delimiter: string;
  /** Whether the part's spooled CSV cells were neutralised against formula injection. */
  readonly csvInjectionProtection: boolean;
  /**
   * Binary: the probability histogram with values (gains, deciles, everyone's totals);
   * multiclass: the confidence histogram (deciles).
   */
  readonly histogram: ScoreHistogram;
  /** Multiclass: customers and confidence per segment (its ranked list is in the runs). */
  readonly segments: SegmentSelector | null;
  /** Spool channels holding the part's target candidates as sorted runs (see `rankedRuns.ts`). */
  readonly rankedRuns: readonly SpoolChannel[];
  /** What this part saw, on the bundle's drift baseline; null for a bundle without a baseline. */
  readonly profile: RunProfile | null;
  /** A long extract (one row per customer per period): its customers and the periods no row filled. */
  readonly longLayout?: LongLayoutCounts;
  /**
   * A long extract's part: the spool channel of its customers, ids sorted, with their lines (see
   * `crossPartCustomers.ts`), for the merge to refuse a customer whose rows are in two parts.
   */
  readonly customerIds?: SpoolChannel;
  /** Customers on a suppression list (scored, never candidates), with their totals; null for a run without suppression lists. */
  readonly suppressed: SuppressedTotals | null;
  /** The part's scored lines, reject lines and runs, closed; the holder of the part disposes of it. */
  readonly spool: Spool;
}

/** The suppressed customers of a part: how many, per reason, and Σp, Σp·v in fixed units (as `ContactTotals`). */
export interface SuppressedTotals {
  /** Every customer kept off the list: on a suppression list or over the frequency cap. */
  readonly customers: number;
  /** Of those, over the frequency cap (and on no list). */
  readonly overCap: number;
  readonly probabilityUnits: bigint;
  readonly gainMicros: bigint;
  /** Suppressed customers per list reason (over-cap ones not included). */
  readonly byReason: Readonly<Record<string, number>>;
}
