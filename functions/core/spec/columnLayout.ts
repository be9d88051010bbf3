import { ExtractError } from '../errors.js';
import type { LayoutExpectation } from '../extract/chooseDelimiter.js';
import type { ColumnSpec, FeatureSpec } from './featureSpec.js';

/**
 * Where each spec column sits in the extract's records: by header name (any order, extra
 * columns ignored) or, for header-less files, by the spec's 1-based `position`.
 */
export interface ColumnLayout {
  /** Field index of a spec column, or -1 when the extract does not have it. */
  indexOf(name: string): number;
  /** Field index of a column that must be present. @throws ExtractError EXTRACT_MISSING_COLUMN */
  require(name: string): number;
  readonly fieldCount: number | null;
}

/**
 * What an extract must look like for this spec, for the reader: the names of the `id` and
 * `feature` columns (header; for a spec with a long layout, also the names of that layout), or the field count, the highest `position` of any column, the
 * target's included (header-less: a record with fewer fields is a column short, not a shorter layout).
 */
export function layoutExpectation(spec: FeatureSpec): LayoutExpectation {
  if (spec.file.header) {
    const names = spec.columns.filter((c) => c.role === 'id' || c.role === 'feature').map((c) => c.name);
    if (!spec.long) return { names };
    const sequenceFeatures = new Set(spec.columns.flatMap((c) => (c.sequence ? [c.sequence.feature] : [])));
    const others = spec.columns.filter((c) => (c.role === 'id' || c.role === 'feature') && !c.sequence).map((c) => c.name);
    return { names, longNames: [...others, spec.long.periodColumn, ...sequenceFeatures] };
  }
  return { fieldCount: Math.max(0, ...spec.columns.map((c) => c.position ?? 0)) };
}

/**
 * A spec column the header names twice (matched as the layout matches: trimmed, exactly if any
 * field matches exactly, else case-insensitively) would be read from the first and silently
 * ignore the second: refused, naming the column and both positions. Extra columns are not checked.
 */
function assertNoDuplicateColumns(spec: FeatureSpec, header: readonly string[], source: string): void {
  const names = header.map((name) => name.trim());
  for (const column of spec.columns) {
    let at = names.flatMap((name, index) => (name === column.name ? [index] : []));
    if (at.length === 0) at = names.flatMap((name, index) => (name.toLowerCase() === column.name.toLowerCase() ? [index] : []));
    if (at.length > 1) {
      throw new ExtractError(
        'EXTRACT_DUPLICATE_COLUMN',
        `column "${column.name}" appears ${at.length === 2 ? 'twice' : `${at.length} times`} in the header (fields ${at.map((i) => i + 1).join(' and ')}); rename or drop the extra one`,
        { file: source, line: 1, column: at[1]! + 1 },
      );
    }
  }
}

const positions = (indexes: readonly number[]): string => {
  const shown = indexes.slice(0, 10).map((i) => i + 1).join(', ');
  return indexes.length > 10 ? `${shown}, …` : shown;
};

/**
 * What the first line holds, for a missing-column error, without quoting it: when the header line is
 * missing the first line is a customer's row, so only counts, field positions and the spec's own column
 * names are given.
 */
function describeHeader(spec: FeatureSpec, header: readonly string[]): string {
  const names = new Set(header.map((name) => name.trim().toLowerCase()));
  const matched = spec.columns.filter((c) => names.has(c.name.toLowerCase())).map((c) => `"${c.name}"`);
  const numeric = header.flatMap((field, index) => (field.trim() !== '' && Number.isFinite(Number(field)) ? [index] : []));
  const empty = header.flatMap((field, index) => (field.trim() === '' ? [index] : []));
  const shape = `${header.length} field${header.length === 1 ? '' : 's'}; ${matched.length ? `matches the spec's ${matched.join(', ')}` : "matches none of the spec's columns"}`;
  if (numeric.length === 0 && empty.length === 0) return `the header line has ${shape}`;
  const odd = [
    ...(numeric.length ? [`field${numeric.length === 1 ? '' : 's'} ${positions(numeric)} ${numeric.length === 1 ? 'is a number' : 'are numbers'}`] : []),
    ...(empty.length ? [`field${empty.length === 1 ? '' : 's'} ${positions(empty)} ${empty.length === 1 ? 'is' : 'are'} empty`] : []),
  ];
  return `the first line does not look like a header (${shape}; ${odd.join('; ')}): is the header line missing?`;
}

/** Builds the layout; every `id` and `feature` column must be present, `target`/`ignore` may be absent. */
export function layoutColumns(spec: FeatureSpec, header: readonly string[] | null, source: string): ColumnLayout {
  if (header) assertNoDuplicateColumns(spec, header, source);
  const byName = new Map<string, number>();
  if (header) {
    header.forEach((name, index) => {
      const key = name.trim();
      if (!byName.has(key)) byName.set(key, index);
    });
    // A second, case-insensitive pass: warehouses change `CustomerID` to `customerid` between exports.
    header.forEach((name, index) => {
      const key = name.trim().toLowerCase();
      if (!byName.has(key)) byName.set(key, index);
    });
  }
  const positionOf = (column: ColumnSpec | undefined): number => {
    if (!column) return -1;
    if (header) return byName.get(column.name) ?? byName.get(column.name.toLowerCase()) ?? -1;
    return column.position === undefined ? -1 : column.position - 1;
  };
  const columnsByName = new Map(spec.columns.map((c) => [c.name, c]));
  const layout: ColumnLayout = {
    fieldCount: header ? header.length : null,
    indexOf: (name) => {
      const column = columnsByName.get(name);
      if (column) return positionOf(column);
      return header ? (byName.get(name) ?? byName.get(name.toLowerCase()) ?? -1) : -1;
    },
    require: (name) => {
      const index = layout.indexOf(name);
      if (index < 0) {
        const found = header ? `; ${describeHeader(spec, header)}` : '';
        throw new ExtractError('EXTRACT_MISSING_COLUMN', `required column "${name}" is missing${found}`, {
          file: source,
          line: 1,
          column: name,
        });
      }
      return index;
    },
  };
  const missing = spec.columns.filter((c) => (c.role === 'id' || c.role === 'feature') && positionOf(c) < 0);
  if (missing.length > 0) {
    const names = missing.map((c) => `"${c.name}"`).join(', ');
    const found = header ? `; ${describeHeader(spec, header)}` : '';
    throw new ExtractError('EXTRACT_MISSING_COLUMN', `required column${missing.length > 1 ? 's' : ''} ${names} missing${found}`, {
      file: source,
      line: 1,
      column: missing[0]!.name,
    });
  }
  return layout;
}
