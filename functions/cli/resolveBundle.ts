import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BundleError } from '../core/errors.js';
import { MANIFEST_FILE } from '../core/bundle/bundleManifest.js';
import { readBundleDir } from '../adapters/fs/bundleDir.js';
import { FsRegistry } from '../adapters/fs/fsRegistry.js';
import type { BundleFiles } from '../core/bundle/registry.js';

/** The bundled models shipped with Propensity: a filesystem registry at `model-store/`. */
export const BUNDLED_MODEL_STORE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../model-store');

const isDirectory = (file: string) =>
  stat(file).then(
    (found) => found.isDirectory(),
    () => false,
  );

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/**
 * Finds a bundle from what a person types after `--model`: a bundle folder (with manifest.json),
 * a model folder in a registry (its champion), or the name of a bundled model (`bank-marketing`).
 */
export async function resolveBundle(reference: string): Promise<BundleFiles> {
  const dir = path.resolve(reference);
  if (await exists(path.join(dir, MANIFEST_FILE))) return readBundleDir(dir);
  if (await isDirectory(dir)) return new FsRegistry(path.dirname(dir)).read(path.basename(dir));
  const bundled = new FsRegistry(BUNDLED_MODEL_STORE);
  // A path (with a separator) is never a bundled model's name: say what was expected there instead.
  const isPath = reference.includes('/') || reference.includes(path.sep);
  if (!isPath && (await bundled.listVersions(reference)).length > 0) return bundled.read(reference);
  throw new BundleError('BUNDLE_NOT_FOUND', 'not a bundle folder, a registry model folder, or a bundled model name', { bundle: reference });
}
