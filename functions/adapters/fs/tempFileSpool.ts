import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import type { Spool, SpoolChannel } from '../../core/engine/spool.js';

/**
 * A part's spool in a fresh temp folder (`propensity-part-…`, one file per channel), removed with
 * everything in it by `dispose()`.
 */
export class TempFileSpool implements Spool {
  readonly scores: WriteStream;
  readonly rejects: WriteStream;
  private disposed = false;

  private constructor(
    /** The temp folder; gone after `dispose()`. */
    readonly dir: string,
    handles: { scores: FileHandle; rejects: FileHandle },
  ) {
    this.scores = createWriteStream('', { fd: handles.scores });
    this.rejects = createWriteStream('', { fd: handles.rejects });
    // A write error surfaces through the engine's next write or close(); without a listener it would
    // instead crash the process and leave the folder behind.
    for (const stream of [this.scores, this.rejects]) stream.on('error', () => undefined);
  }

  /** Creates the folder and opens both files before returning, so `dispose()` never races an open. */
  static async create(parent: string = tmpdir()): Promise<TempFileSpool> {
    const dir = await mkdtemp(path.join(parent, 'propensity-part-'));
    try {
      const [scores, rejects] = await Promise.all([open(path.join(dir, 'scores.spool'), 'w'), open(path.join(dir, 'rejects.spool'), 'w')]);
      return new TempFileSpool(dir, { scores, rejects });
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.scores, this.rejects].map(async (stream) => {
      stream.end();
      await finished(stream);
    }));
  }

  lines(channel: SpoolChannel): AsyncIterable<string> {
    return createInterface({ input: createReadStream(this.fileOf(channel)), crlfDelay: Infinity });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(
      [this.scores, this.rejects].map(async (stream) => {
        if (!stream.closed) stream.destroy();
        await finished(stream).catch(() => undefined);
      }),
    );
    await rm(this.dir, { recursive: true, force: true });
  }

  private fileOf(channel: SpoolChannel): string {
    return path.join(this.dir, `${channel}.spool`);
  }
}

/**
 * The core's `SpoolFactory` for local runs and Lambda (`/tmp`): each part gets its own temp folder.
 * @param options.parent where the folders go (default: the OS temp folder).
 * @example await scoreExtract({ …, spool: tempFileSpool() });
 */
export function tempFileSpool(options: { readonly parent?: string } = {}): () => Promise<TempFileSpool> {
  return () => TempFileSpool.create(options.parent);
}
