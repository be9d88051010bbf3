import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SuppressionError } from '../../core/errors.js';
import { ContactCounter, historyEntry, type FrequencyCap } from '../../core/policy/contactHistory.js';
import { SuppressionSetBuilder, type SuppressionSet } from '../../core/policy/suppressionList.js';

/**
 * Reads local suppression lists (`--suppress FILE`, repeatable) into one set, as of `asOf` (an
 * entry whose `until` lies before that day does not suppress).
 * @throws SuppressionError naming the file (and line, column) that cannot be read
 */
export async function loadSuppressionFiles(files: readonly string[], asOf: Date): Promise<SuppressionSet> {
  const builder = new SuppressionSetBuilder(asOf);
  for (const file of files) await builder.addList(createReadStream(file), file);
  return builder.build();
}

/**
 * The contact history of one model in a local folder (`--history DIR` → `DIR/<model>/`): one
 * `<run-id>.csv` per committed run (see `policy/contactHistory.ts`).
 */
export class LocalContactHistory {
  constructor(private readonly dir: string) {}

  /** Customers over the cap as of `asOf`, counted on every entry but this run's own (a rerun does not count itself). */
  async overCap(cap: FrequencyCap, asOf: Date, runId: string): Promise<SuppressionSet> {
    const counter = new ContactCounter(cap, asOf);
    const names = await readdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw new SuppressionError('the contact history cannot be read', { file: this.dir }, { cause: error });
    });
    for (const name of names.filter((n) => n.endsWith('.csv') && n !== `${runId}.csv`).sort()) {
      const file = path.join(this.dir, name);
      await counter.addEntry(createReadStream(file), file);
    }
    return counter.overCap();
  }

  /** Writes (or, for a rerun, replaces) this run's entry from its committed targets.csv. */
  async record(runId: string, targetsCsv: string, day: Date, csvInjectionProtection: boolean): Promise<void> {
    const text = await historyEntry(createReadStream(targetsCsv), targetsCsv, day, csvInjectionProtection);
    await mkdir(this.dir, { recursive: true });
    const file = path.join(this.dir, `${runId}.csv`);
    // Written aside and renamed: a reader never sees half an entry.
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
  }
}
