import type { OutcomeLabels } from '../drift/realizedPerformance.js';

/**
 * Which run an outcome answers. An outcome file says nothing of the campaign it follows, so each
 * labelled customer is given to ONE run:
 * - with a `contact_date`, the newest run committed on that UTC day that scored the customer;
 * - without one, the newest run committed before the file arrived that scored the customer.
 * Runs are offered newest first; a customer is claimed once. This is what makes the nightly join
 * cost the label file's runs, not every run of the window: once every label is claimed (the usual
 * case, as the whole customer base is scored every night), no older run is read.
 */
export class OutcomeClaims {
  private readonly unclaimed: Map<string, boolean>;
  private readonly contactDay: ReadonlyMap<string, string> | undefined;
  /** Unclaimed customers per contact day, and those without one. */
  private readonly waitingByDay = new Map<string, number>();
  private waitingUndated = 0;

  constructor(labels: Pick<OutcomeLabels, 'outcomes' | 'contactDay'>) {
    this.unclaimed = new Map(labels.outcomes);
    this.contactDay = labels.contactDay;
    for (const id of this.unclaimed.keys()) {
      const day = this.contactDay?.get(id);
      if (day === undefined) this.waitingUndated++;
      else this.waitingByDay.set(day, (this.waitingByDay.get(day) ?? 0) + 1);
    }
  }

  /** Labels no run offered so far has claimed. */
  get remaining(): number {
    return this.unclaimed.size;
  }

  /**
   * Whether a run committed on `runDay` could claim any label still waiting: if not, it need not be
   * read (or read further). `undatedToo: false` for a run committed after the label file arrived.
   */
  wants(runDay: string, undatedToo = true): boolean {
    return (undatedToo && this.waitingUndated > 0) || (this.waitingByDay.get(runDay) ?? 0) > 0;
  }

  /** The outcome of `id` when a run of `runDay` scored it and may claim it (then it is claimed), else undefined. */
  claim(id: string, runDay: string, undatedToo = true): boolean | undefined {
    const responded = this.unclaimed.get(id);
    if (responded === undefined) return undefined;
    const day = this.contactDay?.get(id);
    if (day === undefined ? !undatedToo : day !== runDay) return undefined;
    this.unclaimed.delete(id);
    if (day === undefined) this.waitingUndated--;
    else this.waitingByDay.set(day, this.waitingByDay.get(day)! - 1);
    return responded;
  }
}
