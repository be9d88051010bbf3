import { ExtractError, type RejectReason } from '../errors.js';
import type { ScoredPart } from './scoredPart.js';

/** Share of rows a run may reject before it fails, unless the spec or the run says otherwise. */
export const DEFAULT_MAX_REJECT_RATE = 0.05;
/** Fewer rows than this say too little about a file's layout: only a run that scored none of them fails. */
export const MIN_ROWS_TO_JUDGE = 20;

function percent(rate: number): string {
  return `${+(rate * 100).toFixed(2)} %`;
}

/**
 * Fails a run whose rejected share of rows is above `maxRejectRate` (0–1): a file that does not
 * fit its model's layout (a column dropped, a shifted header-less file) rejects most rows, and
 * scoring the rest as if nothing were wrong would hide it. Judged once the whole extract is read
 * (all parts), so the outcome does not depend on where the bad rows sit or how the file was split:
 * a run with at least {@link MIN_ROWS_TO_JUDGE} rows fails above the limit; a smaller one fails
 * only when every row was rejected. The message names the rate, the limit and the three most
 * common reasons with their counts; never a value from the file.
 *
 * @throws ExtractError EXTRACT_TOO_MANY_REJECTS
 * @example assertRejectRate(parts, 0.05, 'customers.csv');
 */
export function assertRejectRate(parts: readonly ScoredPart[], maxRejectRate: number, source: string): void {
  let read = 0;
  let rejected = 0;
  const reasons = new Map<RejectReason, number>();
  for (const part of parts) {
    read += part.rowsRead;
    rejected += part.rowsRejected;
    for (const [reason, count] of Object.entries(part.rejectReasons) as Array<[RejectReason, number]>) reasons.set(reason, (reasons.get(reason) ?? 0) + count);
  }
  if (read === 0 || rejected === 0) return;
  const rate = rejected / read;
  const judged = read >= MIN_ROWS_TO_JUDGE ? rate > maxRejectRate : rejected === read;
  if (!judged) return;
  const top = [...reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3);
  throw new ExtractError(
    'EXTRACT_TOO_MANY_REJECTS',
    `${rejected} of ${read} rows rejected (${percent(rate)}), more than the limit of ${percent(maxRejectRate)}; ` +
      `most common reasons: ${top.map(([reason, count]) => `${reason} ${count}`).join(', ')}; to score anyway and see every reject, raise the limit (maxRejectRate; CLI --max-reject-rate)`,
    { file: source },
  );
}
