import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { verifyBundle } from '../../core/bundle/bundle.js';
import { MANIFEST_FILE, type BundleManifest } from '../../core/bundle/bundleManifest.js';
import type { BundleFiles } from '../../core/bundle/registry.js';
import { BundleError } from '../../core/errors.js';

/** A model bundle as a folder: `manifest.json` beside the files it lists. */

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
