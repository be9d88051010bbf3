import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { partTaskRunner } from './partTasks.js';
import { partWorkerEntry } from './partWorkerEntry.js';
import { MAX_PARTS, MIN_PART_BYTES } from './workerLimits.js';
import type { BundleFiles } from '../../core/bundle/registry.js';
import { errorFromJson } from '../../core/errorJson.js';
import { PartOutcomes } from '../../core/engine/partOutcomes.js';
import type { RunOutcome } from '../../core/engine/runOutputs.js';
import { scoreExtract, type ScoreExtractOptions } from '../../core/engine/scoreExtract.js';
import { readExtractLayout, type ExtractLayout, type ScoreProgress } from '../../core/engine/scorePart.js';
import type { ScoredPart } from '../../core/engine/scoredPart.js';
import { scoredPartFromJson, type ScoredPartJson } from '../../core/engine/scoredPartJson.js';
import { writeRunOutputs } from '../../core/engine/writeRunOutputs.js';
import { resolveExtractLimits } from '../../core/extract/extractLimits.js';
import { planScoringParts } from '../../core/engine/planScoringParts.js';
import type { ByteRangeReader, ExtractPart } from '../../core/extract/planParts.js';
import { TempFileSpool } from '../fs/tempFileSpool.js';
import type { PartSource } from './partSource.js';
import type { PartWorkerData, PartWorkerReply, PartWorkerRequest } from './partWorkerProtocol.js';

export interface ScoreInPartsOptions extends Omit<ScoreExtractOptions, 'observer' | 'part'> {
  /** Where the workers read their byte ranges (a local file, or an S3 object version). */
  readonly extract: PartSource;
  /** Opens the same extract as random-access bytes, to plan the parts (`localByteRanges`, `s3ByteRanges`). */
  readonly bytes: () => Promise<ByteRangeReader>;
  /** The bundle's files, which each worker loads its own model from (`bundle` is the same bundle, loaded here). */
  readonly bundleFiles: BundleFiles;
  /** Worker threads; at most one per part. */
  readonly workers: number;
  /** Byte ranges to split the extract into (fewer when the file is small, gzip, or its quoting allows fewer cuts). */
  readonly parts: number;
  /** Where the run's temp folder goes (its parts' spools). @default the OS temp folder */
  readonly tempDir?: string;
  /** Told the plan once it is made: how many parts, on how many worker threads (0: scored in this thread). */
  readonly onPlan?: (plan: { readonly parts: number; readonly workers: number }) => void;
}

/**
 * Scores one extract on `workers` lanes (this thread and `workers − 1` worker threads) and writes
 * every output, byte for byte what `scoreExtract` writes for the whole file.
 *
 * The extract is cut into line-aligned byte ranges (`planParts`). One part (a gzip file, a file under
 * `2 × MIN_PART_BYTES`, `parts: 1`) is scored right here by `scoreExtract` from `input`, as without
 * workers. Otherwise `input` is closed unread, and each lane loads the model once (one ONNX thread
 * each), scores the ranges it is given into spools under one temp folder, and hands each part back as
 * JSON. Once the parts are merged in file order (`writeRunOutputs`) and the deciles known, the lanes
 * render the parts' scores.csv rows while this thread writes the rejects and the targets. Limits and
 * the reject-rate guard count the whole file; the layout check runs on the first part only.
 *
 * Failure: the run fails with the error of the first failing part in file order (what a single pass
 * would meet first), rebuilt as its own class with code, file and line; the output target is aborted
 * (`error.json`), the worker threads are stopped (this thread's lane finishes its part first), and the
 * temp folder with every spool is removed.
 *
 * @example
 * await scoreInParts({ input: createReadStream(file), extract: { kind: 'file', file }, bytes: () => localByteRanges(file), bundleFiles, bundle, workers: 4, parts: 4, … });
 */
