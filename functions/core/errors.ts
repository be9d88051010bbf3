/**
 * One error tree for Propensity.
 *
 * A bad *file* (missing column, not CSV, truncated gzip, bad bundle) is one `PropensityError`
 * subclass with a `code` and the context that explains it. A bad *row* is data: it goes to the
 * rejects file with a {@link RejectReason}, never an exception.
 */

export type PropensityErrorCode =
  | 'EXTRACT_EMPTY'
  | 'EXTRACT_NO_ROWS'
  | 'EXTRACT_ENCODING'
  | 'EXTRACT_COMPRESSION'
  | 'EXTRACT_MALFORMED'
  | 'EXTRACT_MISSING_COLUMN'
  | 'EXTRACT_KEY_INVALID'
  | 'EXTRACT_DELIMITER'
  | 'EXTRACT_DUPLICATE_COLUMN'
  | 'EXTRACT_TOO_MANY_REJECTS'
  | 'EXTRACT_TOO_LARGE'
  | 'EXTRACT_LAYOUT_SUSPECT'
  | 'EXTRACT_CUSTOMER_NOT_CONSECUTIVE'
  | 'SPEC_INVALID'
  | 'SPEC_NOT_FITTED'
  | 'FIT_FAILED'
  | 'BUNDLE_INVALID'
  | 'BUNDLE_HASH_MISMATCH'
  | 'BUNDLE_NOT_FOUND'
  | 'MODEL_LOAD_FAILED'
  | 'MODEL_SHAPE_MISMATCH'
  | 'ECONOMICS_INVALID'
  | 'CONFIG_INVALID'
  | 'OUTPUT_FAILED'
  | 'TRAINING_FAILED'
  | 'DRIFT_INPUT_INVALID'
  | 'SCHEDULED_RUN_FAILED'
  | 'RUN_IN_PROGRESS'
  | 'FAN_OUT_FAILED'
  | 'REQUEST_INVALID'
  | 'REQUEST_TOO_LARGE'
  | 'SUPPRESSION_INVALID'
  | 'USAGE';

/** Where in an input file a problem sits. Lines and columns are 1-based, as an editor shows them. */
export interface FileLocation {
  readonly file: string;
  readonly line?: number;
  /** 1-based field index in the record, or the column name when that is more useful. */
  readonly column?: number | string;
}

export class PropensityError extends Error {
  readonly code: PropensityErrorCode;
  /** Whether the caller, not Propensity, is at fault (exit code 2 in the CLI, no retry in Lambda). */
  readonly isInputError: boolean;

  constructor(code: PropensityErrorCode, message: string, options: { cause?: unknown; isInputError?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.isInputError = options.isInputError ?? true;
  }

  /** Plain JSON for `error.json` and structured logs. */
  toJSON(): Record<string, unknown> {
    const { name, code, message } = this;
    return { name, code, message, ...this.context() };
  }

  protected context(): Record<string, unknown> {
    return {};
  }
}

function describeLocation(loc: FileLocation): string {
  let text = loc.file;
  if (loc.line !== undefined) text += `:${loc.line}`;
  if (loc.column !== undefined) text += typeof loc.column === 'number' ? `:${loc.column}` : ` (column "${loc.column}")`;
  return text;
}

/** The extract as a whole cannot be read: empty, not UTF-8, truncated gzip, missing column, unparseable CSV. */
export class ExtractError extends PropensityError {
  readonly location: FileLocation;

  constructor(
    code: Extract<PropensityErrorCode, `EXTRACT_${string}`>,
    message: string,
    location: FileLocation,
    options: { cause?: unknown } = {},
  ) {
    super(code, `${describeLocation(location)}: ${message}`, { ...options, isInputError: true });
    this.location = location;
  }

  protected override context(): Record<string, unknown> {
    return { ...this.location };
  }
}

/** A feature spec that does not validate, or is used before it is fitted. */
export class SpecError extends PropensityError {
  readonly source: string | undefined;
  readonly path: string | undefined;

  constructor(
    code: 'SPEC_INVALID' | 'SPEC_NOT_FITTED' | 'FIT_FAILED',
    message: string,
    details: { source?: string; path?: string; cause?: unknown } = {},
  ) {
    const where = [details.source, details.path].filter(Boolean).join(' at ');
    super(code, where ? `${where}: ${message}` : message, { cause: details.cause, isInputError: true });
    this.source = details.source;
    this.path = details.path;
  }

  protected override context(): Record<string, unknown> {
    return { source: this.source, path: this.path };
  }
}

/** A model bundle that is missing, malformed, or whose files do not match their recorded hashes. */
export class BundleError extends PropensityError {
  readonly bundle: string;
  readonly modelVersion: string | undefined;

  constructor(
    code: 'BUNDLE_INVALID' | 'BUNDLE_HASH_MISMATCH' | 'BUNDLE_NOT_FOUND' | 'MODEL_LOAD_FAILED' | 'MODEL_SHAPE_MISMATCH',
    message: string,
    details: { bundle: string; modelVersion?: string; cause?: unknown },
  ) {
    super(code, `${details.bundle}${details.modelVersion ? `@${details.modelVersion}` : ''}: ${message}`, {
      cause: details.cause,
      isInputError: code !== 'MODEL_LOAD_FAILED',
    });
    this.bundle = details.bundle;
    this.modelVersion = details.modelVersion;
  }

