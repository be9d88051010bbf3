import { describe, expect, it } from 'vitest';
import { fittedSpecProblem } from '../../../functions/core/bundle/fittedSpecContract.js';
import { SpecError } from '../../../functions/core/errors.js';
import { compileCrossWriter, crossLevels, CrossTally, fitCross } from '../../../functions/core/spec/featureCrosses.js';
import { parseFeatureSpec, parseFittedSpec, type FeatureSpecInput, type FittedSpec } from '../../../functions/core/spec/featureSpec.js';
import { fitSpec, type FitWarning } from '../../../functions/core/spec/fitSpec.js';
import { compileEncoder } from '../../../functions/core/spec/rowEncoder.js';
import { columnImportance } from '../../../functions/core/training/buildBaseline.js';
import { featureSlotGroups } from '../../../functions/core/training/featureSlotGroups.js';

// 13 training rows. month: may 6 (one written " MAY ", an alias), aug 3, jun 2, missing 2 → with
// maxCategories 2 the vocabulary is [aug, may, __other__] (jun is `other`). day: 1 ×6, 5 ×7.
const header = ['id', 'month', 'day', 'n', 'y'];
const pairs: [string, string, number][] = [
  ['may', '5', 3],
  [' MAY ', '5', 1],
  ['may', '1', 2],
  ['aug', '1', 2],
  ['aug', '5', 1],
  ['jun', '1', 2],
  ['', '5', 2],
];
const records = pairs.flatMap(([month, day, times]) => Array.from({ length: times }, () => [month, day]));
const rows = records.map(([month, day], i) => [`c${i}`, month!, day!, String(i), i % 2 ? 'yes' : 'no']);

const specInput = (cross: object = {}, extra: Partial<FeatureSpecInput> = {}): FeatureSpecInput => ({
  columns: [
    { name: 'id', role: 'id' },
    { name: 'month', role: 'feature', type: 'categorical', maxCategories: 2, aliases: { MAY: 'may' } },
    { name: 'day', role: 'feature', type: 'categorical' },
    { name: 'n', role: 'feature', type: 'numeric', scale: 'none' },
    { name: 'y', role: 'target', type: 'categorical' },
  ],
  crosses: [{ columns: ['month', 'day'], minCategoryCount: 2, ...cross }],
  ...extra,
});

async function fit(input: FeatureSpecInput, warnings: FitWarning[] = []): Promise<FittedSpec> {
  const fitted = await fitSpec(parseFeatureSpec(input, 'spec.json'), { header, records: rows }, { source: 'train.csv', now: new Date('2026-01-01'), warn: (w) => warnings.push(w) });
  // As a bundle stores and loads it.
  return parseFittedSpec(JSON.parse(JSON.stringify(fitted)));
}

/** One row's slots, through the real encoder. */
function encode(fitted: FittedSpec, month: string, day: string): number[] {
  const encoder = compileEncoder(fitted, header, 'score.csv');
  const out = new Float32Array(encoder.width);
  expect(encoder.encode(['x', month, day, '7', ''], out, 0)).toBeNull();
  return [...out];
}

