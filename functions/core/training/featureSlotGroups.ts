import type { SlotGroup } from '../evaluation/permutationImportance.js';
import { crossName, fittedSlotCount, type FittedSpec } from '../spec/featureSpec.js';
import { orderedFeatureColumns } from '../spec/fitSpec.js';

/**
 * Slots of each feature column (a sequence feature: all its periods, as one group named
 * `feature (group)`; a cross: its block, as a group named `a×b`), for permutation importance;
 * `columnsOf` lists the spec columns behind each group (a cross: its sources).
 */
export function featureSlotGroups(fitted: FittedSpec): { groups: SlotGroup[]; columnsOf: Map<string, string[]> } {
  const groups = new Map<string, number[]>();
  const columnsOf = new Map<string, string[]>();
  let slot = 0;
  for (const column of orderedFeatureColumns(fitted.spec)) {
    const fit = fitted.columns[column.name]!;
    const width = fittedSlotCount(fit) + (column.impute?.indicator ? 1 : 0);
    const name = column.sequence ? `${column.sequence.feature} (${column.sequence.group})` : column.name;
    if (!groups.has(name)) {
      groups.set(name, []);
      columnsOf.set(name, []);
    }
    for (let s = 0; s < width; s++) groups.get(name)!.push(slot + s);
    columnsOf.get(name)!.push(column.name);
    slot += width;
  }
  for (const cross of fitted.crosses ?? []) {
    const width = cross.combinations.length + 1;
    groups.set(crossName(cross), Array.from({ length: width }, (_, s) => slot + s));
    columnsOf.set(crossName(cross), [...cross.columns]);
    slot += width;
  }
  return { groups: [...groups].map(([name, slots]) => ({ name, slots })), columnsOf };
}
