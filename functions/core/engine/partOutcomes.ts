/**
 * How the parts of a run, scored at the same time, decide the run: it succeeds when every part has,
 * and fails with the error of the *first failing part in file order* — the error a single pass over
 * the file would have met first. A later part may fail sooner in wall time (it starts mid-file);
 * its error only counts once every part before it has succeeded.
 */
export type PartsDecision<T> = { readonly done: false } | { readonly done: true; readonly values: T[] } | { readonly done: true; readonly error: Error };

export class PartOutcomes<T> {
  private readonly values: Array<T | undefined>;
  private readonly finished: boolean[];
  private failedIndex = Infinity;
  private failure: Error | undefined;

  constructor(readonly count: number) {
    this.values = new Array<T | undefined>(count).fill(undefined);
    this.finished = new Array<boolean>(count).fill(false);
  }

  succeed(index: number, value: T): void {
    this.values[index] = value;
    this.finished[index] = true;
  }

  fail(index: number, error: Error): void {
    this.finished[index] = true;
    if (index < this.failedIndex) {
      this.failedIndex = index;
      this.failure = error;
    }
  }

  /** Whether part `index` can still change the outcome: no part before it has failed. */
  needed(index: number): boolean {
    return index < this.failedIndex;
  }

  /** Index of the first failed part so far (Infinity when none). */
  get firstFailure(): number {
    return this.failedIndex;
  }

  decision(): PartsDecision<T> {
    const upTo = Math.min(this.failedIndex, this.count);
    for (let i = 0; i < upTo; i++) if (!this.finished[i]) return { done: false };
    if (this.failure !== undefined) return { done: true, error: this.failure };
    return { done: true, values: this.values as T[] };
  }
}
