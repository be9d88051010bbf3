import type { BundleFiles } from '../../core/bundle/registry.js';
import type { CampaignEconomics } from '../../core/economics/campaignEconomics.js';
import type { ErrorJson } from '../../core/errorJson.js';
import type { ExtractLayout, ScoreProgress } from '../../core/engine/scorePart.js';
import type { ScoredPartJson } from '../../core/engine/scoredPartJson.js';
import type { ExtractLimits } from '../../core/extract/extractLimits.js';
import type { ExtractPart } from '../../core/extract/planParts.js';
import type { SuppressionSnapshot } from '../../core/policy/suppressionList.js';
import type { PartSource } from './partSource.js';

/** What every worker of a run gets once, at its start (`workerData`): all of it structured-clonable. */
export interface PartWorkerData {
  /** The bundle's verified files: each worker loads its own model from them, once. */
  readonly bundle: BundleFiles;
  readonly economics: CampaignEconomics;
  /** The run's suppression set (its arrays are shared, not copied); null without suppression lists. */
  readonly suppression: SuppressionSnapshot | null;
  /** Customers over the frequency cap, likewise; null without a cap. */
  readonly overCap: SuppressionSnapshot | null;
  readonly extract: PartSource;
  /** File name or S3 URL, named by every error and reject. */
  readonly source: string;
  /** The run's temp folder: each part's spool is made inside it, so one `rm` removes them all. */
  readonly spoolParent: string;
  readonly runId?: string | undefined;
  readonly batchSize?: number | undefined;
  readonly csvInjectionProtection: boolean;
  readonly limits?: Partial<ExtractLimits> | undefined;
  /** Whether the first part runs the layout plausibility check (later parts never do). */
  readonly layoutCheck: boolean;
}

/** Main thread → worker: score one part (`layout` for every part but the first). */
export interface ScorePartRequest {
  readonly type: 'score';
  readonly index: number;
  readonly range: ExtractPart;
  readonly layout: ExtractLayout | null;
}

/**
 * Main thread → worker: render a scored part's rows as scores.csv rows, now that the run's deciles
 * are known, into `file` (in the part's spool folder). The first render frees the worker's model:
 * no part is scored after the merge has begun.
 */
export interface RenderPartRequest {
  readonly type: 'render';
  readonly index: number;
  readonly spoolDir: string;
  readonly file: string;
  readonly decileByBin: Uint8Array;
}

/** Main thread → worker: no more parts; dispose of the model and end. */
export interface CloseRequest {
  readonly type: 'close';
}

export type PartWorkerRequest = ScorePartRequest | RenderPartRequest | CloseRequest;

/** Worker → main thread. */
export type PartWorkerReply =
  | { readonly type: 'progress'; readonly index: number; readonly progress: ScoreProgress }
  | { readonly type: 'scored'; readonly index: number; readonly part: ScoredPartJson; readonly spoolDir: string }
  | { readonly type: 'rendered'; readonly index: number }
  | { readonly type: 'failed'; readonly index: number; readonly error: ErrorJson };
