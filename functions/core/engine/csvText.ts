/**
 * CSV text for the scores file, written by hand because it runs once per customer (millions of
 * rows): csv-stringify's per-record option handling costs more than the scoring itself. Smaller
 * outputs (targets, rejects) go through csv-stringify.
 */
const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Probabilities with 6 decimals: enough to rank a million customers, short enough to stay readable. */
export function formatProbability(p: number): string {
  return p.toFixed(6);
}
