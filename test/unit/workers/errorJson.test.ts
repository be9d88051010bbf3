import { describe, expect, it } from 'vitest';
import { errorFromJson, errorToJson } from '../../../functions/core/errorJson.js';
import { BundleError, ConfigError, ExtractError, OutputError, PropensityError } from '../../../functions/core/errors.js';
import { describeError, isRetryableError } from '../../../functions/core/engine/runFailure.js';

/** As a worker thread posts it: structured clone, the only way data crosses. */
const acrossThreads = (error: unknown) => errorFromJson(structuredClone(errorToJson(error)));

describe('errors across a thread boundary (errorToJson / errorFromJson)', () => {
  it('rebuilds an ExtractError as an ExtractError with its code, message, file, line and column', () => {
    // Prepare
    const original = new ExtractError('EXTRACT_MALFORMED', 'a quoted field in the record starting here is never closed', { file: '/data/x.csv', line: 40_001, column: 2 });
    // Act
    const rebuilt = acrossThreads(original);
    // Assess
    expect(rebuilt).toBeInstanceOf(ExtractError);
    expect(rebuilt).toBeInstanceOf(PropensityError);
    expect(rebuilt.message).toBe('/data/x.csv:40001:2: a quoted field in the record starting here is never closed');
    expect((rebuilt as ExtractError).location).toEqual({ file: '/data/x.csv', line: 40_001, column: 2 });
    expect(describeError(rebuilt)).toEqual(describeError(original));
    expect(isRetryableError(rebuilt)).toBe(false);
  });

  it('keeps the class, context and retryability of the other Propensity errors', () => {
    const cases = [
      new BundleError('MODEL_LOAD_FAILED', 'onnxruntime refused the bytes', { bundle: 'bank-marketing', modelVersion: 'v1' }),
      new ConfigError('ECONOMICS_INVALID', 'must be a number', { key: 'costPerContact', source: 'e.json' }),
      new OutputError('disk full', { output: 'scores.csv' }),
    ];
    for (const original of cases) {
      const rebuilt = acrossThreads(original);
      expect(rebuilt.constructor).toBe(original.constructor);
      expect(describeError(rebuilt)).toEqual(describeError(original));
      expect(isRetryableError(rebuilt)).toBe(isRetryableError(original));
    }
  });

  it('turns any other error into an Error with its name, message and system code, never its cause', () => {
    const original = Object.assign(new Error('ENOENT: no such file', { cause: new Error('row 7: secret') }), { code: 'ENOENT' });
    const rebuilt = acrossThreads(original);
    expect(rebuilt).not.toBeInstanceOf(PropensityError);
    expect(rebuilt).toMatchObject({ name: 'Error', message: 'ENOENT: no such file', code: 'ENOENT' });
    expect(rebuilt.cause).toBeUndefined();
    expect(isRetryableError(rebuilt)).toBe(true);
    expect(acrossThreads('a string').message).toBe('a string');
  });
});
