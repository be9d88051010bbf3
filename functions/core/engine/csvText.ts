/**
 * CSV text for every CSV file a run writes (scores, targets, rejects), written by hand because it
 * runs once per customer (millions of rows): csv-stringify's per-record option handling costs more
 * than the scoring itself. One place decides both quoting and formula neutralising, so no writer
 * can forget either.
 */
const NEEDS_QUOTES = /[",\r\n]/;

/** A cell a spreadsheet would read as a formula: `=`, `+`, `-`, `@`, tab or CR first (OWASP). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A plain decimal number, such as `-1.5`, `+3`, `-0`, `.5`, `1e-7`: a spreadsheet reads it as that
 * number, never as a formula, so it is left as it is. `-1+1` or `-1.5.2` are not plain numbers.
 */
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Whether a run's CSV cells are neutralised against formula injection; on unless turned off. */
export interface CsvTextOptions {
  /** Default true. Off only for machine consumers that must read ids byte for byte. */
  readonly injectionProtection?: boolean;
}

/**
 * Neutralises a cell against CSV (formula) injection, as OWASP recommends: a cell that starts with
 * `=`, `+`, `-`, `@`, tab (0x09) or CR (0x0D) and is not a plain decimal number gets a single quote
 * `'` in front, so Excel, LibreOffice and Google Sheets show it as text instead of running it.
 * Everything else is returned unchanged (quoting for CSV is {@link csvField}'s job, done after).
 *
 * @example
 * neutraliseFormula('=HYPERLINK("http://x","y")'); // → `'=HYPERLINK("http://x","y")`
 * neutraliseFormula('-1+1'); // → `'-1+1`
 * neutraliseFormula('-1.5'); // → `-1.5` (a plain number)
 */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
}

/**
 * One CSV field: neutralised against formula injection (see {@link neutraliseFormula}; unless
 * `options.injectionProtection` is false), then quoted when it holds a quote, comma, CR or LF.
 *
 * @example csvField('@SUM(1+1)'); // → `'@SUM(1+1)`
 * @example csvField('a,"b"', { injectionProtection: false }); // → `"a,""b"""`
 */
export function csvField(text: string, options: CsvTextOptions = {}): string {
  const cell = options.injectionProtection === false ? text : neutraliseFormula(text);
  return NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/**
 * One CSV record, line feed included: each value as {@link csvField} writes it (numbers as
 * `String(n)`, null and undefined as an empty field).
 *
 * @example csvRecord([3, 'age', '=1+1']); // → `3,age,'=1+1\n`
 */
export function csvRecord(values: ReadonlyArray<string | number | null | undefined>, options: CsvTextOptions = {}): string {
  let text = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    text += `${i === 0 ? '' : ','}${csvField(value === null || value === undefined ? '' : String(value), options)}`;
  }
  return `${text}\n`;
}

/** Probabilities with 6 decimals: enough to rank a million customers, short enough to stay readable. */
export function formatProbability(p: number): string {
  return p.toFixed(6);
}
