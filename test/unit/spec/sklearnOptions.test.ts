import { describe, expect, it } from 'vitest';
import { fittedSpecProblem } from '../../../functions/core/bundle/fittedSpecContract.js';
import { BaselineBuilder } from '../../../functions/core/drift/baselineBuilder.js';
import { assertBaselineFitsSpec } from '../../../functions/core/drift/runProfile.js';
import { SpecError } from '../../../functions/core/errors.js';
import { PANDAS_MISSING_MARKERS, parseFeatureSpec, parseFittedSpec, type FeatureSpecInput, type FittedSpec } from '../../../functions/core/spec/featureSpec.js';
import { fitSpec } from '../../../functions/core/spec/fitSpec.js';
import { compileEncoder } from '../../../functions/core/spec/rowEncoder.js';

/** scikit-learn's preprocessing semantics as spec options: each test gives known rows and the numbers sklearn would fit. */

const NOW = { now: new Date('2026-01-01T00:00:00Z'), source: 'train.csv' };

async function fit(columns: FeatureSpecInput['columns'], header: string[], rows: string[][]): Promise<FittedSpec> {
  return fitSpec(parseFeatureSpec({ columns }), { header, records: rows }, NOW);
}

function encodeRows(fitted: FittedSpec, header: string[], rows: string[][]): number[][] {
  const encoder = compileEncoder(fitted, header, 'score.csv');
  return rows.map((row) => {
    const out = new Float32Array(encoder.width);
    const issue = encoder.encode(row, out, 0);
    if (issue) throw new Error(`${issue.reason}: ${issue.detail}`);
    return [...out];
  });
}

describe('numeric imputation and scaling', () => {
  // x = 1, 2, missing, 5: median 2, mean 8/3.
  const rows = [['1'], ['2'], ['NA'], ['5']];

  it('fits the scaler on the values present by default, on the imputed column with scaleAfterImpute (Pipeline([SimpleImputer, StandardScaler]))', async () => {
    const observed = await fit([{ name: 'x', role: 'feature', impute: { strategy: 'median' } }], ['x'], rows);
    const imputed = await fit([{ name: 'x', role: 'feature', impute: { strategy: 'median' }, scaleAfterImpute: true }], ['x'], rows);
    // Present values 1, 2, 5: mean 8/3, population std sqrt(26/9).
    expect(observed.columns['x']).toMatchObject({ fill: 2, shift: 8 / 3 });
    expect((observed.columns['x'] as { scale: number }).scale).toBeCloseTo(Math.sqrt(26 / 9), 12);
    // Imputed column 1, 2, 2, 5 (what StandardScaler sees after SimpleImputer): mean 2.5, std sqrt(2.25).
    expect(imputed.columns['x']).toMatchObject({ fill: 2, shift: 2.5, scale: 1.5 });
    // A missing cell is filled, then scaled: (2 − 2.5) / 1.5; a present one (5 − 2.5) / 1.5.
    expect(encodeRows(imputed, ['x'], [['NA'], ['5']]).map(([v]) => v)).toEqual([Math.fround(-1 / 3), Math.fround(5 / 3)]);
  });

  it('accepts most_frequent as scikit-learn spells it, and stores most-frequent', async () => {
    const fitted = await fit([{ name: 'x', role: 'feature', scale: 'none', impute: { strategy: 'most_frequent' } }], ['x'], [['3'], ['3'], ['7'], ['']]);
    expect(fitted.spec.columns[0]!.impute?.strategy).toBe('most-frequent');
    expect(fitted.columns['x']).toMatchObject({ fill: 3 });
  });

  it("passes a missing number as NaN with impute 'nan' (a model that imputes itself)", async () => {
    const fitted = await fit([{ name: 'x', role: 'feature', scale: 'none', impute: { strategy: 'nan' } }], ['x'], rows);
    const [missing, present] = encodeRows(fitted, ['x'], [['NA'], ['4']]);
    expect(Number.isNaN(missing![0])).toBe(true);
    expect(present).toEqual([4]);
  });
});

