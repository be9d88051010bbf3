import type { Writable } from 'node:stream';
import type { CampaignEconomics } from '../economics/campaignEconomics.js';
import type { ContactTotals } from '../economics/campaignRoi.js';
import { LimbSums, MONEY_SCALE, moneyUnits, probabilityUnits } from '../economics/fixedPoint.js';
import type { SegmentSelector } from '../economics/segmentSelection.js';
import type { RealizedTotals } from '../evaluation/labelTally.js';
import { bestSelectionRuleFor, ruleTakes, selectionRuleFor } from '../economics/targetSelection.js';
import { inControlGroup } from '../policy/controlGroup.js';
import { countSelected, type RunProfile } from '../drift/runProfile.js';
import { csvField, formatProbability, type CsvTextOptions } from './csvText.js';
import { mergeRankedRuns, type RunReader } from './rankedRuns.js';
import { unspoolLine, type Spool, type SpoolChannel } from './spool.js';
import { writeText } from './textStreams.js';

/**
 * The target lists, written from the parts' sorted runs of candidates (see `rankedRuns.ts`) in one
 * streaming pass: the rows of targets.csv, the totals the ROI needs, and the selection counted into
 * the run profile. The binary list takes exactly the customers an in-memory `TargetSelector` of the
 * same rule would keep, in the same order (test/unit/engine/targetLists.test.ts checks it).
 */

/**
 * Which scored customers a binary part spills as candidates: those either rule (the policy's, or
 * the best selection's) could take; and the two rules as the readers of the runs, so a run leaves
 * out what neither could reach within its budget (see `RankedRunWriter`).
 */
export function campaignCandidates(economics: CampaignEconomics): { readonly readers: readonly RunReader[]; readonly costMicros: number; accepts(p: number, evMicros: number): boolean } {
  const policy = selectionRuleFor(economics);
  const best = bestSelectionRuleFor(economics);
  const readers = [policy, best].map(
    (rule): RunReader => ({
      cap: rule.maxContacts,
      // A run's key is the expected value in micro-units, `a` the probability.
      takes: (ev, p) => ruleTakes(rule, p, ev),
    }),
  );
  return {
    readers,
    costMicros: moneyUnits(economics.costPerContact),
    // Called for every scored row: the two rules directly, not through the readers' closures.
    accepts: (p, ev) => ruleTakes(policy, p, ev) || ruleTakes(best, p, ev),
  };
}

/** One sorted run of candidates: its spool and channel. */
export type RunRef = { readonly spool: Spool; readonly channel: SpoolChannel };

/** Text of the targets file is handed on in pieces of about this many characters. */
const WRITE_PIECE = 1 << 16;

/** Target rows gathered into pieces: `add` returns `more` once the piece is written (or at once). */
function targetRows(out: Writable): { add(rows: string, more: boolean): boolean | Promise<boolean>; end(): Promise<void> } {
  let text = '';
  return {
    add(rows, more) {
      text += rows;
      if (text.length < WRITE_PIECE) return more;
      const piece = text;
      text = '';
      return writeText(out, piece).then(() => more);
    },
    end: () => (text ? writeText(out, text) : Promise.resolve()),
  };
}

/** The control split of a run's selection: where held-out rows go, and the share and salt that choose them. */
export interface ControlSplit {
  readonly out: Writable;
  readonly fraction: number;
  readonly salt: string;
}

/**
 * Reads the candidates in rank order and writes the policy's target list, while totalling both
 * the policy's selection and the best selection the extract allows (same ranking, own filter and
 * budget, the readers of {@link campaignCandidates}): exactly what the in-memory
 * `TargetSelector`s of each rule would keep.
 *
 * With a `control` split, each selected customer whose id draws into the control group (see
 * `inControlGroup`) goes to the control list instead, with its rank in the selection: the budget
 * counts the whole selection, `selection` totals the treated customers only (those contacted),
 * `control` the held-out ones.
 */
