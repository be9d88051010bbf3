/**
 * A worker thread of a multi-part run (see `scoreInParts`): loads the bundle's model once, then
 * scores the parts it is sent one at a time, each into a spool in the run's temp folder, and posts
 * back the part as JSON with its spool's folder. Every failure goes back as data (the error's class,
 * code and location survive the trip), never as an uncaught exception.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorToJson } from '../../core/errorJson.js';
import { loadBundle, type LoadedBundle } from '../../core/engine/loadBundle.js';
import { scorePart } from '../../core/engine/scorePart.js';
import { scoredPartToJson } from '../../core/engine/scoredPartJson.js';
import { tempFileSpool, type TempFileSpool } from '../fs/tempFileSpool.js';
import { loadModel } from '../model/modelLoader.js';
import { openPartRange } from './partSource.js';
import type { PartWorkerData, PartWorkerReply, PartWorkerRequest, ScorePartRequest } from './partWorkerProtocol.js';

const port = parentPort;
if (!port) throw new Error('scorePartWorker runs as a worker thread only');
const data = workerData as PartWorkerData;
const post = (reply: PartWorkerReply): void => port.postMessage(reply);
let bundle: Promise<LoadedBundle> | undefined;

async function score(request: ScorePartRequest): Promise<void> {
  const { index, range, layout } = request;
  try {
    // One ONNX thread per worker: the workers are the parallelism, they must not fight for cores.
    bundle ??= loadBundle(data.bundle, loadModel, { intraOpNumThreads: 1 });
    const part = await scorePart({
      input: await openPartRange(data.extract, range),
      source: data.source,
      bundle: await bundle,
      economics: data.economics,
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

let queue = Promise.resolve();
port.on('message', (request: PartWorkerRequest) => {
  if (request.type === 'score') {
    queue = queue.then(() => score(request));
    return;
  }
  queue = queue.then(async () => {
    const loaded = await bundle?.catch(() => undefined);
    await loaded?.model.dispose();
    port.close();
  });
});
