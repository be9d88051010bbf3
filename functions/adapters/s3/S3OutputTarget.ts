import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { OutputError } from '../../core/errors.js';
import type { OutputFileRecord, OutputTarget } from '../../core/engine/outputTarget.js';
import { describeRunFailure, type RunFailure } from '../../core/engine/runFailure.js';
import { deleteKeys, putJsonObject } from './s3Objects.js';

/** Written last, only when every output is complete: its presence is what "this run is done" means. */
export const SUCCESS_FILE = '_SUCCESS';
/** Written instead of `_SUCCESS` when a run fails. */
export const ERROR_FILE = 'error.json';

/** The extract a run scored, as recorded in `_SUCCESS` and `error.json`. */
export interface RunSource {
  readonly bucket: string;
  readonly key: string;
  readonly etag?: string | undefined;
  readonly versionId?: string | undefined;
}

/** What identifies a run in its manifest. */
export interface RunIdentity {
  readonly runId: string;
  readonly source: RunSource;
  readonly model?: { readonly name: string; readonly version: string };
}

/** Contents of `_SUCCESS`. */
export interface SuccessManifest extends RunIdentity {
  readonly files: OutputFileRecord[];
  readonly completedAt: string;
}

/**
 * Contents of `error.json`: the one run-failure shape every target writes (status, failedAt, the
 * error's code, message and context), plus the run's identity as in `_SUCCESS`.
 */
export interface ErrorReport extends RunIdentity, RunFailure {}

export interface S3OutputTargetOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix of the run, e.g. `outputs/bank-marketing/bank-full-1a2b3c4d5e6f/` (a trailing `/` is added if missing). */
  readonly prefix: string;
  readonly run: RunIdentity;
  /** Multipart part size; memory per open output is about `partSize × queueSize`. Default 5 MiB (the S3 minimum). */
  readonly partSize?: number;
  /** Parts uploaded in parallel per output. Default 2. */
  readonly queueSize?: number;
  /** Clock, for reproducible manifests in tests. */
  readonly now?: () => Date;
}

interface OpenOutput {
  readonly name: string;
  readonly stream: Transform;
  readonly upload: Upload;
  /** Settles when the upload has finished; never rejects (the error is kept in `failure`). */
  readonly settled: Promise<void>;
  record?: OutputFileRecord;
  failure?: unknown;
  uploaded?: boolean;
}

const CONTENT_TYPES: Record<string, string> = { '.csv': 'text/csv; charset=utf-8', '.json': 'application/json', '.html': 'text/html; charset=utf-8', '.md': 'text/markdown; charset=utf-8' };

function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot >= 0 && CONTENT_TYPES[name.slice(dot)]) || 'application/octet-stream';
}

/**
 * Streams a run's outputs to an S3 prefix with `@aws-sdk/lib-storage` (multipart, bounded memory),
 * hashing each file while it streams. `commit()` writes `_SUCCESS` last, listing every file with
 * its size and sha256; `abort()` deletes what was written and leaves `error.json` instead.
 *
 * @example
 * const target = new S3OutputTarget({ client, bucket, prefix: 'outputs/m/run-1/', run: { runId: 'run-1', source } });
 * const out = target.open('scores.csv'); out.end('id,score\n');
 * await target.commit(); // → [{ name: 'scores.csv', bytes: 9, sha256: '…' }]
 */
export class S3OutputTarget implements OutputTarget {
  readonly location: string;
  private readonly options: S3OutputTargetOptions;
  private readonly prefix: string;
  private readonly outputs = new Map<string, OpenOutput>();
  private state: 'open' | 'committed' | 'aborted' = 'open';
  private run: RunIdentity;

  constructor(options: S3OutputTargetOptions) {
    this.options = options;
    this.run = options.run;
    this.prefix = options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
    this.location = `s3://${options.bucket}/${this.prefix}`;
  }

  /** Records the model version once it is resolved (the target exists earlier, to report a failure to resolve it). */
  setModel(model: { name: string; version: string }): void {
    this.run = { ...this.run, model: { name: model.name, version: model.version } };
  }

  /** Full object key of an output file. */
  keyOf(name: string): string {
    return `${this.prefix}${name}`;
  }