export async function writeCampaignTargets(
  runs: readonly RunRef[],
  economics: CampaignEconomics,
  out: Writable,
  profile: RunProfile | null,
  control: ControlSplit | null = null,
): Promise<{ selection: ContactTotals; best: ContactTotals; control: ContactTotals; realized: { selection: RealizedTotals; best: RealizedTotals } }> {
  const { readers } = campaignCandidates(economics);
  const counts = [0, 0, 0];
  // Sums of the treated selection, the best selection and the control group.
  const sums = [new LimbSums(2), new LimbSums(2), new LimbSums(2)];
  // Labelled rows (run tag 1 negative, 2 positive) of the treated selection and of the best one.
  const realized = [
    { contacts: 0, responders: 0, gainMicros: 0n },
    { contacts: 0, responders: 0, gainMicros: 0n },
  ];
  const full = (r: number) => readers[r]!.cap !== null && counts[r]! >= readers[r]!.cap;
  const rows = targetRows(out);
  const held = control ? targetRows(control.out) : null;
  await mergeRankedRuns(runs, ({ key, a: p, b: v, tag, text: idField }) => {
    let row = '';
    let heldRow = '';
    for (let r = 0; r < 2; r++) {
      if (full(r) || !readers[r]!.takes(key, p)) continue;
      counts[r]!++;
      const id = r === 0 ? unspoolLine(idField) : '';
      const sum = r === 0 && control && inControlGroup(id, control.salt, control.fraction) ? 2 : r;
      if (sum === 2) counts[2]!++;
      else if (tag !== 0) {
        const labelled = realized[r]!;
        labelled.contacts++;
        if (tag === 2) {
          labelled.responders++;
          labelled.gainMicros += BigInt(moneyUnits(v));
        }
      }
      sums[sum]!.add(0, probabilityUnits(p));
      sums[sum]!.add(1, moneyUnits(p * v));
      if (r === 0) {
        // Numbers are plain decimals, never touched by CSV quoting or formula neutralising.
        const text = `${id},${counts[0]},${formatProbability(p)},${v},${key / MONEY_SCALE}\n`;
        if (sum === 2) heldRow = text;
        else {
          row = text;
          if (profile) countSelected(profile, p);
        }
      }
    }
    const more = !(full(0) && full(1));
    if (!held || !heldRow) return rows.add(row, more);
    const wrote = held.add(heldRow, more);
    return typeof wrote === 'boolean' ? rows.add(row, wrote) : wrote.then((m) => rows.add(row, m));
  });
  await rows.end();
  await held?.end();
  const totals = (r: number, contacts: number): ContactTotals => ({ contacts, probabilityUnits: sums[r]!.total(0), gainMicros: sums[r]!.total(1) });
  return { selection: totals(0, counts[0]! - counts[2]!), best: totals(1, counts[1]!), control: totals(2, counts[2]!), realized: { selection: realized[0]!, best: realized[1]! } };
}

/** The multiclass target list: every customer by confidence, within `maxContacts`; returns the selected count per segment. */
export async function writeSegmentTargets(
  runs: readonly RunRef[],
  economics: CampaignEconomics,
  out: Writable,
  profile: RunProfile | null,
  segments: SegmentSelector,
  csv: CsvTextOptions,
): Promise<number[]> {
  const cap = economics.budget.maxContacts ?? null;
  const perSegment = new Array<number>(segments.classes.length).fill(0);
  const segmentFields = segments.classes.map((c) => csvField(c, csv));
  const actionFields = segments.classes.map((c) => csvField(segments.actions?.[c] ?? '', csv));
  let rank = 0;
  const rows = targetRows(out);
  if (cap !== 0) {
    await mergeRankedRuns(runs, ({ key, a: c, text: idField }) => {
      rank++;
      perSegment[c]!++;
      if (profile) countSelected(profile, key);
      return rows.add(`${unspoolLine(idField)},${rank},${segmentFields[c]!},${formatProbability(key)},${actionFields[c]!}\n`, cap === null || rank < cap);
    });
  }
  await rows.end();
  return perSegment;
}
