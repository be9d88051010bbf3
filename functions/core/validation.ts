import type { z } from 'zod';
import type { PropensityError } from './errors.js';

/** The first thing zod found wrong with a value, in the shape our errors quote it. */
export interface SchemaIssue {
  /** Dotted path of the first issue (after `prefix`), or `root` when the issue is about the whole value. */
  readonly path: string;
  readonly message: string;
  /** The first issue's raw path (after `prefix`), e.g. to quote the offending input. */
  readonly segments: readonly PropertyKey[];
  /** Every issue as `path: message`, joined by `; `; a whole-value issue reads `(root)`. */
  readonly all: string;
  /** zod's code for the first issue (e.g. `unrecognized_keys`, whose message quotes the keys). */
  readonly code: string;
}

/**
 * Why `JSON.parse` failed, without quoting the text: Node's message for an unexpected token quotes
 * the input around it, and a per-run file may hold what a customer typed. Keeps the position only.
 *
 * @example jsonSyntaxError(new SyntaxError('Unexpected token \'x\', "{"a": x}" is not valid JSON')) // 'not valid JSON'
 */
export function jsonSyntaxError(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position !== undefined) return `not valid JSON (at character ${Number(position) + 1})`;
  if (/end of JSON input/.test(message)) return 'not valid JSON (it ends early)';
  return 'not valid JSON';
}

export interface ParseWithOptions {
  /** What `path` reads when the issue is about the whole value (default `(root)`). */
  readonly root?: string;
  /** Path segments the value sits under in the caller's input, e.g. `['rule']`. */
  readonly prefix?: readonly PropertyKey[];
}

const joinPath = (segments: readonly PropertyKey[]): string => segments.map(String).join('.');

/**
 * Validates `value` against `schema`; on failure throws the error `toError` builds from the first issue.
 * One place turns zod's issues into our error tree, so every caller names the key the same way and keeps
 * its own code and message.
 *
 * @example
 * const policy = parseWith(retrainPolicySchema, value, ({ path, message }) =>
 *   new ConfigError('CONFIG_INVALID', message, { key: path, source }));
 */
export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  toError: (issue: SchemaIssue) => PropensityError,
  options: ParseWithOptions = {},
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw toError(firstIssue(result.error, options));
}

/** The first issue of a zod error as {@link SchemaIssue} (for callers that cannot use {@link parseWith}). */
export function firstIssue(error: z.ZodError, options: ParseWithOptions = {}): SchemaIssue {
  const prefix = options.prefix ?? [];
  const issues = error.issues;
  // zod never fails without an issue; the fallback only keeps the type honest.
  const first = issues[0] ?? { path: [], message: 'invalid value' };
  const segments = [...prefix, ...first.path];
  return {
    path: joinPath(segments) || (options.root ?? '(root)'),
    message: first.message,
    segments,
    all: issues.map((issue) => `${joinPath([...prefix, ...issue.path]) || '(root)'}: ${issue.message}`).join('; '),
    code: 'code' in first ? String(first.code) : 'custom',
  };
}