export async function scoreInParts(options: ScoreInPartsOptions): Promise<RunOutcome> {
  const startedAt = new Date();
  // The input may fail to open (a missing file) while the parts are planned, before anything reads it:
  // unheard, that error would be uncaught. A reader still gets it through its own iteration.
  listenForErrors(options.input);
  let plan: ExtractPart[];
  let bytes: ByteRangeReader;
  try {
    bytes = await options.bytes();
    const parts = Math.max(1, Math.min(options.parts, MAX_PARTS, Math.floor(bytes.size / MIN_PART_BYTES)));
    plan = await planScoringParts(bytes, parts, options.bundle, options.source);
  } catch (error) {
    closeUnread(options.input);
    await options.output.abort(error);
    throw error;
  }
  if (plan.length === 1) {
    options.onPlan?.({ parts: 1, workers: 0 });
    return scoreExtract(options);
  }
  closeUnread(options.input);

  const workers = Math.max(1, Math.min(options.workers, plan.length));
  options.onPlan?.({ parts: plan.length, workers });
  const runDir = await mkdtemp(path.join(options.tempDir ?? tmpdir(), 'propensity-run-'));
  // Started before the header is read: each lane loads its model while this thread goes on.
  const pool = new PartWorkerPool(workers, workerData(options, runDir), workers > 1 ? await partWorkerEntry() : null);
  const parts: ScoredPart[] = [];
  try {
    const head = await bytes.read(0, layoutBytes(plan[0]!, options));
    const layout = await readExtractLayout(Readable.from([head]), options.bundle, options.source);
    const scored = await pool.score(plan, layout, options.onProgress);
    for (const [i, { part, spoolDir }] of scored.entries()) {
      parts.push(scoredPartFromJson(part, await TempFileSpool.attach(spoolDir), `${options.source} (part ${i + 1} of ${plan.length})`));
    }
    const spoolDirs = scored.map((s) => s.spoolDir);
    return await writeRunOutputs(parts, {
      bundle: options.bundle,
      economics: options.economics,
      output: options.output,
      source: options.source,
      startedAt,
      maxRejectRate: options.maxRejectRate,
      // The workers end once the parts are rendered: the rest of the merge needs none of their memory.
      renderScores: async (decileByBin) => {
        try {
          return await pool.render(spoolDirs, decileByBin);
        } finally {
          await pool.stop();
        }
      },
    });
  } catch (error) {
    await options.output.abort(error);
    throw error;
  } finally {
    await pool.stop();
    await Promise.all(parts.map((p) => p.spool.dispose()));
    // Every part's spool lives in here, also those of parts a failure made pointless.
    await rm(runDir, { recursive: true, force: true });
  }
}

/** The first bytes of the file that hold its header: up to the first part's end, at most a long record's worth. */
function layoutBytes(first: ExtractPart, options: ScoreInPartsOptions): number {
  return Math.min(first.end, Math.max(2 * 1024 * 1024, resolveExtractLimits(options.limits).maxRecordBytes + 64 * 1024));
}

type MaybeStream = { destroy?: () => void; on?: (event: 'error', listener: () => void) => void };

/** Hears the input's 'error' events, so one emitted before anyone reads is not an uncaught exception. */
function listenForErrors(input: ScoreExtractOptions['input']): void {
  (input as MaybeStream).on?.('error', () => undefined);
}

/** Closes the input no part will read; its own late error (a file that cannot be opened) is already the run's error, or moot. */
function closeUnread(input: ScoreExtractOptions['input']): void {
  const stream = input as MaybeStream;
  if (typeof stream.destroy !== 'function') return;
  stream.destroy();
}

function workerData(options: ScoreInPartsOptions, spoolParent: string): PartWorkerData {
  return {
    bundle: options.bundleFiles,
    economics: options.economics,
    suppression: options.suppression?.snapshot() ?? null,
    overCap: options.overCap?.snapshot() ?? null,
    extract: options.extract,
    source: options.source,
    spoolParent,
    runId: options.runId,
    batchSize: options.batchSize,
    csvInjectionProtection: options.csvInjectionProtection ?? true,
    limits: options.limits,
    layoutCheck: options.layoutCheck ?? true,
  };
}

interface ScoredPartMessage {
  readonly part: ScoredPartJson;
  readonly spoolDir: string;
}

/** File a worker renders a part's scores.csv rows into, in the part's own spool folder (removed with it). */
const RENDERED_SCORES = 'scores.rendered.csv';

