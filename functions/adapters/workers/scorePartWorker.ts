/**
 * A worker thread of a multi-part run (see `scoreInParts`): loads the bundle's model as soon as it
 * starts (while the main thread plans the run), scores the parts it is sent one at a time, each into
 * a spool in the run's temp folder, and posts back the part as JSON with its spool's folder; once
 * the run's deciles are known, it renders parts' scored rows for the merge. Every failure goes back
 * as data (the error's class, code and location survive the trip), never as an uncaught exception.
 */
import { createWriteStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
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
import type { PartWorkerData, PartWorkerReply, PartWorkerRequest, RenderPartRequest, ScorePartRequest } from './partWorkerProtocol.js';

const port = parentPort;
if (!port) throw new Error('scorePartWorker runs as a worker thread only');
const data = workerData as PartWorkerData;
const post = (reply: PartWorkerReply): void => port.postMessage(reply);
const suppression = data.suppression ? SuppressionSet.fromSnapshot(data.suppression) : null;
const overCap = data.overCap ? SuppressionSet.fromSnapshot(data.overCap) : null;
// One ONNX thread per worker: the workers are the parallelism, they must not fight for cores.
let bundle: Promise<LoadedBundle> | null = loadBundle(data.bundle, loadModel, { intraOpNumThreads: 1 });
// A bundle that fails to load fails the first part it is awaited for, not the thread.
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
port.on('message', (request: PartWorkerRequest) => {
  if (request.type === 'score') queue = queue.then(() => score(request));
  else if (request.type === 'render') queue = queue.then(() => render(request));
  else {
    queue = queue.then(async () => {
      await disposeModel();
      port.close();
    });
  }
});
