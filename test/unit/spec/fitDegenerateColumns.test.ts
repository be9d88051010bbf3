import { describe, expect, it } from 'vitest';
import { parseFeatureSpec } from '../../../functions/core/spec/featureSpec.js';
import { fitSpec, type FitWarning } from '../../../functions/core/spec/fitSpec.js';
import { compileEncoder } from '../../../functions/core/spec/rowEncoder.js';

// `pdays` is -1 (declared missing) in every training row, as in the first half of bank-full.csv;
// `flag` holds one value; `channel` one category; `region` nothing at all.
const header = ['pdays', 'flag', 'channel', 'region', 'age', 'y'];
const rows = [
  ['-1', '3', 'web', '', '20', 'no'],
  ['-1', '3', 'web', '', '30', 'yes'],
  ['-1', '', 'web', '', '40', 'no'],
  ['-1', '3', 'web', '', '50', 'yes'],
];
const spec = parseFeatureSpec({
  columns: [
    { name: 'pdays', role: 'feature', type: 'numeric', missing: ['-1'], impute: { strategy: 'median', indicator: true }, scale: 'standard' },
    { name: 'flag', role: 'feature', type: 'numeric', scale: 'standard' },
    { name: 'channel', role: 'feature', type: 'categorical' },
    { name: 'region', role: 'feature', type: 'categorical', impute: { strategy: 'missing-category' } },
    { name: 'age', role: 'feature', type: 'numeric', scale: 'standard' },
    { name: 'y', role: 'target', type: 'categorical' },
  ],
});

async function fitWithWarnings() {
  const warnings: FitWarning[] = [];
  const fitted = await fitSpec(spec, { header, records: rows }, { source: 'early.csv', warn: (w) => warnings.push(w) });
  return { fitted, warnings };
}

describe('fitSpec: degenerate columns', () => {
  it('fits an all-missing or one-valued column as a constant and says so, instead of failing', async () => {
    const { fitted, warnings } = await fitWithWarnings();

    expect(warnings.map((w) => [w.column, w.reason])).toEqual([
      ['pdays', 'ALL_MISSING'],
      ['flag', 'CONSTANT'],
      ['channel', 'CONSTANT'],
      ['region', 'ALL_MISSING'],
    ]);
    expect(warnings[0]!.message).toBe(
      'column "pdays" has no non-missing value in the 4 training rows: fitted as a constant (the model cannot use it until it is retrained on rows where it varies)',
    );
    expect(fitted.columns['pdays']).toEqual({ kind: 'numeric', fill: 0, clipLower: 0, clipUpper: 0, shift: 0, scale: 1, missingRate: 1 });
    expect(fitted.columns['flag']).toEqual({ kind: 'numeric', fill: 3, clipLower: 3, clipUpper: 3, shift: 3, scale: 1, missingRate: 0.25 });
    expect(fitted.columns['channel']).toEqual({ kind: 'categorical', vocabulary: ['__other__'], otherIndex: 0, fillIndex: 0, missingRate: 0 });
    expect(fitted.columns['region']).toEqual({ kind: 'categorical', vocabulary: ['__other__'], otherIndex: 0, fillIndex: 0, missingRate: 1 });
    // The missing indicator stays a slot (it is constant too in these rows).
    expect(fitted.featureNames).toEqual(['pdays', 'pdays__missing', 'flag', 'channel=__other__', 'region=__other__', 'age']);
  });

  it('encodes a later row’s values of those columns as the same constants', async () => {
    const { fitted } = await fitWithWarnings();
    const encoder = compileEncoder(fitted, header, 'later.csv');
    const width = encoder.width;
    const early = new Float32Array(width);
    const later = new Float32Array(width);
    expect(encoder.encode(['-1', '3', 'web', '', '20', 'no'], early, 0)).toBeNull();
    expect(encoder.encode(['95', '8', 'phone', 'north', '20', 'no'], later, 0)).toBeNull();
    // Every slot is unchanged, the missing indicator too: the model only ever saw pdays missing, so a
    // value appearing later must not move the score until the model is retrained on it.
    expect(Array.from(later)).toEqual(Array.from(early));
    expect(early[fitted.featureNames.indexOf('pdays__missing')]).toBe(1);
  });

  it('leaves a column alone when it varies, and warns about nothing then', async () => {
    const varied = rows.map((r, i) => [String(i), String(i), i % 2 ? 'web' : 'shop', i % 2 ? 'north' : 'south', r[4]!, r[5]!]);
    const warnings: FitWarning[] = [];
    const fitted = await fitSpec(spec, { header, records: varied }, { warn: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
    expect(fitted.columns['channel']).toMatchObject({ vocabulary: ['shop', 'web', '__other__'] });
  });
});
