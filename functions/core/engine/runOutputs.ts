import { PROFILE_FILE } from '../drift/runProfile.js';
import type { OutputFileRecord } from './outputTarget.js';
import type { RunSummary } from './runSummary.js';

/** The files a run writes to its output target (besides the target's own `_SUCCESS` / `error.json`). */
export const OUTPUT_FILES = {
  scores: 'scores.csv',
  targets: 'targets.csv',
  summary: 'summary.json',
  rejects: 'rejects.csv',
  report: 'report.md',
  /** The same report as one self-contained HTML page with charts (`core/report/runReport.ts`). */
  reportHtml: 'report.html',
  profile: PROFILE_FILE,
  /** The control group held out of the selection; written only when `controlFraction` > 0. */
  control: 'control.csv',
} as const;

/** What a finished run returns: its summary and the files it committed. */
export interface RunOutcome {
  readonly summary: RunSummary;
  readonly files: OutputFileRecord[];
}
