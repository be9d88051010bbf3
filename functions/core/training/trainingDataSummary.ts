// Its own module: the training report reads it without importing the bundle assembly that renders the report.
/** Where the rows went, for the manifest (`metrics.data`). */
export interface TrainingDataSummary {
  readonly source: string;
  /** Data rows of the file, rejected ones included. */
  readonly rows: number;
  readonly rejectedByReader: number;
  readonly unlabelled: number;
  readonly droppedByEncoder: Record<string, number>;
  readonly unseenClassesInTest: readonly string[];
  readonly trainRows: number;
  readonly validationRows: number;
  /** Rows the shipped model learnt from: train and validation (all of them with folds). */
  readonly fitRows: number;
  /** 1: one model trained on `trainRows`; K ≥ 2: a merged ensemble of K members, one per fold of the fit rows. */
  readonly folds: number;
  readonly testRows: number;
  /** `given rows`, `stratified <fraction>` or `latest <fraction> by <order> (<first> – <last>)`. */
  readonly testSplit: string;
}