describe('feature crosses: fit', () => {
  it('keeps the combinations of kept categories seen ≥ minCategoryCount times, in vocabulary order, after the columns', async () => {
    const fitted = await fit(specInput());
    expect(fitted.columns['month']).toMatchObject({ vocabulary: ['aug', 'may', '__other__'], otherIndex: 2 });
    expect(fitted.columns['day']).toMatchObject({ vocabulary: ['1', '5', '__other__'], otherIndex: 2 });
    // may|5 ×4 (the alias counts), may|1 ×2, aug|1 ×2; aug|5 ×1 is rare; jun|1 ×2 has month `other`; |5 ×2 has month missing.
    expect(fitted.crosses).toEqual([{ columns: ['month', 'day'], combinations: [['aug', '1'], ['may', '1'], ['may', '5']] }]);
    expect(fitted.featureNames).toEqual([
      'month=aug', 'month=may', 'month=__other__',
      'day=1', 'day=5', 'day=__other__',
      'n',
      'month×day=aug|1', 'month×day=may|1', 'month×day=may|5', 'month×day=__other__',
    ]);
    expect(fitted.spec.crosses).toEqual([{ columns: ['month', 'day'], minCategoryCount: 2, maxCategories: 500 }]);
    expect(fittedSpecProblem(fitted)).toBeUndefined();
  });

  it('maxCategories keeps the most frequent; a tie goes to the earlier vocabulary slots', async () => {
    // may|5 (4) first; may|1 and aug|1 tie at 2: aug (slot 0) before may (slot 1).
    const fitted = await fit(specInput({ maxCategories: 2 }));
    expect(fitted.crosses![0]!.combinations).toEqual([['aug', '1'], ['may', '5']]);
  });

  it('the defaults are minCategoryCount 10 and maxCategories 500: here nothing is kept, and the fit says so', async () => {
    const warnings: FitWarning[] = [];
    const fitted = await fit(specInput({ minCategoryCount: undefined }), warnings);
    expect(fitted.spec.crosses).toEqual([{ columns: ['month', 'day'], minCategoryCount: 10, maxCategories: 500 }]);
    expect(fitted.crosses).toEqual([{ columns: ['month', 'day'], combinations: [] }]);
    expect(fitted.featureNames.slice(7)).toEqual(['month×day=__other__']);
    expect(warnings).toEqual([
      {
        column: 'month×day',
        reason: 'CONSTANT',
        message: 'cross "month×day" has no combination seen at least 10 times in the training rows: fitted as a constant (the model cannot use it until it is retrained on rows where it varies)',
      },
    ]);
  });

  it('fitCross: a missing source or an `other` category never makes a combination, whatever its count', () => {
    const tally = new CrossTally();
    for (let i = 0; i < 5; i++) {
      tally.add(['b', 'x']);
      tally.add([null, 'x']);
      tally.add(['b', 'zzz']);
    }
    const b = { vocabulary: ['a', 'b', '__other__'], otherIndex: 2 };
    const x = { vocabulary: ['x', '__other__'], otherIndex: 1 };
    const fits = [b, x].map((f) => ({ kind: 'categorical' as const, fillIndex: 0, missingRate: 0, ...f }));
    // `zzz` is not in x's vocabulary; a value that *is* `__other__` in the data also lands on other.
    tally.add(['__other__', 'x']);
    expect(fitCross({ columns: ['b', 'x'], minCategoryCount: 1, maxCategories: 500 }, tally, fits).combinations).toEqual([['b', 'x']]);
  });

  it('a spec without crosses fits and stores no crosses key (old bundles stay byte-identical)', async () => {
    const fitted = await fit(specInput({}, { crosses: undefined }));
    expect(fitted).not.toHaveProperty('crosses');
    expect(fitted.spec).not.toHaveProperty('crosses');
    expect(fitted.featureNames).toHaveLength(7);
  });
});

