import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BundleError } from '../functions/core/errors.js';
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
  const parsed = bundleManifestSchema.safeParse({ ...manifest, files: hashes });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BundleError('BUNDLE_INVALID', `manifest ${issue.path.join('.')}: ${issue.message}`, {
      bundle: manifest.name ?? '(unnamed)',
      modelVersion: manifest.version,
    });
  }
  return { manifest: parsed.data, files };
}

/**
 * Validates a manifest and checks every file against its recorded sha256; refuses a mismatch.
 * @throws BundleError BUNDLE_INVALID or BUNDLE_HASH_MISMATCH, naming the bundle, version and file.
 */
export function verifyBundle(manifestBytes: Uint8Array, files: ReadonlyMap<string, Uint8Array>, location: string): BundleFiles {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(manifestBytes).toString('utf8'));
  } catch (cause) {
    throw new BundleError('BUNDLE_INVALID', `${MANIFEST_FILE} is not JSON`, { bundle: location, cause });
  }
  const parsed = bundleManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BundleError('BUNDLE_INVALID', `${MANIFEST_FILE} ${issue.path.join('.') || '(root)'}: ${issue.message}`, { bundle: location });
  }
  const manifest = parsed.data;
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

async function listFilesRecursive(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) names.push(...(await listFilesRecursive(path.join(dir, entry.name), relative)));
    else names.push(relative);
  }
  return names;
}

/** Reads and verifies a bundle folder (`manifest.json` + the files it lists). */
export async function readBundleDir(dir: string): Promise<BundleFiles> {
  let manifestBytes: Uint8Array;
  try {
    manifestBytes = await readFile(path.join(dir, MANIFEST_FILE));
  } catch (cause) {
    throw new BundleError('BUNDLE_NOT_FOUND', `no ${MANIFEST_FILE} in this folder`, { bundle: dir, cause });
  }
  const files = new Map<string, Uint8Array>();
  for (const name of await listFilesRecursive(dir)) {
    if (name !== MANIFEST_FILE) files.set(name, await readFile(path.join(dir, name)));
  }
  return verifyBundle(manifestBytes, files, dir);
}

/** Writes a bundle folder atomically: files into a staging folder, manifest last, then one rename. */
export async function writeBundleDir(dir: string, bundle: { manifest: BundleManifest; files: ReadonlyMap<string, Uint8Array> }): Promise<void> {
  const staging = `${dir}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  for (const [name, bytes] of bundle.files) {
    const target = path.join(staging, name);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, bytes);
  }
  await mkdir(staging, { recursive: true });
  await writeFile(path.join(staging, MANIFEST_FILE), `${JSON.stringify(bundle.manifest, null, 2)}\n`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await rename(staging, dir);
}
