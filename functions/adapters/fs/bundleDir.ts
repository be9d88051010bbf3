import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseManifestBytes, verifyBundle } from '../../core/bundle/bundle.js';
import { isBundleFilePath, MAX_BUNDLE_BYTES } from '../../core/bundle/bundleNames.js';
import { MANIFEST_FILE, type BundleManifest } from '../../core/bundle/bundleManifest.js';
import type { BundleFiles } from '../../core/bundle/registry.js';
import { BundleError } from '../../core/errors.js';

/** A model bundle as a folder: `manifest.json` beside the files it lists. */

/**
 * Reads and verifies a bundle folder: `manifest.json`, then only the files it lists (an extra file in
 * the folder is never opened), each resolved inside the folder (a symlink that leads out is refused),
 * and at most `maxBytes` in all, checked from the sizes before anything is read.
 * @throws BundleError BUNDLE_NOT_FOUND without a manifest, BUNDLE_INVALID for a path outside the folder
 *   or a bundle over the cap, plus everything {@link verifyBundle} refuses.
 */
export async function readBundleDir(dir: string, options: { maxBytes?: number } = {}): Promise<BundleFiles> {
  const maxBytes = options.maxBytes ?? MAX_BUNDLE_BYTES;
  const manifestPath = path.join(dir, MANIFEST_FILE);
  let manifestSize: number;
  try {
    manifestSize = (await stat(manifestPath)).size;
  } catch (cause) {
    throw new BundleError('BUNDLE_NOT_FOUND', `no ${MANIFEST_FILE} in this folder`, { bundle: dir, cause });
  }
  const tooBig = (bytes: number) => new BundleError('BUNDLE_INVALID', `the bundle holds more than ${maxBytes} bytes (${bytes} so far); refusing to read it`, { bundle: dir });
  if (manifestSize > maxBytes) throw tooBig(manifestSize);
  const manifestBytes = await readFile(manifestPath);
  const manifest = parseManifestBytes(manifestBytes, dir);
  const root = await realpath(dir);
  const listed: Array<{ name: string; file: string }> = [];
  let total = manifestBytes.length;
  for (const name of Object.keys(manifest.files)) {
    const file = path.join(dir, name);
    let resolved: string;
    try {
      resolved = await realpath(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // verifyBundle names the missing file
      throw error;
    }
    if (!resolved.startsWith(`${root}${path.sep}`)) {
      throw new BundleError('BUNDLE_INVALID', `file "${name}" leads outside the bundle folder`, { bundle: dir, modelVersion: manifest.version });
    }
    const info = await stat(resolved);
    if (!info.isFile()) throw new BundleError('BUNDLE_INVALID', `file "${name}" is not a file`, { bundle: dir, modelVersion: manifest.version });
    total += info.size;
    if (total > maxBytes) throw tooBig(total);
    listed.push({ name, file: resolved });
  }
  const files = new Map<string, Uint8Array>();
  for (const { name, file } of listed) files.set(name, await readFile(file));
  return verifyBundle(manifestBytes, files, dir);
}

/** Writes a bundle folder atomically: files into a staging folder, manifest last, then one rename. */
export async function writeBundleDir(dir: string, bundle: { manifest: BundleManifest; files: ReadonlyMap<string, Uint8Array> }): Promise<void> {
  const staging = `${dir}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  for (const [name, bytes] of bundle.files) {
    if (!isBundleFilePath(name)) throw new BundleError('BUNDLE_INVALID', `file path "${name}" is not allowed in a bundle`, { bundle: dir, modelVersion: bundle.manifest.version });
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
