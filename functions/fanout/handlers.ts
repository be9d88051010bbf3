import { traced } from '../adapters/tracing/traced.js';
import { createFanOutRuntime } from './fanOutRuntime.js';
import { abortRun, mergeRun, planRun, scoreRunPart } from './fanOutSteps.js';
import type { AbortTask, FanOutRun, PartTask, PlannedRun } from './fanOutRun.js';

/**
 * The fan-out state machine's Lambda entry points (one asset, one export per function):
 * `plan` → a Distributed Map of `part` → `finish` (merge, or abort from the Catch).
 */

// Cold start: config is validated once here; a bad variable fails the init with its name.
const runtime = createFanOutRuntime();

/** Plans the run: the execution input is the score function's StartExecution input. */
export const plan = traced('plan', (event: FanOutRun) => planRun(runtime, event), (run, planned) => ({ model: run.model, runId: run.runId, parts: planned?.parts.length }));

/** Scores one part: a Distributed Map item `{ run, part }`. */
export const part = traced('part', (event: PartTask) => scoreRunPart(runtime, event), ({ run, part: range }) => ({
  model: run.model,
  runId: run.runId,
  part: range.index,
  partBytes: range.end - range.start,
}));

/** What the state machine asks of the finish function: merge the parts, or abort the run. */
export type FinishTask = ({ readonly action: 'merge' } & { readonly run: PlannedRun }) | ({ readonly action: 'abort' } & AbortTask);

/** Merges the parts into the run's outputs, or (from the Catch) leaves error.json and deletes the parts. */
export const finish = traced(
  'finish',
  async (event: FinishTask) => (event.action === 'merge' ? await mergeRun(runtime, event.run) : await abortRun(runtime, event)),
  (event, result) => ({ model: event.run.model, runId: event.run.runId, action: event.action, status: result?.status }),
);
