import type { LabelledScore } from '../drift/realizedPerformance.js';
import type { RunIndexRow } from './runIndex.js';

/**
 * Joins labels with a run's index rows as they stream past: only the labelled rows are kept, so
 * memory is bounded by the labels (a `Map` of their ids, held by the caller) and never by the run.
 * A selected row's value is the one its target list used; any other row gets `constantValue`
 * (the economics' value per response), exactly as the realized step read `targets.csv`.
 * With `control` (the ids of the run's control.csv), each row says whether it was held out.
 */
export async function joinIndexedOutcomes(
  labels: ReadonlyMap<string, boolean>,
  rows: AsyncIterable<RunIndexRow>,
  constantValue: number,
  control?: ReadonlySet<string>,
): Promise<{ rows: LabelledScore[]; unlabelled: number }> {
  const labelled: LabelledScore[] = [];
  let unlabelled = 0;
  for await (const row of rows) {
    const responded = labels.get(row.id);
    if (responded === undefined) {
      unlabelled++;
      continue;
    }
    labelled.push({
      probability: Number(row.score),
      selected: row.selected,
      responded,
      value: row.selected ? Number(row.value) : constantValue,
      ...(control ? { control: control.has(row.id) } : {}),
    });
  }
  return { rows: labelled, unlabelled };
}
