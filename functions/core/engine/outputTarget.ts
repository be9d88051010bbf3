import type { Writable } from 'node:stream';

/** One finished output file, as listed in the `_SUCCESS` manifest. */
export interface OutputFileRecord {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Where a scoring run writes its outputs (a local folder, an S3 prefix).
 *
 * Outputs become visible as complete only through `commit()`, which the engine calls after every
 * stream has finished: a local target renames a staging folder, an S3 target writes `_SUCCESS`
 * last. `abort()` removes partial files where it can and records why the run failed.
 */
export interface OutputTarget {
  /** Human-readable location for logs and the report (e.g. `/tmp/out` or `s3://bucket/outputs/x/run`). */
  readonly location: string;
  /** A writable byte stream for one output file (`scores.csv`, `summary.json`, …). */
  open(name: string): Writable;
  /** Waits for every opened stream to be durably written, then marks the run complete. */
  commit(): Promise<OutputFileRecord[]>;
  /** Marks the run failed (`error.json`) and removes or hides partial outputs. */
  abort(error: unknown): Promise<void>;
}