  open(name: string): Writable {
    if (this.state !== 'open') throw new OutputError(`cannot open an output after the run was ${this.state}`, { output: this.keyOf(name) });
    if (name === SUCCESS_FILE || name === ERROR_FILE) throw new OutputError('is reserved for the run manifest', { output: this.keyOf(name) });
    if (!/^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/.test(name) || name.includes('..')) {
      throw new OutputError('is not a valid output name', { output: this.keyOf(name) });
    }
    if (this.outputs.has(name)) throw new OutputError('was opened twice', { output: this.keyOf(name) });

    const hash = createHash('sha256');
    let bytes = 0;
    const output: Partial<OpenOutput> & { name: string } = { name };
    // Hash and count on the way through, so the manifest needs no second read of the object.
    const stream = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
      flush(callback) {
        output.record = { name, bytes, sha256: hash.digest('hex') };
        callback();
      },
    });
    // The upload gets its own body stream: lib-storage destroys its body with a bare AbortError when it
    // fails, and the engine's writer should see an OutputError naming the output instead.
    const body = new PassThrough();
    stream.pipe(body);
    const upload = new Upload({
      client: this.options.client,
      params: { Bucket: this.options.bucket, Key: this.keyOf(name), Body: body, ContentType: contentTypeOf(name) },
      partSize: this.options.partSize ?? 5 * 1024 * 1024,
      queueSize: this.options.queueSize ?? 2,
      leavePartsOnError: false,
    });
    const settled = upload.done().then(
      () => {
        output.uploaded = true;
      },
      (error: unknown) => {
        output.failure = error;
        // Fail the writer too: otherwise the engine would block on backpressure forever.
        if (!stream.destroyed) stream.destroy(new OutputError('upload failed', { output: this.keyOf(name), cause: error }));
      },
    );
    const entry: OpenOutput = Object.assign(output, { stream, upload, settled });
    this.outputs.set(name, entry);
    return stream;
  }

  async commit(): Promise<OutputFileRecord[]> {
    if (this.state !== 'open') throw new OutputError(`cannot commit a run that was ${this.state}`, { output: this.location });
    for (const output of this.outputs.values()) {
      if (!output.stream.writableEnded) throw new OutputError('was never closed (call end() before commit)', { output: this.keyOf(output.name) });
    }
    await Promise.all([...this.outputs.values()].map((o) => o.settled));
    const records: OutputFileRecord[] = [];
    for (const output of this.outputs.values()) {
      if (output.failure !== undefined || !output.uploaded || !output.record) {
        throw new OutputError('upload failed', { output: this.keyOf(output.name), cause: output.failure });
      }
      records.push(output.record);
    }
    const manifest: SuccessManifest = { ...this.run, files: records, completedAt: this.now().toISOString() };
    try {
      // A retry that succeeds must not leave the previous attempt's error behind.
      await deleteKeys(this.options.client, this.options.bucket, [this.keyOf(ERROR_FILE)]);
      await putJsonObject(this.options.client, this.options.bucket, this.keyOf(SUCCESS_FILE), manifest);
    } catch (error) {
      throw new OutputError('could not write the run manifest', { output: this.keyOf(SUCCESS_FILE), cause: error });
    }
    this.state = 'committed';
    return records;
  }

  /**
   * Stops unfinished uploads, waits for finished ones, deletes the outputs of this run (best effort)
   * and writes `error.json`.
   * Never throws: the caller is already handling `error`, which matters more than a cleanup failure.
   */
  async abort(error: unknown): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    const outputs = [...this.outputs.values()];
    for (const output of outputs) {
      // A finished writer's upload is let run to its end, not aborted: an abort cannot recall a PUT
      // already on the wire, which could then land after the delete below and outlive the run.
      if (!output.uploaded && output.failure === undefined && !output.stream.writableEnded) {
        // Destroy quietly first, so the failed upload does not raise a second error on the writer.
        if (!output.stream.destroyed) output.stream.destroy();
        await output.upload.abort().catch(() => undefined);
      }
    }
    await Promise.all(outputs.map((o) => o.settled));
    const report: ErrorReport = { ...this.run, ...describeRunFailure(error, this.now()) };
    await deleteKeys(this.options.client, this.options.bucket, outputs.map((o) => this.keyOf(o.name))).catch(() => undefined);
    await putJsonObject(this.options.client, this.options.bucket, this.keyOf(ERROR_FILE), report).catch(() => undefined);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
