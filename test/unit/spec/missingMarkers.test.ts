import { describe, expect, it } from 'vitest';
import { missingMarkers, parseFeatureSpec } from '../../../functions/core/spec/featureSpec.js';

describe('missingMarkers', () => {
  it('keeps the empty cell missing when a column lists its own markers (bank-marketing pdays: ["-1"])', () => {
    // Prepare
    const spec = parseFeatureSpec({ columns: [{ name: 'pdays', role: 'feature', type: 'numeric', missing: ['-1'] }] });

    // Act
    const markers = missingMarkers(spec.columns[0]!);

    // Assess
    expect([...markers].sort()).toEqual(['', '-1']);
  });

  it('uses the default markers otherwise', () => {
    const spec = parseFeatureSpec({ columns: [{ name: 'age', role: 'feature', type: 'numeric' }] });
    expect(missingMarkers(spec.columns[0]!)).toEqual(new Set(['', 'NA', 'N/A', 'na', 'n/a', 'NaN', 'nan', 'null', 'NULL', 'None']));
  });
});
