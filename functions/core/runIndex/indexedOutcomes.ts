import type { LabelledScore } from '../drift/realizedPerformance.js';
import type { OutcomeClaims } from './outcomeClaims.js';
import type { RunIndexRow } from './runIndex.js';

/** A run's customers whose outcomes it answers, column by column (compact as JSON). */
export interface ClaimedRows {
  readonly ids: string[];
  readonly probability: number[];
  readonly selected: Array<0 | 1>;
  readonly responded: Array<0 | 1>;
  readonly value: number[];
  /** Only for a run with a control group: 1 for a customer held out in its control.csv. */
  readonly control: Array<0 | 1>;
}

/**
 * Claims, from a run's index rows as they stream past (in chunks), the outcomes this run answers
 * (see {@link OutcomeClaims}); stops reading once no waiting label could be this run's. Memory is the
 * claimed rows, never the run. A selected row's value is the one its target list used; any other
 * row gets `constantValue` (the economics' gain per response). With `control` (the ids of the
 * run's control.csv), each row says whether it was held out.
 */
export async function claimIndexedOutcomes(
  claims: OutcomeClaims,
  chunks: AsyncIterable<readonly RunIndexRow[]>,
  run: { readonly day: string; readonly mayClaimUndated: boolean },
  constantValue: number,
  control?: ReadonlySet<string>,
): Promise<ClaimedRows> {
  const claimed: ClaimedRows = { ids: [], probability: [], selected: [], responded: [], value: [], control: [] };
  for await (const chunk of chunks) {
    for (const row of chunk) {
      const responded = claims.claim(row.id, run.day, run.mayClaimUndated);
      if (responded === undefined) continue;
      claimed.ids.push(row.id);
      claimed.probability.push(Number(row.score));
      claimed.selected.push(row.selected ? 1 : 0);
      claimed.responded.push(responded ? 1 : 0);
      claimed.value.push(row.selected ? Number(row.value) : constantValue);
      if (control) claimed.control.push(control.has(row.id) ? 1 : 0);
    }
    if (!claims.wants(run.day, run.mayClaimUndated)) break;
  }
  return claimed;
}

/** The i-th claimed row as the realized figures take it. */
export function labelledScoreAt(rows: ClaimedRows, i: number, hasControl: boolean): LabelledScore {
  return {
    probability: rows.probability[i]!,
    selected: rows.selected[i] === 1,
    responded: rows.responded[i] === 1,
    value: rows.value[i]!,
    ...(hasControl ? { control: rows.control[i] === 1 } : {}),
  };
}
