import { DELIMITER_CANDIDATES, detectDelimiter, firstRecordFields, recordFieldCounts, type Delimiter } from './detectDelimiter.js';
import { cleanHeaderName } from './extractParser.js';

/** What an extract must look like for its model: header names it must have, or (header-less) its field count. */
export interface LayoutExpectation {
  /** Header names that must be present (compared trimmed, then case-insensitively, as the column layout does). */
  readonly names?: readonly string[];
  /** The names of the same spec's long layout (one row per customer per period): either set fits. */
  readonly longNames?: readonly string[];
  /** Fields per record of a header-less file. */
  readonly fieldCount?: number;
}

export type DelimiterChoice =
  | { readonly delimiter: Delimiter; readonly refusal?: undefined }
  /** Neither the expected delimiter nor any other makes the layout fit, and the file looks separated by another one. */
  | { readonly delimiter: Delimiter; readonly refusal: string };

const RECORDS_LOOKED_AT = 50;

function quote(delimiter: string): string {
  return delimiter === '\t' ? 'tab' : `"${delimiter}"`;
}

/** How well `delimiter` fits: names found (header) or records with the expected count (header-less). */
function fitOf(sample: string, delimiter: Delimiter, header: boolean, expect: LayoutExpectation): { score: number; fits: boolean; fields: number } {
  if (header) {
    const names = firstRecordFields(sample, delimiter).map(cleanHeaderName);
    const exact = new Set(names);
    const lower = new Set(names.map((n) => n.toLowerCase()));
    const fit = (wanted: readonly string[]) => {
      const score = wanted.filter((n) => exact.has(n) || lower.has(n.toLowerCase())).length;
      return { score, fits: score === wanted.length, fields: names.length };
    };
    const wide = fit(expect.names ?? []);
    const long = expect.longNames ? fit(expect.longNames) : undefined;
    return long && (long.fits || (!wide.fits && long.score > wide.score)) ? long : wide;
  }
  const counts = recordFieldCounts(sample, delimiter, RECORDS_LOOKED_AT);
  const score = counts.filter((c) => c === expect.fieldCount).length;
  return { score, fits: counts.length > 0 && score * 2 > counts.length, fields: mostCommon(counts) };
}

function mostCommon(counts: readonly number[]): number {
  const seen = new Map<number, number>();
  let best = 1;
  let hits = 0;
  for (const c of counts) {
    const n = (seen.get(c) ?? 0) + 1;
    seen.set(c, n);
    if (n > hits) [best, hits] = [c, n];
  }
  return best;
}

function fieldsText(n: number): string {
  return `${n} field${n === 1 ? '' : 's'}`;
}

/**
 * The spec's delimiter is a hint: it is used when the layout fits it (the header has the required
 * names, or header-less records have the spec's field count). When it does not, the delimiter that
 * makes the layout fit is used instead (the detected one first, then `,` `;` tab `|`). When none
 * fits but the file looks separated by another delimiter than the hint, the choice carries a
 * refusal naming both; when the file looks separated by the hint itself, the hint is kept and the
 * layout's own checks (missing columns, field counts) tell what is wrong. The refusal quotes header
 * names and counts only, never a data value.
 *
 * @example chooseDelimiter('age,job\n58,admin\n', ';', true, { names: ['age', 'job'] }).delimiter === ','
 */
export function chooseDelimiter(sample: string, hint: Delimiter, header: boolean, expect: LayoutExpectation): DelimiterChoice {
  const wanted = fitOf(sample, hint, header, expect);
  if (wanted.fits) return { delimiter: hint };
  const guess = detectDelimiter(sample, RECORDS_LOOKED_AT).delimiter;
  const others = [guess, ...DELIMITER_CANDIDATES].filter((d, i, all) => d !== hint && all.indexOf(d) === i);
  for (const delimiter of others) if (fitOf(sample, delimiter, header, expect).fits) return { delimiter };
  if (guess === hint) return { delimiter: hint };
  const found = fitOf(sample, guess, header, expect);
  if (found.score <= wanted.score && found.fields <= wanted.fields) return { delimiter: hint };
  const refusal = header
    ? `delimiter ${quote(guess)} found, ${quote(hint)} expected; the header has ${fieldsText(found.fields)} with ${quote(guess)} and ${fieldsText(wanted.fields)} with ${quote(hint)}, and with neither are all ${expect.names?.length ?? 0} required columns present (${found.score} with ${quote(guess)})`
    : `delimiter ${quote(guess)} found (${fieldsText(found.fields)} per record), ${quote(hint)} expected (${fieldsText(wanted.fields)} per record); the model's spec expects ${fieldsText(expect.fieldCount ?? 0)}`;
  return { delimiter: hint, refusal };
}