describe('feature crosses: encoder', () => {
  it('writes one slot of the block per row: kept combination, alias and blanks, unseen combination, missing or unseen source', async () => {
    const fitted = await fit(specInput());
    const block = (month: string, day: string) => encode(fitted, month, day).slice(7);
    expect(encode(fitted, 'may', '5')).toEqual([0, 1, 0, 0, 1, 0, 7, 0, 0, 1, 0]);
    expect(block('aug', '1')).toEqual([1, 0, 0, 0]);
    expect(block(' MAY ', '1')).toEqual([0, 1, 0, 0]);
    // Both categories known, the combination rare in training: other.
    expect(block('aug', '5')).toEqual([0, 0, 0, 1]);
    // month missing: the month block takes its fill (may), the cross goes to other, not to may|5.
    expect(encode(fitted, '', '5')).toEqual([0, 1, 0, 0, 1, 0, 7, 0, 0, 0, 1]);
    expect(block('may', '')).toEqual([0, 0, 0, 1]);
    // A month never seen (or rare: jun) is `other` in its column and in the cross.
    expect(block('dec', '5')).toEqual([0, 0, 0, 1]);
    expect(block('jun', '1')).toEqual([0, 0, 0, 1]);
  });

  it('clears the block between rows written at the same place', async () => {
    const fitted = await fit(specInput());
    const encoder = compileEncoder(fitted, header, 'score.csv');
    const out = new Float32Array(encoder.width);
    encoder.encode(['x', 'may', '5', '1', ''], out, 0);
    encoder.encode(['x', 'aug', '1', '1', ''], out, 0);
    expect([...out.slice(7)]).toEqual([1, 0, 0, 0]);
  });

  it('a source with unknown "ignore" sends an unseen value to the cross’s other slot', async () => {
    const input = specInput();
    const columns = input.columns.map((c) => (c.name === 'day' ? { ...c, unknown: 'ignore' as const } : c));
    const fitted = await fit({ ...input, columns });
    expect(fitted.columns['day']).toMatchObject({ vocabulary: ['1', '5'], otherIndex: -1 });
    // day block [1, 5] all zero for 9; the cross: other.
    expect(encode(fitted, 'may', '9')).toEqual([0, 1, 0, 0, 0, 7, 0, 0, 0, 1]);
  });

  it('the Map lookup for large vocabularies gives the same slots as the dense one', () => {
    const big = { vocabulary: Array.from({ length: 2000 }, (_, i) => `v${i}`), otherIndex: -1 };
    const cross = { columns: ['a', 'b'], combinations: [['v3', 'v1999'], ['v1999', 'v0']] };
    const slots = new Int32Array(2);
    const writer = compileCrossWriter(cross, [big, big], { slots, numbers: new Float64Array(2) }, [0, 1]);
    const out = new Float32Array(3);
    const slotFor = (a: number, b: number) => {
      slots[0] = a;
      slots[1] = b;
      writer.write(out, 0);
      return out.indexOf(1);
    };
    expect([slotFor(3, 1999), slotFor(1999, 0), slotFor(0, 0), slotFor(-1, 1999)]).toEqual([0, 1, 2, 2]);
  });

  it('slotOrder "featureNames" places the cross block where featureNames says', async () => {
    const fitted = await fit(specInput());
    const reordered = { ...fitted, slotOrder: 'featureNames' as const, featureNames: [...fitted.featureNames.slice(7), ...fitted.featureNames.slice(0, 7)] };
    expect(fittedSpecProblem(reordered)).toBeUndefined();
    expect(encode(reordered, 'may', '5')).toEqual([0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 7]);
  });
});

