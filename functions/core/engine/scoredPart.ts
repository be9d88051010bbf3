import type { RejectReason } from '../errors.js';
import type { CampaignAccumulator } from '../economics/campaignAccumulator.js';
import type { ScoreHistogram } from '../economics/scoreHistogram.js';
import type { SegmentSelector } from '../economics/segmentSelection.js';
import type { RunProfile } from '../drift/runProfile.js';
import type { Spool } from './spool.js';

/**
 * What scoring one extract (or one part of it) produced, before the outputs are written: made by
 * `scorePart`, merged in file order by `writeRunOutputs`. Its own module, so that the summary,
 * the profile and both halves of the engine share it without importing one another.
 */
export interface ScoredPart {
  readonly source: string;
  readonly task: 'binary' | 'multiclass';
  readonly rowsRead: number;
  readonly rowsScored: number;
  readonly rowsRejected: number;
  readonly rejectReasons: Partial<Record<RejectReason, number>>;
  readonly unseenCategories: Record<string, number>;
  readonly delimiter: string;
  /** Whether the part's spooled CSV cells were neutralised against formula injection. */
  readonly csvInjectionProtection: boolean;
  /** Binary: histogram, policy selection and best selection. */
  readonly campaign: CampaignAccumulator | null;
  /** Multiclass: segments and the confidence histogram that gives deciles. */
  readonly segments: SegmentSelector | null;
  readonly confidence: ScoreHistogram | null;
  /** What this part saw, on the bundle's drift baseline; null for a bundle without a baseline. */
  readonly profile: RunProfile | null;
  /** The part's scored lines and reject lines, closed; the holder of the part disposes of it. */
  readonly spool: Spool;
}
