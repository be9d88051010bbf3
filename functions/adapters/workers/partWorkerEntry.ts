import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';
import { PART_WORKER_FILE } from '../../core/constants.js';

/**
 * The worker thread's entry file.
 *
 * Bundled (Lambda, the bench's bundle): `scorePartWorker.mjs` beside the bundled handler.
 *
 * From the TypeScript source (the CLI through tsx, vitest): a worker does not inherit the main
 * thread's tsx loader. Registering tsx in each worker costs it over a second of CPU (its own module
 * hooks thread, every module compiled through it), which on two cores made two lanes slower than
 * one. So the worker's own modules are bundled once with esbuild (tsx's own dependency) into
 * `node_modules/.cache/propensity-worker/`, every package left to Node's own loader, and reused
 * while none of its source files changed: checking costs one `stat` per source file. If the bundle
 * cannot be made (no esbuild, a read-only install), the worker registers tsx (`scorePartWorker.source.mjs`).
 */
export async function partWorkerEntry(moduleUrl: string = import.meta.url): Promise<URL> {
  if (!moduleUrl.endsWith('.ts')) return new URL(`./${PART_WORKER_FILE}`, moduleUrl);
  try {
    return await cachedWorkerBundle(fileURLToPath(new URL('./scorePartWorker.ts', moduleUrl)));
  } catch {
    return new URL('./scorePartWorker.source.mjs', moduleUrl);
  }
}

/** What the cached bundle was built from: the repository's files it bundles, with their sizes and times. */
interface BundleInputs {
  /**
   * The entry it was built from: checkouts that share one node_modules (git worktrees with a linked
   * node_modules) share this cache, and a bundle of another checkout's sources must not be reused.
   */
  readonly entry?: string;
  readonly files: ReadonlyArray<readonly [file: string, size: number, mtimeMs: number]>;
}

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * Inside node_modules: the bundle imports every package (onnxruntime-node, tfjs and its .wasm files…)
 * from there. One folder per checkout: git worktrees that share one node_modules (a symlink) would
 * otherwise run each other's worker code, the bundle of whichever checkout built last.
 */
const CACHE_DIR = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'propensity-worker', createHash('sha256').update(PROJECT_ROOT).digest('hex').slice(0, 12));

let current: Promise<URL> | null = null;

/** The bundle of `entry` in the cache, rebuilt when a file it was built from changed (once per process at most). */
function cachedWorkerBundle(entry: string): Promise<URL> {
  current ??= (async () => {
    const out = path.join(CACHE_DIR, 'scorePartWorker.mjs');
    const inputsFile = path.join(CACHE_DIR, 'scorePartWorker.inputs.json');
    if (await upToDate(entry, out, inputsFile)) return new URL(`file://${out}`);
    await buildWorker(entry, out, inputsFile);
    return new URL(`file://${out}`);
  })();
  current.catch(() => (current = null));
  return current;
}

async function upToDate(entry: string, out: string, inputsFile: string): Promise<boolean> {
  try {
    await stat(out);
    const inputs = JSON.parse(await readFile(inputsFile, 'utf8')) as BundleInputs;
    return inputs.entry === entry && inputs.files.every(([file, size, mtimeMs]) => {
      const now = statSync(file, { throwIfNoEntry: false });
      return now !== undefined && now.size === size && now.mtimeMs === mtimeMs;
    });
  } catch {
    return false;
  }
}

async function buildWorker(entry: string, out: string, inputsFile: string): Promise<void> {
  // A variable specifier: the Lambda's own bundle (which never gets here) must not try to bundle esbuild.
  const specifier = 'esbuild';
  const { build } = (await import(specifier)) as typeof Esbuild;
  await mkdir(CACHE_DIR, { recursive: true });
  // Another process may build at the same time: each writes its own files, then renames them into place.
  const tmp = `${out}.${process.pid}.${Date.now()}`;
  try {
    const result = await build({
      entryPoints: [entry],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    });
    const files = Object.keys(result.metafile.inputs).map((input) => {
      const file = path.resolve(input);
      const s = statSync(file);
      return [file, s.size, s.mtimeMs] as const;
    });
    await writeFile(`${tmp}.inputs`, JSON.stringify({ entry, files } satisfies BundleInputs));
    await rename(tmp, out);
    await rename(`${tmp}.inputs`, inputsFile);
  } finally {
    await rm(tmp, { force: true });
    await rm(`${tmp}.inputs`, { force: true });
  }
}

/** For tests: the files the cached bundle records (empty when there is none). */
export function cachedWorkerInputs(): string[] {
  try {
    return (JSON.parse(readFileSync(path.join(CACHE_DIR, 'scorePartWorker.inputs.json'), 'utf8')) as BundleInputs).files.map(([file]) => file);
  } catch {
    return [];
  }
}
