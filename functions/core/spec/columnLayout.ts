import { ExtractError } from '../errors.js';
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

/** Builds the layout; every `id` and `feature` column must be present, `target`/`ignore` may be absent. */
export function layoutColumns(spec: FeatureSpec, header: readonly string[] | null, source: string): ColumnLayout {
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
        const found = header ? ` (found: ${header.slice(0, 30).join(', ')}${header.length > 30 ? ', …' : ''})` : '';
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
    const found = header ? ` (found: ${header.slice(0, 30).join(', ')}${header.length > 30 ? ', …' : ''})` : '';
    throw new ExtractError('EXTRACT_MISSING_COLUMN', `required column${missing.length > 1 ? 's' : ''} ${names} missing${found}`, {
      file: source,
      line: 1,
      column: missing[0]!.name,
    });
  }
  return layout;
}
