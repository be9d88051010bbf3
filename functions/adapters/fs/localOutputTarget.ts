import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OutputFileRecord, OutputTarget } from '../../core/engine/outputTarget.js';
import { describeRunFailure } from '../../core/engine/runFailure.js';

export const SUCCESS_FILE = '_SUCCESS';
export const ERROR_FILE = 'error.json';
/** Files a run writes that make a folder look like a finished run. */
const COMPLETE_MARKERS = [SUCCESS_FILE, 'summary.json'];

/**
 * Writes a run's outputs into a local folder. Files are staged in a hidden sub-folder and moved
 * into place only by `commit()`, which writes `_SUCCESS` last; a failed run leaves `error.json`
 * and no `_SUCCESS` or `summary.json`, so nothing that looks complete.
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
    await rm(path.join(this.location, ERROR_FILE), { force: true });
    await rm(path.join(this.location, SUCCESS_FILE), { force: true });
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
    // An earlier run's markers in the same folder would make this failed run look complete.
    for (const marker of COMPLETE_MARKERS) await rm(path.join(this.location, marker), { force: true });
    await writeFile(path.join(this.location, ERROR_FILE), `${JSON.stringify(describeRunFailure(error, this.now()), null, 2)}\n`);
  }

  /** Lists leftover staging folders (for tests: a finished run leaves none). */
  async stagingLeftovers(): Promise<string[]> {
    const entries = await readdir(this.location).catch(() => []);
    return entries.filter((e) => e.startsWith('.staging-'));
  }
}