  protected override context(): Record<string, unknown> {
    return { bundle: this.bundle, modelVersion: this.modelVersion };
  }
}

/**
 * A suppression list that cannot be read: unreadable, no `id` column, an empty id, a bad `until`
 * date. The run fails: a target list sent without its suppressions is worse than none. The message
 * names file, line and column, never an id.
 */
export class SuppressionError extends PropensityError {
  readonly location: FileLocation;

  constructor(message: string, location: FileLocation, options: { cause?: unknown } = {}) {
    super('SUPPRESSION_INVALID', `${describeLocation(location)}: ${message}`, { ...options, isInputError: true });
    this.location = location;
  }

  protected override context(): Record<string, unknown> {
    return { ...this.location };
  }
}

/** Invalid campaign economics or function configuration; `key` names the offending setting. */
export class ConfigError extends PropensityError {
  readonly key: string;
  readonly source: string | undefined;

  constructor(code: 'ECONOMICS_INVALID' | 'CONFIG_INVALID' | 'USAGE', message: string, details: { key: string; source?: string; cause?: unknown }) {
    super(code, `${details.source ? `${details.source}: ` : ''}${details.key}: ${message}`, { cause: details.cause, isInputError: true });
    this.key = details.key;
    this.source = details.source;
  }

  protected override context(): Record<string, unknown> {
    return { key: this.key, source: this.source };
  }
}

/** Writing an output failed (disk, S3). Not the caller's fault: Lambda should retry. */
export class OutputError extends PropensityError {
  readonly output: string;

  constructor(message: string, details: { output: string; cause?: unknown }) {
    super('OUTPUT_FAILED', `${details.output}: ${message}`, { cause: details.cause, isInputError: false });
    this.output = details.output;
  }

  protected override context(): Record<string, unknown> {
    return { output: this.output };
  }
}

export class TrainingError extends PropensityError {
  constructor(message: string, options: { cause?: unknown; isInputError?: boolean } = {}) {
    super('TRAINING_FAILED', message, options);
  }
}

export class DriftError extends PropensityError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('DRIFT_INPUT_INVALID', message, { ...options, isInputError: true });
  }
}

/**
 * An online predict request that cannot be scored: not JSON, a customer without a column the model
 * needs, a value its cell parser cannot read (`REQUEST_INVALID`), or more customers or bytes than one
 * request may carry (`REQUEST_TOO_LARGE`). Names the customer's index and the column, never the value.
 */
export class PredictRequestError extends PropensityError {
  /** 0-based index of the customer in the request's `customers` array, when one customer is at fault. */
  readonly customer: number | undefined;
  /** The column (or request key) at fault. */
  readonly column: string | undefined;
  /** The reject reason a batch run would give the same cell (`NOT_A_NUMBER`, `MISSING_REQUIRED`…). */
  readonly reason: RejectReason | 'MISSING_COLUMN' | 'NOT_A_CELL' | undefined;

  constructor(
    code: 'REQUEST_INVALID' | 'REQUEST_TOO_LARGE',
    message: string,
    details: { customer?: number; column?: string; reason?: PredictRequestError['reason'] } = {},
  ) {
    const where = details.customer === undefined ? '' : `customers[${details.customer}]${details.column === undefined ? '' : ` column "${details.column}"`}: `;
    super(code, `${where}${message}`, { isInputError: true });
    this.customer = details.customer;
    this.column = details.column;
    this.reason = details.reason;
  }

  protected override context(): Record<string, unknown> {
    return { customer: this.customer, column: this.column, reason: this.reason };
  }
}

/** Whether an error says the model or version is not in the registry (a 404 online, a skipped model in batch). */
export function isBundleNotFound(error: unknown): error is PropensityError {
  return error instanceof PropensityError && error.code === 'BUNDLE_NOT_FOUND';
}

/**
 * Why a row was rejected. Rows are data, not exceptions: each rejected row is listed in
 * `rejects.csv` with its line, column and one of these codes.
 */
export const REJECT_REASONS = [
  'FIELD_COUNT', // more or fewer fields than the header
  'NOT_A_NUMBER', // a numeric column holds text
  'NOT_A_DATE', // a date column holds something that is not a date
  'NOT_A_BOOLEAN',
  'MISSING_REQUIRED', // a column marked required (or the id) is empty and has no imputation
  'MISSING_VALUE_COLUMN', // the per-customer value column used by the economics is empty or invalid
  'MALFORMED_QUOTES', // a quoting error the parser could recover from by skipping the record
  // Long layout (one row per customer per period):
  'PERIOD_INVALID', // the period cell is empty, or not what the spec's `long.periods` says it holds
  'PERIOD_OUT_OF_RANGE', // a period number outside 1…N, or older than the customer's latest N periods
  'DUPLICATE_PERIOD', // a second row of the same customer for the same period (the first one is used)
  'CUSTOMER_REJECTED', // another row of the same customer was rejected by the encoder, so the customer is not scored
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

export interface RowReject {
  /** 1-based physical line in the (decompressed) file where the record starts. */
  readonly line: number;
  /** Column name when known, else the 1-based field index, else empty. */
  readonly column: string;
  readonly reason: RejectReason;
  readonly detail: string;
  /** The raw record as it appeared in the file (without the line ending). */
  readonly raw: string;
}

/** Exit code a CLI should use for an error: 2 for bad input or usage, 1 for anything internal. */
export function exitCodeFor(error: unknown): 1 | 2 {
  return error instanceof PropensityError && error.isInputError ? 2 : 1;
}
