import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, DriftError } from '../../functions/core/errors.js';
import { firstIssue, jsonSyntaxError, parseWith, type SchemaIssue } from '../../functions/core/validation.js';

const schema = z.object({
  name: z.string(),
  limits: z.object({ max: z.number().int().min(1) }).default({ max: 10 }),
});

/** Runs `act` and returns what it threw (or undefined). */
function thrown(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('parseWith', () => {
  it('returns the parsed value with defaults filled', () => {
    // Prepare / Act
    const value = parseWith(schema, { name: 'bank' }, () => new ConfigError('CONFIG_INVALID', 'unused', { key: 'x', source: 'test' }));

    // Assess
    expect(value).toEqual({ name: 'bank', limits: { max: 10 } });
  });

  it('throws the error built from the first issue, path joined with dots', () => {
    // Prepare
    let seen: SchemaIssue | undefined;

    // Act
    const error = thrown(() =>
      parseWith(schema, { name: 'bank', limits: { max: 0 } }, (issue) => {
        seen = issue;
        return new ConfigError('CONFIG_INVALID', issue.message, { key: issue.path, source: 'limits.json' });
      }),
    );

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', key: 'limits.max', source: 'limits.json' });
    expect(seen?.segments).toEqual(['limits', 'max']);
    expect(seen?.message).toBe('Too small: expected number to be >=1');
  });

  it('names a whole-value issue (root) by default, or the caller fallback', () => {
    const toError = ({ path, message }: SchemaIssue): DriftError => new DriftError(`profile.json: ${path}: ${message}`);

    expect(thrown(() => parseWith(schema, 'not an object', toError))).toMatchObject({
      code: 'DRIFT_INPUT_INVALID',
      message: 'profile.json: (root): Invalid input: expected object, received string',
    });
    expect(thrown(() => parseWith(schema, 42, ({ path }) => new DriftError(path), { root: '(environment)' }))).toMatchObject({
      message: '(environment)',
    });
    expect(thrown(() => parseWith(schema, 42, ({ path }) => new DriftError(`[${path}]`), { root: '' }))).toMatchObject({ message: '[]' });
  });

  it('puts a prefix in front of the path, and names the prefix alone for a whole-value issue', () => {
    const keyOf = (value: unknown): unknown =>
      thrown(() => parseWith(schema, value, ({ path, message }) => new ConfigError('CONFIG_INVALID', message, { key: path, source: 's' }), { prefix: ['rule'] }));

    expect(keyOf({ name: 1 })).toMatchObject({ key: 'rule.name' });
    expect(keyOf(null)).toMatchObject({ key: 'rule' });
  });
});

describe('firstIssue', () => {
  it('lists every issue in `all`, a whole-value issue as (root), array indexes as numbers', () => {
    // Prepare
    const list = z.object({ items: z.array(z.number()), tag: z.string() });
    const result = list.safeParse({ items: [1, 'two'] });
    if (result.success) throw new Error('expected a failure');

    // Act
    const issue = firstIssue(result.error);

    // Assess
    expect(issue).toEqual({
      path: 'items.1',
      message: 'Invalid input: expected number, received string',
      segments: ['items', 1],
      all: 'items.1: Invalid input: expected number, received string; tag: Invalid input: expected string, received undefined',
      code: 'invalid_type',
    });
    const root = z.string().safeParse(3);
    expect(root.success ? undefined : firstIssue(root.error, { root: 'context' })).toMatchObject({
      path: 'context',
      all: '(root): Invalid input: expected string, received number',
    });
  });
});

describe('jsonSyntaxError', () => {
  const failureOf = (text: string): unknown => {
    try {
      JSON.parse(text);
    } catch (error) {
      return error;
    }
    throw new Error('expected a failure');
  };

  it('keeps the position of a syntax error, never the text around it', () => {
    expect(jsonSyntaxError(failureOf('{"cost": 5}secret-value'))).toBe('not valid JSON (at character 12)');
    expect(jsonSyntaxError(failureOf('{"cost": secret-value}'))).toBe('not valid JSON');
    expect(jsonSyntaxError(failureOf('{"cost": '))).toBe('not valid JSON (it ends early)');
  });
});