describe('feature crosses: bins over a source whose categories are numbers', () => {
  // day 1 and 5 both fall in the band <10: aug|1 ×2 and the rare aug|5 ×1 add up to 3.
  const weekly = { name: 'month×week', bins: { day: [10] } };

  it('crosses the band, not the category: counts of a band add up before minCategoryCount', async () => {
    const fitted = await fit(specInput(weekly));
    expect(fitted.crosses).toEqual([{ columns: ['month', 'day'], name: 'month×week', bins: { day: [10] }, combinations: [['aug', '<10'], ['may', '<10']] }]);
    expect(fitted.featureNames.slice(-3)).toEqual(['month×week=aug|<10', 'month×week=may|<10', 'month×week=__other__']);
  });

  it('the encoder writes one band slot per row; an unseen day, a missing month or `other` go to __other__', async () => {
    const fitted = await fit(specInput(weekly));
    const block = (month: string, day: string): number[] => encode(fitted, month, day).slice(-3);
    expect([block('may', '1'), block('may', '5'), block('aug', '5'), block('jun', '1'), block('', '1'), block('may', '9')]).toEqual([
      [0, 1, 0],
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 1],
      [0, 0, 1],
    ]);
  });

  it('a cross and a binned cross of the same columns live side by side under their names', async () => {
    const input = specInput();
    const fitted = await fit({ ...input, crosses: [...input.crosses!, { columns: ['month', 'day'], minCategoryCount: 2, ...weekly }] });
    expect(fitted.crosses!.map((cross) => cross.name ?? cross.columns.join('×'))).toEqual(['month×day', 'month×week']);
    expect(featureSlotGroups(fitted).groups.map((group) => group.name).slice(-2)).toEqual(['month×day', 'month×week']);
    expect(encode(fitted, 'may', '5').slice(-7)).toEqual([0, 0, 1, 0, 0, 1, 0]);
  });

  it('crossLevels: bands [edge, next edge); a category that is no number, and the other slot, have no level', () => {
    const day = { vocabulary: ['1', '7.5', '8', '14', '15', '31', 'n/a', '__other__'], otherIndex: 7 };
    const [levels] = crossLevels({ columns: ['day', 'month'], bins: { day: [8, 15] } }, [day, { vocabulary: ['may'], otherIndex: -1 }]);
    expect(levels!.labels).toEqual(['<8', '[8,15)', '>=15']);
    expect([...levels!.levelOfSlot!]).toEqual([0, 0, 1, 1, 2, 2, -1, -1]);
  });

  it('a numeric source is banded by its value: missing goes to __other__; without bins it is refused', async () => {
    const input = specInput({ columns: ['month', 'n'], name: 'month×n band', bins: { n: [6] } });
    const fitted = await fit(input);
    // n is the row number 0…12: may rows are 0–5 (<6), aug rows 6–8, jun 9–10, missing month 11–12.
    expect(fitted.crosses![0]!.combinations).toEqual([['aug', '>=6'], ['may', '<6']]);
    const encoder = compileEncoder(fitted, header, 'score.csv');
    const block = (month: string, n: string): number[] => {
      const out = new Float32Array(encoder.width);
      expect(encoder.encode(['x', month, '1', n, ''], out, 0)).toBeNull();
      return [...out.slice(-3)];
    };
    expect([block('may', '5.9'), block('may', '6'), block('aug', '1e3'), block('may', '')]).toEqual([
      [0, 1, 0],
      [0, 0, 1],
      [1, 0, 0],
      [0, 0, 1],
    ]);
    expect(() => parseFeatureSpec(specInput({ columns: ['month', 'n'] }), 'spec.json')).toThrow('cross "month×n": column "n" is numeric: give it bins to cross it');
  });

  it.each([
    [{ bins: { n: [1] } }, 'crosses.0.bins.n', 'cross "month×day": bins for "n" is not one of the cross\'s columns'],
    [{ bins: { day: [5, 5] } }, 'crosses.0.bins.day', 'cross "month×day": bins for "day" needs strictly ascending edges'],
  ])('%j is SPEC_INVALID at %s', (cross, path, message) => {
    expect(() => parseFeatureSpec(specInput(cross), 'spec.json')).toThrow(`spec.json at ${path}: ${path}: ${message}`);
  });

  it('fittedSpecProblem: fitted bins that differ from the spec, or a band the sources never reach', async () => {
    const fitted = await fit(specInput(weekly));
    const cross = fitted.crosses![0]!;
    expect(fittedSpecProblem({ ...fitted, crosses: [{ ...cross, bins: { day: [3] } }] })).toEqual({ field: 'featureSpec.crosses[0].bins', message: 'cross "month×week": the fitted bins differ from the spec\'s' });
    const empty = { ...fitted, crosses: [{ ...cross, combinations: [['aug', '<10'], ['may', '>=10']] }] };
    expect(fittedSpecProblem(empty)).toEqual({ field: 'featureSpec.crosses[0].combinations[1]', message: '">=10" is not a kept band of "day"' });
  });
});

describe('feature crosses: permutation-importance groups', () => {
  it('the block is its own group named a×b; its importance is shared by its sources, added to their own', async () => {
    const fitted = await fit(specInput());
    expect(featureSlotGroups(fitted).groups).toEqual([
      { name: 'month', slots: [0, 1, 2] },
      { name: 'day', slots: [3, 4, 5] },
      { name: 'n', slots: [6] },
      { name: 'month×day', slots: [7, 8, 9, 10] },
    ]);
    const importance = [
      { feature: 'month', importance: 0.1, std: 0 },
      { feature: 'day', importance: 0.05, std: 0 },
      { feature: 'n', importance: 0, std: 0 },
      { feature: 'month×day', importance: 0.2, std: 0 },
    ];
    const byColumn = columnImportance(importance, fitted);
    expect(byColumn['month']).toBeCloseTo(0.2, 12);
    expect(byColumn['day']).toBeCloseTo(0.15, 12);
    expect(byColumn['n']).toBe(0);
  });
});

