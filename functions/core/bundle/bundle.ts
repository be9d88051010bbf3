import { createHash } from 'node:crypto';
import { BundleError } from '../errors.js';
import { parseWith } from '../validation.js';
import { bundleManifestSchema, MANIFEST_FILE, type BundleManifest, type BundleManifestInput } from './bundleManifest.js';
import type { BundleFiles } from './registry.js';

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Assembles a bundle: records the sha256 of every file in the manifest and validates it.
 * @example
 * const bundle = createBundle({ schemaVersion: 1, name: 'bank-marketing', ... }, new Map([['model.onnx', bytes]]));
 */
export function createBundle(
  manifest: Omit<BundleManifestInput, 'files'>,
  files: ReadonlyMap<string, Uint8Array>,
): { manifest: BundleManifest; files: ReadonlyMap<string, Uint8Array> } {
  const hashes: Record<string, string> = {};
  for (const [name, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) hashes[name] = sha256Hex(bytes);
  const parsed = parseWith(
    bundleManifestSchema,
    { ...manifest, files: hashes },
    ({ path, message }) => new BundleError('BUNDLE_INVALID', `manifest ${path}: ${message}`, { bundle: manifest.name ?? '(unnamed)', modelVersion: manifest.version }),
    { root: '' },
  );
  return { manifest: parsed, files };
}

/**
 * Validates a manifest and checks every file against its recorded sha256; refuses a mismatch.
 * @throws BundleError BUNDLE_INVALID or BUNDLE_HASH_MISMATCH, naming the bundle, version and file.
 */
export function verifyBundle(manifestBytes: Uint8Array, files: ReadonlyMap<string, Uint8Array>, location: string): BundleFiles {
  const manifest = parseManifestBytes(manifestBytes, location);
  for (const [name, expected] of Object.entries(manifest.files)) {
    const bytes = files.get(name);
    if (!bytes) {
      throw new BundleError('BUNDLE_INVALID', `file "${name}" listed in the manifest is missing`, { bundle: location, modelVersion: manifest.version });
    }
    const actual = sha256Hex(bytes);
    if (actual !== expected) {
      throw new BundleError('BUNDLE_HASH_MISMATCH', `file "${name}" has sha256 ${actual}, manifest says ${expected}`, {
        bundle: location,
        modelVersion: manifest.version,
      });
    }
  }
  return { manifest, files, location };
}

/**
 * Parses and validates `manifest.json` bytes, so a reader knows which files to fetch (and nothing else)
 * before it reads any of them.
 * @throws BundleError BUNDLE_INVALID naming the location and the first invalid path.
 */
export function parseManifestBytes(manifestBytes: Uint8Array, location: string): BundleManifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(manifestBytes).toString('utf8'));
  } catch (cause) {
    throw new BundleError('BUNDLE_INVALID', `${MANIFEST_FILE} is not JSON`, { bundle: location, cause });
  }
  return parseWith(bundleManifestSchema, json, ({ path, message }) => new BundleError('BUNDLE_INVALID', `${MANIFEST_FILE} ${path}: ${message}`, { bundle: location }));
}
