import { PropensityError } from '../core/errors.js';
import type { ExtractLayout } from '../core/engine/scorePart.js';
import type { ExtractPart } from '../core/extract/planParts.js';

/**
 * What the score function hands to the state machine (its StartExecution input): where the extract
 * is, which version, and where the run writes. Names and ids only, never customer data.
 */
export interface FanOutRun {
  readonly bucket: string;
  readonly key: string;
  readonly etag?: string | undefined;
  readonly versionId?: string | undefined;
  readonly model: string;
  readonly runId: string;
  /** Bucket of the run's outputs (the data bucket). */
  readonly outputBucket: string;
  /** `outputs/<model>/<run-id>/`, with its trailing slash. */
  readonly outputPrefix: string;
}

/** One item of the Distributed Map: a line-aligned byte range of the extract. */
export interface PlannedPart extends ExtractPart {
  /** 0-based position in file order; the merge reads the parts in this order. */
  readonly index: number;
}

/**
 * The run as the plan step fixes it for every later step: the model version (a champion promoted
 * mid-run does not change it), the economics, the extract's layout and when the run started.
 */
export interface PlannedRun extends FanOutRun {
  readonly modelVersion: string;
  readonly bundleOrigin: 'registry' | 'bundled';
  /** The resolved campaign economics (bundle, or the extract's sidecar): plain JSON. */
  readonly economics: unknown;
  readonly layout: ExtractLayout;
  readonly startedAt: string;
  readonly partCount: number;
  /** Owner id of the run's `_LOCK`, released by the merge or abort step. */
  readonly lockOwner: string;
}

/** The plan step's result: the state machine maps over `parts`, each item carrying `run` too. */
export interface RunPlan {
  readonly run: PlannedRun;
  readonly parts: readonly PlannedPart[];
}

/** Input of the part step (one Distributed Map item). */
export interface PartTask {
  readonly run: PlannedRun;
  readonly part: PlannedPart;
}

/** What a part step returns to the state machine: counts only (the map discards them). */
export interface PartResult {
  readonly index: number;
  readonly rowsRead: number;
  readonly rowsScored: number;
  readonly rowsRejected: number;
}

/**
 * Input of the abort step: the run as far as it is known (the plan's, or the execution input when
 * the plan itself failed) and the error Step Functions caught (`{ Error, Cause }`).
 */
export interface AbortTask {
  readonly run: FanOutRun & Partial<PlannedRun>;
  readonly error?: { readonly Error?: string; readonly Cause?: string } | undefined;
}

/** Parts per plan at most. Items travel inline in the state (256 KiB): ~100 bytes each leaves ample room. */
export const MAX_INLINE_PARTS = 1000;

/** Step Functions execution names: at most 80 characters. */
const MAX_EXECUTION_NAME = 80;

/**
 * The execution name of a run: its run id (file stem + 12 hex digits of sha256(key, version)) with
 * every character Step Functions or CloudWatch would refuse replaced by `_`, the stem shortened so
 * the name fits 80 characters. The same object version always gets the same name, so a redelivered
 * event cannot start a second execution (StartExecution answers ExecutionAlreadyExists).
 * @example executionNameFor('bank-full-3f2a9c0d1e2b') // 'bank-full-3f2a9c0d1e2b'
 */
export function executionNameFor(runId: string): string {
  const safe = runId.replace(/[^A-Za-z0-9_-]/g, '_');
  if (safe.length <= MAX_EXECUTION_NAME) return safe;
  // Keep the digest (the unique end) and as much of the stem as fits.
  const digest = safe.slice(-13);
  return `${safe.slice(0, MAX_EXECUTION_NAME - digest.length)}${digest}`;
}

/** `<outputPrefix>_parts/`: everything the part steps write (reject rows included: customer data). */
export function partsPrefixOf(run: Pick<FanOutRun, 'outputPrefix'>): string {
  return `${run.outputPrefix}_parts/`;
}

/** `<outputPrefix>_parts/<index>/`: one part's `part.json`, its spool channels and, if it failed, `error.json`. */
export function partPrefixOf(run: Pick<FanOutRun, 'outputPrefix'>, index: number): string {
  return `${partsPrefixOf(run)}${index}/`;
}

/** Where the plan step records its own failure (it may not write the run's outputs). */
export function planErrorKeyOf(run: Pick<FanOutRun, 'outputPrefix'>): string {
  return `${partsPrefixOf(run)}plan/error.json`;
}

/** A fanned-out run failed in a step whose own error was not recorded (a timeout, a crash). */
export class FanOutError extends PropensityError {
  readonly step: string;
  constructor(step: string, message: string, options: { cause?: unknown; isInputError?: boolean } = {}) {
    super('FAN_OUT_FAILED', message, { isInputError: false, ...options });
    this.step = step;
  }

  protected override context(): Record<string, unknown> {
    return { step: this.step };
  }
}

/**
 * Thrown by a step handler for a failure that a retry could fix (S3, network, internal): the state
 * machine retries only this error name (and Lambda's own service errors), never a bad input.
 */
export class RetryableStepError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'RetryableStepError';
  }
}