describe('missing tokens', () => {
  it('expands the pandas preset into the stored spec and treats its tokens as missing', async () => {
    const fitted = await fit([{ name: 'x', role: 'feature', scale: 'none', missing: 'pandas' }], ['x'], [['1'], ['#N/A'], ['<NA>'], ['3']]);
    expect(fitted.spec.columns[0]!.missing).toEqual([...PANDAS_MISSING_MARKERS]);
    expect(fitted.columns['x']).toMatchObject({ fill: 2, missingRate: 0.5 });
  });

  it('refuses a token outside the default list as not a number', async () => {
    const fitted = await fit([{ name: 'x', role: 'feature', scale: 'none' }], ['x'], [['1'], ['3']]);
    const encoder = compileEncoder(fitted, ['x'], 'score.csv');
    expect(encoder.encode(['#N/A'], new Float32Array(1), 0)).toMatchObject({ column: 'x', reason: 'NOT_A_NUMBER' });
  });
});

describe('one-hot: explicit categories, unknown ignore, trimming', () => {
  const columns: FeatureSpecInput['columns'] = [
    { name: 'plan', role: 'feature', type: 'categorical', categories: ['pro', 'basic'], unknown: 'ignore', impute: { strategy: 'constant', value: 'basic' } },
  ];

  it('keeps the given category order, has no other slot, and writes an all-zero block for an unseen value', async () => {
    const fitted = await fit(columns, ['plan'], [['basic'], ['basic'], ['plus']]);
    expect(fitted.columns['plan']).toEqual({ kind: 'categorical', vocabulary: ['pro', 'basic'], otherIndex: -1, fillIndex: 1, missingRate: 0, unknown: 'ignore' });
    expect(fitted.featureNames).toEqual(['plan=pro', 'plan=basic']);
    expect(fittedSpecProblem(fitted)).toBeUndefined();
    expect(encodeRows(fitted, ['plan'], [['pro'], ['enterprise'], [''], [' basic ']])).toEqual([[1, 0], [0, 0], [0, 1], [0, 1]]);
  });

  it('with trim off, a value with blanks is another value (unseen here)', async () => {
    const fitted = await fit([{ ...columns[0]!, trim: false }], ['plan'], [['basic']]);
    expect(encodeRows(fitted, ['plan'], [[' basic'], ['basic']])).toEqual([[0, 0], [0, 1]]);
  });

  it('counts an ignored unseen value in the baseline\'s own other bucket, so profiles and baselines agree', async () => {
    const fitted = await fit(columns, ['plan'], [['basic']]);
    const builder = new BaselineBuilder(fitted);
    const encoder = compileEncoder(fitted, ['plan'], 'sample.csv', { observer: builder });
    for (const value of ['pro', 'basic', 'basic', 'enterprise']) encoder.encode([value], new Float32Array(2), 0);
    const baseline = builder.build();
    expect(baseline.features[0]).toMatchObject({ categories: ['pro', 'basic', '__other__'], otherIndex: 2, proportions: [0.25, 0.5, 0.25] });
    expect(() => assertBaselineFitsSpec(baseline, fitted)).not.toThrow();
  });

  it('refuses a constant fill outside the categories with ignore, and categories given twice', async () => {
    await expect(fit([{ ...columns[0]!, impute: { strategy: 'constant', value: 'gold' } }], ['plan'], [['pro']])).rejects.toThrow(/fill of "plan" is not one of its categories/);
    await expect(fit([{ ...columns[0]!, categories: ['a', 'a'] }], ['plan'], [['a']])).rejects.toThrow(SpecError);
  });
});

