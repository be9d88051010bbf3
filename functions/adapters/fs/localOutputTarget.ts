import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OutputFileRecord, OutputTarget } from '../../core/engine/outputTarget.js';
import { describeRunFailure } from '../../core/engine/runFailure.js';
import { OUTPUT_FILES } from '../../core/engine/runOutputs.js';

export const SUCCESS_FILE = '_SUCCESS';
export const ERROR_FILE = 'error.json';
/** Every name a run may write into its folder: the outputs and the target's own markers. */
const RUN_FILES: readonly string[] = [...Object.values(OUTPUT_FILES), SUCCESS_FILE, ERROR_FILE];

/**
 * Writes a run's outputs into a local folder. Files are staged in a hidden sub-folder and moved
 * into place only by `commit()`, which writes `_SUCCESS` last; a failed run leaves `error.json`
 * and no `_SUCCESS` or `summary.json`, so nothing that looks complete. A run into a folder that
 * holds an earlier run first removes that run's files (those its `_SUCCESS` lists, and every name a
 * run writes), so no output of the earlier run is left beside this run's; other files are left alone.
 *
 * @example const target = new LocalOutputTarget('runs/2026-11-30'); // then scoreExtract({ …, output: target })
 */
export class LocalOutputTarget implements OutputTarget {
  readonly location: string;
  private readonly staging: string;
  private readonly pending: Array<{ name: string; input: PassThrough; done: Promise<OutputFileRecord> }> = [];
  private stagingReady: Promise<void> | undefined;
  private readonly now: () => Date;

  /** @param options.now clock for `_SUCCESS` and `error.json` (tests); default the system clock. */
  constructor(dir: string, options: { readonly now?: () => Date } = {}) {
    this.location = path.resolve(dir);
    this.now = options.now ?? (() => new Date());
    this.staging = path.join(this.location, `.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  open(name: string): Writable {
    this.stagingReady ??= mkdir(this.staging, { recursive: true }).then(() => undefined);
    const input = new PassThrough();
    const hash = createHash('sha256');
    let bytes = 0;
    input.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    input.pause();
    const done = this.stagingReady.then(async () => {
      const file = createWriteStream(path.join(this.staging, name));
      // pipeline, not pipe: an input destroyed by abort() must end the file too, or abort waits forever.
      await pipeline(input, file);
      return { name, bytes, sha256: hash.digest('hex') };
    });
    // Unhandled until commit() awaits it; keep Node from reporting it early.
    done.catch(() => undefined);
    this.pending.push({ name, input, done });
    return input;
  }

  async commit(): Promise<OutputFileRecord[]> {
    const records = await Promise.all(this.pending.map((p) => p.done));
    await mkdir(this.location, { recursive: true });
    await this.removeEarlierRun();
    for (const record of records) await rename(path.join(this.staging, record.name), path.join(this.location, record.name));
    await rm(this.staging, { recursive: true, force: true });
    await writeFile(
      path.join(this.location, SUCCESS_FILE),
      `${JSON.stringify({ completedAt: this.now().toISOString(), files: records }, null, 2)}\n`,
    );
    return records;
  }

  async abort(error: unknown): Promise<void> {
    // An output the failed run never ended would never finish: stop it.
    for (const { input } of this.pending) if (!input.writableEnded) input.destroy();
    await Promise.allSettled(this.pending.map((p) => p.done));
    await rm(this.staging, { recursive: true, force: true });
    await mkdir(this.location, { recursive: true });
    // An earlier run's outputs in the same folder would pass for this failed run's (drift would read its profile).
    await this.removeEarlierRun();
    await writeFile(path.join(this.location, ERROR_FILE), `${JSON.stringify(describeRunFailure(error, this.now()), null, 2)}\n`);
  }

  /** Removes what an earlier run left in the folder: `_SUCCESS` last, so it never outlives the files it lists. */
  private async removeEarlierRun(): Promise<void> {
    const names = new Set(RUN_FILES);
    for (const name of await listedInSuccess(path.join(this.location, SUCCESS_FILE))) names.add(name);
    names.delete(SUCCESS_FILE);
    for (const name of names) await rm(path.join(this.location, name), { force: true });
    await rm(path.join(this.location, SUCCESS_FILE), { force: true });
  }

  /** Lists leftover staging folders (for tests: a finished run leaves none). */
  async stagingLeftovers(): Promise<string[]> {
    const entries = await readdir(this.location).catch(() => []);
    return entries.filter((e) => e.startsWith('.staging-'));
  }
}

/**
 * The file names a `_SUCCESS` manifest lists; none when there is no manifest or it is not ours. Only
 * plain names inside the folder count: a tampered manifest cannot make a run delete files elsewhere.
 */
async function listedInSuccess(file: string): Promise<string[]> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return [];
  }
  const files = (manifest as { files?: unknown } | null)?.files;
  if (!Array.isArray(files)) return [];
  return files
    .map((entry) => (entry as { name?: unknown } | null)?.name)
    .filter((name): name is string => typeof name === 'string' && name !== '' && name === path.basename(name) && name !== '.' && name !== '..');
}
