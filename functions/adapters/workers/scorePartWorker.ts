/**
 * A worker thread of a multi-part run (see `scoreInParts`): runs the tasks it is sent (`partTasks`)
 * and posts back their outcomes; `close` disposes of its model and ends the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { partTaskRunner } from './partTasks.js';
import type { PartWorkerData, PartWorkerReply, PartWorkerRequest } from './partWorkerProtocol.js';

const port = parentPort;
if (!port) throw new Error('scorePartWorker runs as a worker thread only');
const runner = partTaskRunner(workerData as PartWorkerData, (reply: PartWorkerReply) => port.postMessage(reply));

port.on('message', (request: PartWorkerRequest) => {
  if (request.type === 'close') void runner.close().then(() => port.close());
  else runner.handle(request);
});
