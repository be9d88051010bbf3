import { PropensityError } from '../errors.js';

/** The code of a failure that is not a {@link PropensityError} (a bug, a network error…). */
export const INTERNAL_ERROR_CODE = 'INTERNAL';

/**
 * A failure as plain JSON: name, code, message and the error's context (file, line, column,
 * bundle, key…), from `PropensityError.toJSON()`. Never the cause chain, which may quote a row.
 */
export interface ErrorDescription {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly [context: string]: unknown;
}

/**
 * The body of `error.json`, the same for every output target. The error sits in its own object so
 * that its context (`source`, `key`, `file`…) never collides with what a target adds beside it
 * (the S3 target adds the run's identity, as in its `_SUCCESS`).
 */
export interface RunFailure {
  readonly status: 'failed';
  readonly failedAt: string;
  /** Whether the same input could succeed on a retry (false for a bad input: fix it and drop it again). */
  readonly retryable: boolean;
  readonly error: ErrorDescription;
}

/** Whether retrying the same input could succeed: anything but a Propensity input error (S3, network, bugs). */
export function isRetryableError(error: unknown): boolean {
  return !(error instanceof PropensityError) || !error.isInputError;
}

/**
 * Describes any thrown value for `error.json` and structured logs.
 * @example describeError(new TypeError('boom')) // { name: 'TypeError', code: 'INTERNAL', message: 'boom' }
 */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof PropensityError) return error.toJSON() as unknown as ErrorDescription;
  if (error instanceof Error) return { name: error.name, code: INTERNAL_ERROR_CODE, message: error.message };
  return { name: 'Error', code: INTERNAL_ERROR_CODE, message: String(error) };
}

/**
 * The body of `error.json` for a run that failed with `error` at `failedAt`.
 * @example describeRunFailure(error, new Date()) // { status: 'failed', failedAt: '2026-…Z', retryable: false, error: { name, code, message, file, line } }
 */
export function describeRunFailure(error: unknown, failedAt: Date = new Date()): RunFailure {
  return { status: 'failed', failedAt: failedAt.toISOString(), retryable: isRetryableError(error), error: describeError(error) };
}
