import { createWriteStream } from 'node:fs';
import { errorToJson } from '../../core/errorJson.js';
import { loadBundle, type LoadedBundle } from '../../core/engine/loadBundle.js';
import { scorePart } from '../../core/engine/scorePart.js';
import { scoredPartToJson } from '../../core/engine/scoredPartJson.js';
import { renderScoredLines } from '../../core/engine/scoredLines.js';
import { endStream } from '../../core/engine/textStreams.js';
import { TempFileSpool, tempFileSpool } from '../fs/tempFileSpool.js';
import { loadModel } from '../model/modelLoader.js';
import { SuppressionSet } from '../../core/policy/suppressionList.js';
import { openPartRange } from './partSource.js';
import type { PartWorkerData, PartWorkerReply, RenderPartRequest, ScorePartRequest } from './partWorkerProtocol.js';

/** What a lane of a multi-part run does with the tasks it is sent, one at a time, in order. */
export interface PartTaskRunner {
  /** Queues a task; its outcome comes back through `post`, a failure included. */
  handle(request: ScorePartRequest | RenderPartRequest): void;
  /** Waits for the queued tasks, then disposes of the model. */
  close(): Promise<void>;
}

/**
 * The tasks of one lane of a multi-part run (see `scoreInParts`), the same on a worker thread and on
 * the main thread: loads the bundle's model at once (while the run is being planned), scores the parts
 * it is sent, each into a spool in the run's temp folder, and posts back each part as JSON with its
 * spool's folder; once the run's deciles are known, it renders parts' scored rows for the merge.
 * Every failure is posted back as data (the error's class, code and location survive a thread
 * boundary), never thrown.
 */
export function partTaskRunner(data: PartWorkerData, post: (reply: PartWorkerReply) => void): PartTaskRunner {
  const suppression = data.suppression ? SuppressionSet.fromSnapshot(data.suppression) : null;
  const overCap = data.overCap ? SuppressionSet.fromSnapshot(data.overCap) : null;
  // One ONNX thread per lane: the lanes are the parallelism, they must not fight for cores.
  let bundle: Promise<LoadedBundle> | null = loadBundle(data.bundle, loadModel, { intraOpNumThreads: 1 });
  // A bundle that fails to load fails the first part it is awaited for, not the lane.
  bundle.catch(() => undefined);

  async function score(request: ScorePartRequest): Promise<void> {
    const { index, range, layout } = request;
    try {
      if (!bundle) throw new Error('a part was sent to score after the merge began');
      const part = await scorePart({
        input: await openPartRange(data.extract, range),
        source: data.source,
        bundle: await bundle,
        economics: data.economics,
        suppression,
        overCap,
        spool: tempFileSpool({ parent: data.spoolParent }),
        csvInjectionProtection: data.csvInjectionProtection,
        // The plausibility gate looks at the file's first rows, as a single pass does: the first part's.
        layoutCheck: index === 0 && data.layoutCheck,
        ...(layout ? { part: { ...layout, firstLine: range.firstLine, firstByte: range.start } } : {}),
        ...(data.runId ? { runId: data.runId } : {}),
        ...(data.batchSize ? { batchSize: data.batchSize } : {}),
        ...(data.limits ? { limits: data.limits } : {}),
        onProgress: (progress) => post({ type: 'progress', index, progress }),
      });
      post({ type: 'scored', index, part: scoredPartToJson(part), spoolDir: (part.spool as TempFileSpool).dir });
    } catch (error) {
      post({ type: 'failed', index, error: errorToJson(error) });
    }
  }

  async function render(request: RenderPartRequest): Promise<void> {
    try {
      // No part is scored once the merge has begun: the model's memory goes back first.
      await disposeModel();
      // Read only: the spool belongs to the main thread, which disposes of it with the run's folder.
      const spool = await TempFileSpool.attach(request.spoolDir);
      const out = createWriteStream(request.file);
      try {
        await renderScoredLines(spool.bytes('scores'), request.decileByBin, out, data.source);
        await endStream(out);
      } finally {
        out.destroy();
      }
      post({ type: 'rendered', index: request.index });
    } catch (error) {
      post({ type: 'failed', index: request.index, error: errorToJson(error) });
    }
  }

  async function disposeModel(): Promise<void> {
    const loaded = await bundle?.catch(() => undefined);
    bundle = null;
    await loaded?.model.dispose();
  }

  let queue = Promise.resolve();
  return {
    handle: (request) => {
      queue = queue.then(() => (request.type === 'score' ? score(request) : render(request)));
    },
    close: async () => {
      await queue;
      await disposeModel();
    },
  };
}
