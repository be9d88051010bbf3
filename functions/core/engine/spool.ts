import type { Writable } from 'node:stream';

/** The two line streams a part spools: scored lines and reject lines. */
export type SpoolChannel = 'scores' | 'rejects';

/**
 * Where a scored part keeps its lines between scoring and the merge (a temp folder, later perhaps
 * an S3 prefix for parts scored elsewhere). It holds raw customer rows (rejects), so whoever holds
 * a spool disposes of it on every path, failure included.
 *
 * Life: write both channels → `close()` → read them back with `lines()` (any number of times) →
 * `dispose()`. `dispose()` may come at any point, also before `close()`, and twice.
 */
export interface Spool {
  /** Scored lines, `<exact ranking score>|<scores.csv row>\n`. */
  readonly scores: Writable;
  /** Reject lines, as rows of `rejects.csv`. */
  readonly rejects: Writable;
  /** Ends both channels and waits until everything written can be read back. */
  close(): Promise<void>;
  /** The lines of one channel (without their line feeds), in the order they were written. */
  lines(channel: SpoolChannel): AsyncIterable<string>;
  /** Removes everything the spool holds. */
  dispose(): Promise<void>;
}

/** Makes an empty spool for one part; the caller picks the adapter (the core never does). */
export type SpoolFactory = () => Promise<Spool>;
