import { z } from 'zod';
import { ConfigError } from './errors.js';
import { parseWith } from './validation.js';

/** An S3 prefix setting: always ends in `/` (or is empty, the bucket root). */
export const prefixSetting = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) => (value === '' || value.endsWith('/') ? value : `${value}/`));

/** Powertools log levels, case-insensitive. */
export const logLevelSetting = z
  .string()
  .default('INFO')
  .transform((value) => value.toUpperCase())
  .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL']));

export type LogLevel = z.infer<typeof logLevelSetting>;

export const bucketNameSetting = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name');

/** Only outside AWS (tests, `npm start`): an S3-compatible endpoint such as `http://127.0.0.1:4568`. */
export const s3EndpointSetting = z.url({ protocol: /^https?$/ }).optional();

/**
 * Validates a function's environment against its schema, once per cold start.
 * @throws ConfigError CONFIG_INVALID naming the variable, e.g. `environment: BATCH_SIZE: Too small: expected number to be >=1`.
 */
export function parseEnvironment<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  // Empty strings are how CDK and shells say "unset".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  return parseWith(schema, present, ({ path, message }) => new ConfigError('CONFIG_INVALID', message, { key: path, source: 'environment' }), {
    root: '(environment)',
  });
}
