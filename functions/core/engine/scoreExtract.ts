import type { OutputTarget } from './outputTarget.js';
import type { RunOutcome } from './runOutputs.js';
import { scorePart, type ScorePartOptions } from './scorePart.js';
import type { ScoredPart } from './scoredPart.js';
import { writeRunOutputs } from './writeRunOutputs.js';

export interface ScoreExtractOptions extends Omit<ScorePartOptions, 'part' | 'customerIds'> {
  readonly output: OutputTarget;
  /** Share of rows (0–1) the run may reject before it fails. @default the spec's `file.maxRejectRate`, else 0.05 */
  readonly maxRejectRate?: number;
}

/**
 * Scores one whole extract and writes every output: {@link scorePart} then {@link writeRunOutputs}.
 * On failure the output target is aborted (`error.json`, nothing that looks complete) and the
 * error rethrown. The spool is disposed of on every path: no customer row stays behind.
 *
 * @example
 * const { summary } = await scoreExtract({ input: createReadStream(file), source: file, bundle, economics, spool: tempFileSpool(), output: new LocalOutputTarget(dir) });
 */
export async function scoreExtract(options: ScoreExtractOptions): Promise<RunOutcome> {
  const startedAt = new Date();
  let part: ScoredPart | undefined;
  try {
    // The whole file in one pass: its reader refuses a repeated customer itself.
    part = await scorePart({ ...options, customerIds: false });
    return await writeRunOutputs([part], { bundle: options.bundle, economics: options.economics, output: options.output, source: options.source, startedAt, maxRejectRate: options.maxRejectRate });
  } catch (error) {
    await options.output.abort(error);
    throw error;
  } finally {
    await part?.spool.dispose();
  }
}
