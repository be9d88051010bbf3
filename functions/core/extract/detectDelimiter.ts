/** The field delimiters an extract may use, in the order preferred when two fit equally well. */
export const DELIMITER_CANDIDATES = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof DELIMITER_CANDIDATES)[number];

export interface DelimiterGuess {
  readonly delimiter: Delimiter;
  /** Most common field count per record with that delimiter (1 when nothing fits). */
  readonly fieldCount: number;
  /** Share of the sampled records that have exactly `fieldCount` fields (0–1). */
  readonly consistency: number;
  /** Records looked at. */
  readonly records: number;
}

/**
 * Field count of each record in `sample` when split on `delimiter`, honouring double quotes
 * (a quoted field may hold delimiters, doubled quotes and line breaks). Blank lines are skipped;
 * an unfinished last line is left out unless it is the only one.
 */
export function recordFieldCounts(sample: string, delimiter: string, maxRecords: number): number[] {
  const counts: number[] = [];
  let fields = 1;
  let fieldStart = true;
  let inQuotes = false;
  let empty = true;
  for (let i = 0; i < sample.length && counts.length < maxRecords; i++) {
    const ch = sample[i];
    if (inQuotes) {
      if (ch === '"') {
        if (sample[i + 1] === '"') i++;
        else inQuotes = false;
      }
      continue;
    }
    if (ch === '\n' || ch === '\r') {
      if (!empty) counts.push(fields);
      fields = 1;
      fieldStart = true;
      empty = true;
      continue;
    }
    empty = false;
    if (ch === '"' && fieldStart) {
      inQuotes = true;
      fieldStart = false;
    } else if (ch === delimiter) {
      fields++;
      fieldStart = true;
    } else {
      fieldStart = false;
    }
  }
  if (counts.length === 0 && !empty) counts.push(fields);
  return counts;
}

/** `1,5;2,25`: `;` files often use `;` because their numbers carry decimal commas. */
function hasDecimalCommas(sample: string): boolean {
  return /(^|;)"?[-+]?\d+,\d+"?(;|\r?\n|$)/m.test(sample);
}

/**
 * Guesses the delimiter of a delimited text sample (the first lines of an extract): the candidate
 * among `,` `;` tab `|` whose field count per record is most consistent and greater than 1; on a
 * tie, the one giving more fields, then `;` over `,` when numbers carry decimal commas, then the
 * earlier candidate. Delimiters inside quoted fields do
 * not count, so `"a;b",1` is comma-separated.
 *
 * @example detectDelimiter('"age";"job"\n58;"management"\n').delimiter === ';'
 */
export function detectDelimiter(sample: string, maxRecords = 50): DelimiterGuess {
  let best: DelimiterGuess | undefined;
  for (const delimiter of DELIMITER_CANDIDATES) {
    const counts = recordFieldCounts(sample, delimiter, maxRecords);
    if (counts.length === 0) continue;
    const frequency = new Map<number, number>();
    for (const count of counts) frequency.set(count, (frequency.get(count) ?? 0) + 1);
    let fieldCount = 1;
    let hits = 0;
    for (const [count, seen] of frequency) {
      if (seen > hits || (seen === hits && count > fieldCount)) {
        fieldCount = count;
        hits = seen;
      }
    }
    if (fieldCount <= 1) continue;
    const guess: DelimiterGuess = { delimiter, fieldCount, consistency: hits / counts.length, records: counts.length };
    if (
      best === undefined ||
      guess.consistency > best.consistency ||
      (guess.consistency === best.consistency && guess.fieldCount > best.fieldCount) ||
      (guess.consistency === best.consistency && guess.fieldCount === best.fieldCount && delimiter === ';' && hasDecimalCommas(sample))
    ) {
      best = guess;
    }
  }
  return best ?? { delimiter: ',', fieldCount: 1, consistency: 1, records: recordFieldCounts(sample, ',', maxRecords).length };
}

/**
 * The fields of the first non-blank record of `sample` split on `delimiter`, honouring double
 * quotes (quotes are kept, as csv-parse's relaxed mode would; see `cleanHeaderName`). Only for a
 * look at a header line: an unfinished record gives what is there.
 */
export function firstRecordFields(sample: string, delimiter: string): string[] {
  const fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let started = false;
  for (let i = 0; i < sample.length; i++) {
    const ch = sample[i]!;
    if (inQuotes) {
      field += ch;
      if (ch === '"' && sample[i + 1] === '"') field += sample[++i];
      else if (ch === '"') inQuotes = false;
      continue;
    }
    if (ch === '\n' || ch === '\r') {
      if (started) break;
      continue;
    }
    started = true;
    if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else {
      if (ch === '"' && field.trim() === '') inQuotes = true;
      field += ch;
    }
  }
  fields.push(field);
  return fields;
}