type TaskReply = Exclude<PartWorkerReply, { type: 'progress' }>;
type TaskRequest = Exclude<PartWorkerRequest, { type: 'close' }>;

/** Where a pool runs its tasks: a worker thread, or this thread (see `partTasks`). */
interface Lane {
  send(request: TaskRequest): void;
  /** Stops the lane. A busy thread is terminated; this thread's lane finishes its task first (nothing can stop it). */
  stop(busy: boolean): Promise<void>;
  /** Stops the lane's current task where it can (a thread is terminated); this thread's lane finishes it. */
  abandon(): void;
}

interface LaneEvents {
  reply(reply: PartWorkerReply): void;
  crash(error: Error): void;
}

/** A worker thread as a lane. */
function threadLane(entry: URL, data: PartWorkerData, events: LaneEvents): Lane {
  // None of the parent's flags: `-e`/`--input-type` (a test harness, a runtime wrapper) would break a file entry.
  const worker = new Worker(entry, { workerData: data, execArgv: [] });
  let exited = false;
  worker.once('exit', () => (exited = true));
  worker.on('message', (reply: PartWorkerReply) => events.reply(reply));
  // A crash (not a task's error, which comes back as a message) fails the task it was on.
  worker.on('error', (error) => events.crash(error));
  worker.on('exit', (code) => events.crash(new Error(`a scoring worker thread stopped (exit code ${code})`)));
  return {
    send: (request) => worker.postMessage(request),
    abandon: () => void worker.terminate(),
    stop: async (busy) => {
      if (exited) return;
      if (busy) {
        await worker.terminate();
        return;
      }
      const done = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'close' } satisfies PartWorkerRequest);
      // A worker that does not end within seconds is stopped: the run's outcome is already known.
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** This thread as a lane: the same tasks, run here between the other lanes' messages. */
function thisThreadLane(data: PartWorkerData, events: LaneEvents): Lane {
  // Replies are delivered on a later turn, as a thread's would be, never inside `send`.
  const runner = partTaskRunner(data, (reply) => setImmediate(() => events.reply(reply)));
  return {
    send: (request) => runner.handle(request),
    abandon: () => undefined,
    stop: () => runner.close(),
  };
}

/**
 * A run's lanes, started at once: `size − 1` worker threads and this thread (which would otherwise
 * wait idle while the parts are scored, and each thread costs its own heap and model). Hands out
 * tasks (score a part, then render it) in file order to whichever lane is free, and gathers what
 * comes back.
 */
class PartWorkerPool {
  private readonly lanes: Lane[] = [];
  private readonly busy = new Map<Lane, number>();
  private readonly gone = new Set<Lane>();
  private stopping: Promise<void> | null = null;
  /** The task set being run, told of every reply and crash; null between sets. */
  private tasks: { reply(lane: Lane, reply: TaskReply): void; crash(lane: Lane, error: Error): void } | null = null;
  private progress: ((reply: Extract<PartWorkerReply, { type: 'progress' }>) => void) | null = null;

  /** `entry`: the worker threads' entry file (see `partWorkerEntry`); null when this thread is the only lane. */
  constructor(size: number, data: PartWorkerData, entry: URL | null) {
    for (let i = 0; i < size; i++) {
      const events: LaneEvents = {
        reply: (reply) => {
          if (reply.type === 'progress') this.progress?.(reply);
          else this.tasks?.reply(lane, reply);
        },
        crash: (error) => {
          this.gone.add(lane);
          this.tasks?.crash(lane, error);
        },
      };
      // Events come on later turns only, once `lane` is set.
      const lane = i === 0 || !entry ? thisThreadLane(data, events) : threadLane(entry, data, events);
      this.lanes.push(lane);
    }
  }

  /** Scores every part; resolves with them in file order, or rejects with the first failing part's error. */
  async score(plan: readonly ExtractPart[], layout: ExtractLayout, onProgress?: (progress: ScoreProgress) => void): Promise<ScoredPartMessage[]> {
    const progress: ScoreProgress[] = plan.map(() => ({ rowsRead: 0, rowsScored: 0, rowsRejected: 0 }));
    this.progress = (reply) => {
      progress[reply.index] = reply.progress;
      onProgress?.(sumProgress(progress));
    };
    try {
      return await this.run(
        plan.length,
        (index) => ({ type: 'score', index, range: plan[index]!, layout: index === 0 ? null : layout }),
        (reply) => (reply.type === 'scored' ? { part: reply.part, spoolDir: reply.spoolDir } : null),
      );
    } finally {
      this.progress = null;
    }
  }

  /** Renders every scored part's rows (see `ScoresRenderer`): resolves with each part's rendered bytes, in file order. */
  async render(spoolDirs: readonly string[], decileByBin: Readonly<Uint8Array>): Promise<Array<() => AsyncIterable<Uint8Array>>> {
    const files = spoolDirs.map((dir) => path.join(dir, RENDERED_SCORES));
    await this.run(
      spoolDirs.length,
      (index) => ({ type: 'render', index, spoolDir: spoolDirs[index]!, file: files[index]!, decileByBin: Uint8Array.from(decileByBin) }),
      (reply) => (reply.type === 'rendered' ? true : null),
    );
    return files.map((file) => () => createReadStream(file, { highWaterMark: 1 << 20 }));
  }

  /**
   * Runs `count` tasks, each on the next free worker, in index order; resolves with their values
   * in index order, or rejects with the error of the first failing task in index order (see
   * `PartOutcomes`), stopping the workers busy with later tasks.
   */
  private run<T>(count: number, request: (index: number) => TaskRequest, value: (reply: TaskReply) => T | null): Promise<T[]> {
    const outcomes = new PartOutcomes<T>(count);
    let next = 0;
    return new Promise<T[]>((resolve, reject) => {
      const settle = () => {
        const decision = outcomes.decision();
        if (!decision.done) return false;
        this.tasks = null;
        if ('error' in decision) reject(decision.error);
        else resolve(decision.values);
        return true;
      };
      const dispatch = (lane: Lane) => {
        this.busy.delete(lane);
        if (next >= count || !outcomes.needed(next)) return;
        const index = next++;
        this.busy.set(lane, index);
        lane.send(request(index));
      };
      const failed = (index: number, error: Error) => {
        outcomes.fail(index, error);
        // Tasks after the first failure cannot change the outcome: stop the lanes busy with them.
        for (const [lane, busyWith] of this.busy) {
          if (busyWith > outcomes.firstFailure) {
            this.busy.delete(lane);
            lane.abandon();
          }
        }
      };
      this.tasks = {
        reply: (lane, reply) => {
          const got = reply.type === 'failed' ? null : value(reply);
          if (got === null) failed(reply.index, reply.type === 'failed' ? errorFromJson(reply.error) : new Error(`a worker answered ${reply.type} to a task of another kind`));
          else outcomes.succeed(reply.index, got);
          if (!settle()) dispatch(lane);
        },
        crash: (lane, error) => {
          const index = this.busy.get(lane);
          if (index === undefined) return;
          this.busy.delete(lane);
          failed(index, error);
          settle();
        },
      };
      if (count === 0) settle();
      for (const lane of this.lanes) if (!this.gone.has(lane)) dispatch(lane);
      // Every lane gone before the tasks were handed out (none left to run them).
      if (this.busy.size === 0 && !outcomes.decision().done) reject(new Error('no scoring lane is left to run the tasks'));
    });
  }

  /** Ends every lane once (idle ones dispose of their model and exit, busy threads are terminated); later calls wait for the same. */
  stop(): Promise<void> {
    this.stopping ??= Promise.all(
      this.lanes.map(async (lane) => {
        if (!this.gone.has(lane)) await lane.stop(this.busy.has(lane));
      }),
    ).then(() => undefined);
    return this.stopping;
  }
}

function sumProgress(parts: readonly ScoreProgress[]): ScoreProgress {
  let rowsRead = 0;
  let rowsScored = 0;
  let rowsRejected = 0;
  for (const p of parts) {
    rowsRead += p.rowsRead;
    rowsScored += p.rowsScored;
    rowsRejected += p.rowsRejected;
  }
  return { rowsRead, rowsScored, rowsRejected };
}
