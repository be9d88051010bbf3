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
  readonly testRows: number;
  /** `given rows` or `stratified <fraction>`. */
  readonly testSplit: string;
}