describe('fitted spec contract', () => {
  async function base(): Promise<FittedSpec> {
    return fit(
      [
        { name: 'x', role: 'feature', scale: 'none' },
        { name: 'plan', role: 'feature', type: 'categorical', categories: ['a', 'b'] },
      ],
      ['x', 'plan'],
      [['1', 'a'], ['2', 'b']],
    );
  }

  it('refuses an out-of-range otherIndex and says unknown "ignore" is the way to an all-zero block', async () => {
    const fitted = await base();
    const bad = parseFittedSpec({ ...fitted, columns: { ...fitted.columns, plan: { ...fitted.columns['plan']!, otherIndex: 3 } } });
    expect(fittedSpecProblem(bad)).toEqual({
      field: 'featureSpec.columns.plan.otherIndex',
      message: '3 is outside the vocabulary\'s 3 slots (0…2); for an all-zero block on unseen values set "unknown": "ignore" and otherIndex -1',
    });
  });

  it('writes each slot at its featureNames position with slotOrder featureNames, and refuses a name the encoder does not write', async () => {
    const fitted = await base();
    expect(fitted.featureNames).toEqual(['x', 'plan=a', 'plan=b', 'plan=__other__']);
    const reordered = parseFittedSpec({ ...fitted, featureNames: ['plan=b', 'plan=__other__', 'x', 'plan=a'], slotOrder: 'featureNames' });
    expect(fittedSpecProblem(reordered)).toBeUndefined();
    expect(encodeRows(reordered, ['x', 'plan'], [['7', 'a'], ['8', 'b'], ['9', 'z']])).toEqual([
      [0, 0, 7, 1],
      [1, 0, 8, 0],
      [0, 1, 9, 0],
    ]);
    // Without slotOrder the same permutation is refused, as before.
    expect(fittedSpecProblem({ ...reordered, slotOrder: undefined })?.field).toBe('featureSpec.featureNames[0]');
    const wrong = { ...reordered, featureNames: ['plan=b', 'plan=c', 'x', 'plan=a'] };
    expect(fittedSpecProblem(wrong)).toEqual({ field: 'featureSpec.featureNames[1]', message: '"plan=c" is not a slot the encoder writes' });
  });

  it("feeds a feed: 'string' column as text, outside the number slots", async () => {
    const fitted = await fit(
      [
        { name: 'x', role: 'feature', scale: 'none' },
        { name: 'channel', role: 'feature', type: 'categorical', feed: 'string', impute: { strategy: 'constant', value: 'none' } },
      ],
      ['x', 'channel'],
      [['1', 'sms'], ['2', 'web']],
    );
    expect(fitted.featureNames).toEqual(['x']);
    expect(fitted.textNames).toEqual(['channel']);
    expect(fittedSpecProblem(fitted)).toBeUndefined();
    const encoder = compileEncoder(fitted, ['x', 'channel'], 'score.csv');
    expect([encoder.width, encoder.textWidth]).toEqual([1, 1]);
    const numbers = new Float32Array(2);
    const text = new Array<string>(2);
    expect(encoder.encode(['3', 'fax'], numbers, 0, text, 0)).toBeNull();
    expect(encoder.encode(['4', ''], numbers, 1, text, 1)).toBeNull();
    expect([...numbers]).toEqual([3, 4]);
    expect(text).toEqual(['fax', 'none']);
    expect(encoder.unseenCounts()).toEqual({ channel: 1 });
  });
});

describe('options only an imported model can use', () => {
  it("refuses impute 'nan' and feed 'string' in a training spec, naming the column's path", async () => {
    const { resolveTrainingSpec } = await import('../../../functions/core/training/resolveTrainingSpec.js');
    const spec = (column: Record<string, unknown>) => ({ name: 'm', featureSpec: { columns: [{ name: 'y', role: 'target', type: 'categorical' }, { name: 'x', role: 'feature', ...column }] } });
    expect(() => resolveTrainingSpec(spec({ impute: { strategy: 'nan' } }), { source: 'spec.json' })).toThrow('spec.json at columns.1.impute.strategy: impute "nan" is for imported models');
    expect(() => resolveTrainingSpec(spec({ type: 'categorical', feed: 'string' }), { source: 'spec.json' })).toThrow('spec.json at columns.1.feed: feed "string" is for imported models');
    expect(() => resolveTrainingSpec(spec({ impute: { strategy: 'median' } }), { source: 'spec.json' })).not.toThrow();
  });
});
