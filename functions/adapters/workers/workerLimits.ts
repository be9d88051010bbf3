import { availableParallelism } from 'node:os';

// The bounds of a run in parts, apart from the code that runs one: configuration (the score
// function's, the drift function's, the CLI's) reads them without loading a model runtime.

/** Most lanes (this thread and worker threads) a run scores on (the CLI's `--workers` bound). */
export const MAX_WORKERS = 64;
/** Most byte ranges a run is split into (the CLI's `--parts` bound). */
export const MAX_PARTS = 1024;
/**
 * Smallest part worth a thread: a file under twice this is scored whole, and a plan never cuts a part
 * smaller. It also keeps the layout check whole: the first part holds its 200 rows at any ordinary width.
 */
export const MIN_PART_BYTES = 256 * 1024;

/** Lanes by default: one per core this process may use (a Lambda's vCPUs). */
export function defaultWorkers(): number {
  return Math.min(MAX_WORKERS, Math.max(1, availableParallelism()));
}
