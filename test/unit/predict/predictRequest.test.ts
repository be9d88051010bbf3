import { describe, expect, it } from 'vitest';
import { PredictRequestError } from '../../../functions/core/errors.js';
import { MAX_CUSTOMERS_PER_REQUEST, MAX_REQUEST_BYTES, parsePredictRequest } from '../../../functions/core/predict/predictRequest.js';

/** The error `act` throws, to check its code, message and context. */
function refusal(act: () => unknown): PredictRequestError {
  try {
    act();
  } catch (error) {
    if (error instanceof PredictRequestError) return error;
    throw error;
  }
  throw new Error('expected a PredictRequestError');
}

describe('parsePredictRequest', () => {
  it('reads customers and explain from text or bytes; explain defaults to false', () => {
    const text = '{"customers":[{"age":41,"job":"technician","pdays":null}],"explain":true}';
    expect(parsePredictRequest(text)).toEqual({ customers: [{ age: 41, job: 'technician', pdays: null }], explain: true });
    expect(parsePredictRequest(new TextEncoder().encode('{"customers":[{}]}'))).toEqual({ customers: [{}], explain: false });
  });

  it('takes exactly 1,000 customers and refuses 1,001 with REQUEST_TOO_LARGE', () => {
    const customers = (n: number) => JSON.stringify({ customers: Array.from({ length: n }, () => ({ a: 1 })) });
    expect(parsePredictRequest(customers(MAX_CUSTOMERS_PER_REQUEST)).customers).toHaveLength(1000);
    const error = refusal(() => parsePredictRequest(customers(1001)));
    expect(error).toMatchObject({ code: 'REQUEST_TOO_LARGE', column: 'customers', message: '1001 customers; one request may carry 1000' });
  });

  it('refuses a body over 1 MiB before parsing it, naming its size', () => {
    const body = `{"customers":[{"note":"${'x'.repeat(MAX_REQUEST_BYTES)}"}]}`;
    expect(refusal(() => parsePredictRequest(body))).toMatchObject({ code: 'REQUEST_TOO_LARGE', message: `the body holds ${body.length} bytes; one request may hold 1048576 (1 MiB)` });
  });

  it.each([
    ['not JSON', '{"customers": [SECRET]}', undefined, 'the body is not valid JSON'],
    ['not an object', '[1, 2]', undefined, 'the body must be a JSON object like {"customers": [{…}]}'],
    ['an unknown key, not quoted', '{"customers": [{}], "SECRET": 1}', undefined, 'the body has a key that is not "customers" or "explain" (not quoted)'],
    ['customers not an array', '{"customers": {"a": 1}}', undefined, '"customers" must be an array of objects'],
    ['no customers', '{"customers": []}', undefined, '"customers" is empty: send 1 to 1000 customers'],
    ['a customer that is not an object', '{"customers": [{}, "SECRET"]}', 1, 'customers[1]: must be an object of column → value'],
    ['explain not a boolean', '{"customers": [{}], "explain": "SECRET"}', undefined, '"explain" must be true or false'],
  ])('refuses %s with REQUEST_INVALID and a message that quotes nothing', (_name, body, customer, message) => {
    const error = refusal(() => parsePredictRequest(body));
    expect(error.code).toBe('REQUEST_INVALID');
    expect(error.customer).toBe(customer);
    expect(error.message).toContain(message);
    expect(JSON.stringify(error)).not.toContain('SECRET');
  });
});
