/**
 * The one place that says what a model name, a version and a file path inside a bundle may be.
 * Names and versions become folder names (`<root>/<name>/<version>/`) and S3 key segments, file
 * paths are joined under the bundle folder: anything that could climb out of it (`..`, `/x`, `a\b`)
 * is refused before a path is built, by every registry and by the manifest schema.
 */

/** A model name: lower-case letters, digits and dashes (also the `incoming/<model>/` prefix). */
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/** A version: letters, digits, `.`, `_`, `-`, starting with a letter or digit, never containing `..`. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The most bytes one bundle (its manifest plus every file it lists) may hold when a registry reads it.
 * Generous: the bundled models are under 1 MiB each; the cap stops a stray file or a hostile manifest
 * from filling a Lambda's memory.
 * @default 268435456 (256 MiB)
 */
export const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;

export function isModelName(value: unknown): value is string {
  return typeof value === 'string' && MODEL_NAME_PATTERN.test(value);
}

export function isVersionName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 200 && VERSION_PATTERN.test(value) && !value.includes('..');
}

/**
 * A relative path inside a bundle: `/`-separated, no empty, `.` or `..` segment, no backslash, no
 * leading `/`, no drive letter or other `:`, no control characters.
 */
export function isBundleFilePath(value: string): boolean {
  if (value.length === 0 || value.length > 500 || value.startsWith('/')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\\:\u0000-\u001f]/.test(value)) return false;
  return !value.split('/').some((part) => part === '' || part === '.' || part === '..');
}
