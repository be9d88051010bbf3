import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the shared material is (datasets, the peer benchmark; read-only, never committed):
 * `$PROPENSITY_SHARED`, else `../shared` beside the repository, else the machine-wide
 * `/work/shared` (so a clone in /tmp finds it too). The first that holds `datasets/` wins.
 */
export function findSharedDir(): string {
  const candidates = [process.env.PROPENSITY_SHARED, path.resolve(REPO_ROOT, '..', 'shared'), '/work/shared'].filter((c): c is string => Boolean(c));
  const found = candidates.find((dir) => existsSync(path.join(dir, 'datasets', 'bank-marketing')));
  if (!found) throw new Error(`the shared datasets are not under any of ${candidates.join(', ')}: set PROPENSITY_SHARED to the folder holding datasets/`);
  return found;
}

/** The shared real datasets folder (its README tells their quirks). */
export function findDatasetsDir(): string {
  return path.join(findSharedDir(), 'datasets');
}

export const DATASETS = findDatasetsDir();
/** Absolute path of a file in the shared datasets, e.g. `dataset('bank-marketing/bank-full.csv')`. */
export const dataset = (relative: string): string => path.join(DATASETS, relative);
