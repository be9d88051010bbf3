import {
  BundleError,
  ConfigError,
  DriftError,
  ExtractError,
  OutputError,
  PropensityError,
  SpecError,
  TrainingError,
  type FileLocation,
  type PropensityErrorCode,
} from './errors.js';

/**
 * A thrown value as plain, structured-clonable data: what a worker thread (or another process) posts
 * so that the receiver can throw the same error. Never the cause chain, which may quote a row.
 */
export interface ErrorJson {
  readonly name: string;
  readonly message: string;
  /** A Propensity error's code, or a system error's (`ENOENT`…); absent for a plain Error. */
  readonly code?: string;
  readonly isInputError?: boolean;
  /** The subclass's context, as its `toJSON()` gives it (file/line/column, bundle, key…). */
  readonly context?: Record<string, unknown>;
  /** Set for a `PropensityError` (or subclass), so the receiver rebuilds the class rather than an Error. */
  readonly propensity?: boolean;
}

/**
 * Describes any thrown value for the trip across a thread boundary; {@link errorFromJson} rebuilds it.
 * @example errorFromJson(errorToJson(new ExtractError('EXTRACT_MALFORMED', 'quote', { file: 'a.csv', line: 9 }))) // an ExtractError at a.csv:9
 */
export function errorToJson(error: unknown): ErrorJson {
  if (error instanceof PropensityError) {
    const { name: _name, code: _code, message: _message, ...context } = error.toJSON();
    return { name: error.name, message: error.message, code: error.code, isInputError: error.isInputError, context, propensity: true };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The error {@link errorToJson} described, as the same class with the same code, message and
 * context (an `ExtractError` keeps its file, line and column), so callers and `error.json` cannot
 * tell it crossed a thread. A subclass this module does not know comes back as a `PropensityError`
 * with the same code, message and input-error flag.
 */
export function errorFromJson(json: ErrorJson): Error {
  if (!json.propensity) {
    const error = new Error(json.message);
    error.name = json.name;
    if (json.code !== undefined) Object.assign(error, { code: json.code });
    return error;
  }
  const code = json.code as PropensityErrorCode;
  const context = json.context ?? {};
  let error: PropensityError;
  switch (json.name) {
    case 'ExtractError':
      error = new ExtractError(code as Extract<PropensityErrorCode, `EXTRACT_${string}`>, '', context as unknown as FileLocation);
      break;
    case 'SpecError':
      error = new SpecError(code as 'SPEC_INVALID', '', { ...(text(context.source) ? { source: text(context.source) } : {}), ...(text(context.path) ? { path: text(context.path) } : {}) });
      break;
    case 'BundleError':
      error = new BundleError(code as 'BUNDLE_INVALID', '', { bundle: text(context.bundle) ?? '', ...(text(context.modelVersion) ? { modelVersion: text(context.modelVersion) } : {}) });
      break;
    case 'ConfigError':
      error = new ConfigError(code as 'CONFIG_INVALID', '', { key: text(context.key) ?? '', ...(text(context.source) ? { source: text(context.source) } : {}) });
      break;
    case 'OutputError':
      error = new OutputError('', { output: text(context.output) ?? '' });
      break;
    case 'TrainingError':
      error = new TrainingError('', { isInputError: json.isInputError ?? false });
      break;
    case 'DriftError':
      error = new DriftError('');
      break;
    default:
      error = new PropensityError(code, '', { isInputError: json.isInputError ?? true });
  }
  // The constructors prefix the location to the message: the original, already prefixed, wins.
  error.message = json.message;
  return error;
}
