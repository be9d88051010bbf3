import { DAY_MS } from '../constants.js';
import { indexDay } from '../runIndex/runIndex.js';
import { SuppressionError } from '../errors.js';
import { csvRecord, neutraliseFormula } from '../engine/csvText.js';
import { csvRecords } from './policyCsv.js';
import { SuppressionSetBuilder, type SuppressionSet } from './suppressionList.js';

/**
 * The contact history behind the frequency cap (`frequencyCap: { maxContacts: N, days: D }`): one
 * small CSV per committed run, `history/<model>/<run-id>.csv` (`id,contacted`: the ids of its
 * targets.csv, not its control group, and the run's day). Keyed by run id, so a redelivered or
 * rerun object overwrites its own entry instead of counting twice, and a fan-out run (one run id,
 * one commit) writes one. A run reads every entry but its own: a customer contacted N times within
 * the last D days (the run's day included) is over the cap and kept off the target list.
 *
 * Memory while reading: one Map entry per distinct id in the window (~80 bytes each); only the ids
 * over the cap stay, in a compact {@link SuppressionSet}.
 */
export interface FrequencyCap {
  readonly maxContacts: number;
  readonly days: number;
}

/** The reason the scores.csv `suppression_reason` column gives a customer over the frequency cap. */
export const CONTACT_CAP_REASON = 'contact-cap';


/**
 * The history entry of a committed run, from its targets.csv: `id,contacted` rows. Ids come back as
 * the extract held them (CSV quoting undone, and the formula guard's leading `'` when the run had it on).
 */
export async function historyEntry(targetsCsv: AsyncIterable<Uint8Array>, file: string, day: Date, csvInjectionProtection: boolean): Promise<string> {
  const contacted = indexDay(day);
  let text = 'id,contacted\n';
  let header = true;
  for await (const { record } of csvRecords(targetsCsv, file)) {
    if (header) {
      header = false;
      continue;
    }
    const cell = record[0] ?? '';
    const id = csvInjectionProtection && cell.startsWith("'") && neutraliseFormula(cell.slice(1)) === cell ? cell.slice(1) : cell;
    text += csvRecord([id, contacted], { injectionProtection: false });
  }
  return text;
}

/** Counts contacts per id over history entries within the cap's window, then gives the ids over the cap. */
export class ContactCounter {
  private readonly counts = new Map<string, number>();
  private readonly first: number;
  private readonly last: number;

  constructor(
    private readonly cap: FrequencyCap,
    asOf: Date,
  ) {
    this.last = Math.floor(asOf.getTime() / DAY_MS);
    this.first = this.last - cap.days + 1;
  }

  /**
   * Adds one history entry (see {@link historyEntry}).
   * @throws SuppressionError naming the file and line of an entry that is not `id,contacted`
   */
  async addEntry(bytes: AsyncIterable<Uint8Array>, file: string): Promise<void> {
    let header = true;
    for await (const { record, line } of csvRecords(bytes, file)) {
      if (header) {
        if (record[0] !== 'id' || record[1] !== 'contacted') throw new SuppressionError('a contact history entry starts with the header id,contacted', { file, line });
        header = false;
        continue;
      }
      const day = Date.parse(`${record[1] ?? ''}T00:00:00Z`);
      if (Number.isNaN(day)) throw new SuppressionError('contacted is not a date YYYY-MM-DD', { file, line, column: 2 });
      const n = Math.floor(day / DAY_MS);
      if (n < this.first || n > this.last) continue;
      const id = record[0] ?? '';
      this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    }
  }

  /** The ids contacted `maxContacts` times or more within the window. */
  overCap(): SuppressionSet {
    const builder = new SuppressionSetBuilder(new Date(this.last * DAY_MS));
    for (const [id, n] of this.counts) if (n >= this.cap.maxContacts) builder.add(id, CONTACT_CAP_REASON);
    return builder.build();
  }
}