describe('feature crosses: schema and contract errors', () => {
  const specError = (input: FeatureSpecInput): SpecError => {
    try {
      parseFeatureSpec(input, 'spec.json');
    } catch (error) {
      if (error instanceof SpecError) return error;
      throw error;
    }
    throw new Error('no error');
  };

  it.each([
    [['month', 'nope'], 'crosses.0.columns.1', 'cross "month×nope": column "nope" is not a column of the spec'],
    [['month', 'n'], 'crosses.0.columns.1', 'cross "month×n": column "n" is numeric: give it bins to cross it'],
    [['y', 'month'], 'crosses.0.columns.0', 'cross "y×month": column "y" is a target column, not a feature'],
    [['month', 'month'], 'crosses.0.columns.1', 'cross "month×month": column "month" is named twice'],
  ])('columns %j: SPEC_INVALID at %s', (columns, path, message) => {
    const error = specError(specInput({ columns }));
    expect(error.code).toBe('SPEC_INVALID');
    expect(error.path).toBe(path);
    expect(error.message).toBe(`spec.json at ${path}: ${path}: ${message}`);
  });

  it('a cross of one column, or a feed "string" source, is refused', () => {
    expect(specError(specInput({ columns: ['month'] })).path).toBe('crosses.0.columns');
    const input = specInput();
    const columns = input.columns.map((c) => (c.name === 'day' ? { ...c, feed: 'string' as const } : c));
    expect(specError({ ...input, columns }).message).toContain('cross "month×day": column "day" is fed as a string, not one-hot');
  });

  it('the same cross twice is refused (its slot names would collide)', () => {
    const input = specInput();
    expect(specError({ ...input, crosses: [...input.crosses!, ...input.crosses!] }).message).toContain('crosses.1.columns: cross "month×day" is given twice');
  });

  it('fittedSpecProblem names a fitted cross that disagrees with the spec or the vocabularies', async () => {
    const fitted = await fit(specInput());
    expect(fittedSpecProblem({ ...fitted, crosses: undefined })).toEqual({ field: 'featureSpec.crosses', message: 'lists 0 fitted cross(es), the spec gives 1' });
    const unknown = { ...fitted, crosses: [{ columns: ['month', 'day'], combinations: [['aug', '1'], ['jun', '1'], ['may', '5']] }] };
    expect(fittedSpecProblem(unknown)).toEqual({ field: 'featureSpec.crosses[0].combinations[1]', message: '"jun" is not a kept category of "month"' });
    const other = { ...fitted, crosses: [{ columns: ['month', 'day'], combinations: [['aug', '__other__'], ['may', '1'], ['may', '5']] }] };
    expect(fittedSpecProblem(other)?.message).toBe('"__other__" is not a kept category of "day"');
    const twice = { ...fitted, crosses: [{ columns: ['month', 'day'], combinations: [['aug', '1'], ['aug', '1'], ['may', '5']] }] };
    expect(fittedSpecProblem(twice)).toEqual({ field: 'featureSpec.crosses[0].combinations[1]', message: 'is given twice' });
    const swapped = { ...fitted, crosses: [{ columns: ['day', 'month'], combinations: [] }] };
    expect(fittedSpecProblem(swapped)?.message).toBe('are [day, month], the spec\'s cross at this position is "month×day"');
    const fewer = { ...fitted, crosses: [{ columns: ['month', 'day'], combinations: [['aug', '1']] }] };
    expect(fittedSpecProblem(fewer)?.field).toBe('featureSpec.featureNames[8]');
  });
});
