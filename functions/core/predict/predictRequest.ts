import { PredictRequestError } from '../errors.js';
import { jsonSyntaxError } from '../validation.js';

/** Most customers one request may carry; more is a 413 (score a file through the batch path instead). */
export const MAX_CUSTOMERS_PER_REQUEST = 1000;

/** Most bytes one request body may hold (1 MiB); more is a 413 before the body is parsed. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** One customer as the request gives it: column → JSON string, number or null (an empty cell). */
export type CustomerRecord = Readonly<Record<string, unknown>>;

/** A validated `POST /predict/<model>` body. */
export interface PredictRequest {
  readonly customers: readonly CustomerRecord[];
  /** Add the top 3 reasons (per-feature contributions) to each customer. */
  readonly explain: boolean;
}

const REQUEST_KEYS = new Set(['customers', 'explain']);

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a predict request body: `{"customers": [{column: value, …}, …], "explain": true}`.
 * The envelope only: each customer's cells are checked against the model's spec when it is scored.
 *
 * @throws PredictRequestError REQUEST_TOO_LARGE past {@link MAX_REQUEST_BYTES} or
 *   {@link MAX_CUSTOMERS_PER_REQUEST}; REQUEST_INVALID for anything else (never quoting the body).
 * @example parsePredictRequest('{"customers":[{"age":41,"job":"technician"}]}') // { customers: [{…}], explain: false }
 */
export function parsePredictRequest(body: Uint8Array | string): PredictRequest {
  const bytes = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
  if (bytes > MAX_REQUEST_BYTES) {
    throw new PredictRequestError('REQUEST_TOO_LARGE', `the body holds ${bytes} bytes; one request may hold ${MAX_REQUEST_BYTES} (1 MiB)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    throw new PredictRequestError('REQUEST_INVALID', `the body is ${jsonSyntaxError(error)}`);
  }
  if (!isPlainObject(value)) throw new PredictRequestError('REQUEST_INVALID', 'the body must be a JSON object like {"customers": [{…}]}');
  // An unknown key is not quoted: a caller may put anything there.
  if (Object.keys(value).some((key) => !REQUEST_KEYS.has(key))) {
    throw new PredictRequestError('REQUEST_INVALID', 'the body has a key that is not "customers" or "explain" (not quoted)');
  }
  const { customers, explain } = value;
  if (!Array.isArray(customers)) throw new PredictRequestError('REQUEST_INVALID', '"customers" must be an array of objects', { column: 'customers' });
  if (customers.length === 0) throw new PredictRequestError('REQUEST_INVALID', '"customers" is empty: send 1 to 1000 customers', { column: 'customers' });
  if (customers.length > MAX_CUSTOMERS_PER_REQUEST) {
    throw new PredictRequestError('REQUEST_TOO_LARGE', `${customers.length} customers; one request may carry ${MAX_CUSTOMERS_PER_REQUEST}`, { column: 'customers' });
  }
  const notAnObject = customers.findIndex((customer) => !isPlainObject(customer));
  if (notAnObject >= 0) throw new PredictRequestError('REQUEST_INVALID', 'must be an object of column → value', { customer: notAnObject });
  if (explain !== undefined && typeof explain !== 'boolean') throw new PredictRequestError('REQUEST_INVALID', '"explain" must be true or false', { column: 'explain' });
  return { customers: customers as CustomerRecord[], explain: explain === true };
}
