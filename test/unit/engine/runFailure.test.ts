import { describe, expect, it } from 'vitest';
import { ConfigError, ExtractError } from '../../../functions/core/errors.js';
import { describeError, describeRunFailure } from '../../../functions/core/engine/runFailure.js';

const at = new Date('2026-11-30T08:00:00.000Z');

describe('describeRunFailure', () => {
  it('a Propensity error: status, time, and the error with its code, message and context', () => {
    const error = new ExtractError('EXTRACT_MISSING_COLUMN', 'column "age" is missing', { file: 'extract.csv', line: 1, column: 'age' });
    expect(describeRunFailure(error, at)).toEqual({
      status: 'failed',
      failedAt: '2026-11-30T08:00:00.000Z',
      retryable: false,
      error: {
        name: 'ExtractError',
        code: 'EXTRACT_MISSING_COLUMN',
        message: 'extract.csv:1 (column "age"): column "age" is missing',
        file: 'extract.csv',
        line: 1,
        column: 'age',
      },
    });
  });

  it('anything else is INTERNAL, with its name and message, and retryable', () => {
    expect(describeRunFailure(new TypeError('boom'), at).retryable).toBe(true);
    expect(describeRunFailure(new TypeError('boom'), at).error).toEqual({ name: 'TypeError', code: 'INTERNAL', message: 'boom' });
    expect(describeError('a thrown string')).toEqual({ name: 'Error', code: 'INTERNAL', message: 'a thrown string' });
  });

  it('never carries the cause chain (it may quote a customer row)', () => {
    const cause = new Error('bad value in "c42,Jane Doe,jane@example.com"');
    const error = new ConfigError('ECONOMICS_INVALID', 'not valid JSON', { key: '(root)', source: 'x.economics.json', cause });
    const text = JSON.stringify(describeRunFailure(error, at));
    expect(text).not.toContain('Jane');
    expect(describeError(error)).toEqual({ name: 'ConfigError', code: 'ECONOMICS_INVALID', message: 'x.economics.json: (root): not valid JSON', key: '(root)', source: 'x.economics.json' });
  });

  it('defaults the time to now', () => {
    const before = Date.now();
    const { failedAt } = describeRunFailure(new Error('x'));
    expect(Date.parse(failedAt)).toBeGreaterThanOrEqual(before);
  });
});
