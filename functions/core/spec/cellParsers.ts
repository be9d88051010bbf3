import type { ColumnSpec } from './featureSpec.js';

/**
 * Turning one cell into a number, shared by `fitSpec` and the row encoder so training and
 * scoring read cells identically. Each parser returns NaN for "not parseable"; missing
 * markers are checked by the caller before parsing.
 */
export type CellParser = (text: string) => number;

const DEFAULT_TRUE = ['true', 'yes', 'y', '1', 't'];
const DEFAULT_FALSE = ['false', 'no', 'n', '0', 'f'];
const MS_PER_DAY = 86_400_000;

/** Strict decimal: `Number()` also accepts `''`, whitespace and `0x1A`, which are not decimal cells. */
export function parseDecimal(text: string): number {
  if (text.length === 0) return Number.NaN;
  const value = Number(text);
  if (!Number.isFinite(value)) return Number.NaN;
  if (value === 0 && text.trim().length === 0) return Number.NaN;
  if (text.length > 2 && text.charCodeAt(0) === 48 && RADIX_PREFIXES.has(text.charCodeAt(1))) return Number.NaN;
  return value;
}

const RADIX_PREFIXES = new Set([...'xXbBoO'].map((c) => c.charCodeAt(0)));

function booleanParser(column: ColumnSpec): CellParser {
  const truthy = new Set((column.trueValues ?? DEFAULT_TRUE).map((v) => v.toLowerCase()));
  const falsy = new Set((column.falseValues ?? DEFAULT_FALSE).map((v) => v.toLowerCase()));
  return (text) => {
    const key = text.trim().toLowerCase();
    if (truthy.has(key)) return 1;
    if (falsy.has(key)) return 0;
    return Number.NaN;
  };
}

function dateParser(referenceDate: string): CellParser {
  const reference = Date.parse(referenceDate);
  return (text) => {
    const trimmed = text.trim();
    // Only ISO-8601 dates: locale formats like 03/04/2025 are ambiguous between countries.
    if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return Number.NaN;
    const time = Date.parse(trimmed);
    return Number.isNaN(time) ? Number.NaN : (reference - time) / MS_PER_DAY;
  };
}

/** The parser for a non-categorical column: numeric, boolean (0/1) or date (days before `referenceDate`). */
export function cellParserFor(column: ColumnSpec, referenceDate: string): CellParser {
  switch (column.type) {
    case 'boolean':
      return booleanParser(column);
    case 'date':
      return dateParser(referenceDate);
    default:
      return (text) => parseDecimal(text.trim());
  }
}

/** The reject reason for a cell its parser could not read. */
export function unparseableReason(column: ColumnSpec): 'NOT_A_NUMBER' | 'NOT_A_DATE' | 'NOT_A_BOOLEAN' {
  return column.type === 'date' ? 'NOT_A_DATE' : column.type === 'boolean' ? 'NOT_A_BOOLEAN' : 'NOT_A_NUMBER';
}
