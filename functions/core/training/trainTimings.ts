/** Wall-clock seconds per phase. */
export interface TrainTimings {
  readonly read: number;
  readonly prepare: number;
  /** Search and final fit. */
  readonly fit: number;
  readonly evaluate: number;
  readonly export: number;
  readonly total: number;
}

/** Seconds since `from` (a `performance.now()`), to the millisecond. */
export const secondsSince = (from: number): number => Number(((performance.now() - from) / 1000).toFixed(3));

/** Runs one phase and returns its result with its wall-clock seconds. */
export async function timed<T>(phase: () => T | Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await phase();
  return [result, secondsSince(started)];
}
