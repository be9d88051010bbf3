import { createHash } from 'node:crypto';

/**
 * The default bundle version: the fit time to the minute (UTC) and the first 6 hex digits of the
 * ONNX file's sha256, so two models fitted in the same minute still get different versions.
 * @example
 * versionStamp(new Date('2026-01-02T03:04:05Z'), onnx) // → '2026-01-02T0304-' + the first 6 hex of sha256(onnx)
 */
export function versionStamp(now: Date, onnx: Uint8Array): string {
  const iso = now.toISOString();
  return `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}-${createHash('sha256').update(onnx).digest('hex').slice(0, 6)}`;
}
