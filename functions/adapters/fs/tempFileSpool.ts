import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { SPOOL_CHANNEL_NAME, type Spool, type SpoolChannel } from '../../core/engine/spool.js';

const SUFFIX = '.spool';

/**
 * A part's spool in a fresh temp folder (`propensity-part-…`, one `<channel>.spool` file per
 * channel), removed with everything in it by `dispose()`. A closed spool's folder can be handed to
 * another thread or process and read there with {@link TempFileSpool.attach}.
 */
export class TempFileSpool implements Spool {
  readonly scores: WriteStream;
  readonly rejects: WriteStream;
  private readonly streams = new Map<SpoolChannel, WriteStream>();
  private readonly names: SpoolChannel[];
  private disposed = false;

  private constructor(
    /** The temp folder; gone after `dispose()`. */
    readonly dir: string,
    handles: { scores: FileHandle; rejects: FileHandle } | null,
    names: readonly SpoolChannel[] = ['scores', 'rejects'],
  ) {
    this.names = [...names];
    // An attached (read-only) spool has nothing to write: its write streams are ended at once.
    this.scores = this.track('scores', handles ? createWriteStream('', { fd: handles.scores }) : endedStream());
    this.rejects = this.track('rejects', handles ? createWriteStream('', { fd: handles.rejects }) : endedStream());
  }

  /** Creates the folder and opens both files before returning, so `dispose()` never races an open. */
  static async create(parent: string = tmpdir()): Promise<TempFileSpool> {
    const dir = await mkdtemp(path.join(parent, 'propensity-part-'));
    try {
      const [scores, rejects] = await Promise.all([open(path.join(dir, `scores${SUFFIX}`), 'w'), open(path.join(dir, `rejects${SUFFIX}`), 'w')]);
      return new TempFileSpool(dir, { scores, rejects });
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * The closed spool in `dir` (written by another thread or process), to read and dispose of here.
   * Channels are found from the folder's files; `scores` and `rejects` must be there.
   */
  static async attach(dir: string): Promise<TempFileSpool> {
    const found = (await readdir(dir)).filter((f) => f.endsWith(SUFFIX)).map((f) => f.slice(0, -SUFFIX.length)).sort();
    if (!found.includes('scores') || !found.includes('rejects')) throw new Error(`${dir} is not a spool folder (no scores/rejects channel)`);
    const spool = new TempFileSpool(dir, null, ['scores', 'rejects', ...found.filter((n) => n !== 'scores' && n !== 'rejects')]);
    return spool;
  }

  open(channel: SpoolChannel): WriteStream {
    if (!SPOOL_CHANNEL_NAME.test(channel)) throw new Error(`spool channel name "${channel}" is not allowed`);
    if (this.names.includes(channel)) throw new Error(`spool channel "${channel}" is already open`);
    if (this.disposed) throw new Error('the spool was disposed of');
    this.names.push(channel);
    return this.track(channel, createWriteStream(this.fileOf(channel)));
  }

  channels(): readonly SpoolChannel[] {
    return [...this.names];
  }

  async close(): Promise<void> {
    await Promise.all([...this.streams.values()].map(async (stream) => {
      stream.end();
      await finished(stream);
    }));
  }

  lines(channel: SpoolChannel): AsyncIterable<string> {
    return createInterface({ input: createReadStream(this.fileOf(channel), { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  }

  bytes(channel: SpoolChannel, options: { readonly chunkBytes?: number } = {}): AsyncIterable<Uint8Array> {
    return createReadStream(this.fileOf(channel), { highWaterMark: options.chunkBytes ?? 1 << 20 });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(
      [...this.streams.values()].map(async (stream) => {
        if (!stream.closed) stream.destroy();
        await finished(stream).catch(() => undefined);
      }),
    );
    await rm(this.dir, { recursive: true, force: true });
  }

  private track(channel: SpoolChannel, stream: WriteStream): WriteStream {
    // A write error surfaces through the engine's next write or close(); without a listener it would
    // instead crash the process and leave the folder behind.
    stream.on('error', () => undefined);
    this.streams.set(channel, stream);
    return stream;
  }

  private fileOf(channel: SpoolChannel): string {
    if (!this.names.includes(channel)) throw new Error(`the spool has no channel "${channel}"`);
    return path.join(this.dir, `${channel}${SUFFIX}`);
  }
}

/** A write stream that is already finished (the write side of an attached spool). */
function endedStream(): WriteStream {
  const stream = createWriteStream('/dev/null');
  stream.end();
  return stream;
}

/**
 * The core's `SpoolFactory` for local runs and Lambda (`/tmp`): each part gets its own temp folder.
 * @param options.parent where the folders go (default: the OS temp folder).
 * @example await scoreExtract({ …, spool: tempFileSpool() });
 */
export function tempFileSpool(options: { readonly parent?: string } = {}): () => Promise<TempFileSpool> {
  return () => TempFileSpool.create(options.parent);
}
