import { describe, expect, it } from 'vitest';
import { ExtractError, SpecError } from '../../../functions/core/errors.js';
import { parseFeatureSpec, type FeatureSpecInput } from '../../../functions/core/spec/featureSpec.js';
import { fitSpec, quantileSorted } from '../../../functions/core/spec/fitSpec.js';
import { compileEncoder, type EncodeObserver } from '../../../functions/core/spec/rowEncoder.js';

const header = ['customer_id', 'age', 'job', 'member', 'y'];
const training = [
  ['c1', '20', 'admin', 'yes', 'no'],
  ['c2', '30', 'admin', 'no', 'yes'],
  ['c3', '', 'tech', 'yes', 'no'],
  ['c4', '50', 'tech', 'no', 'no'],
  ['c5', '40', 'rare', 'yes', 'yes'],
];

const specInput: FeatureSpecInput = {
  columns: [
    { name: 'customer_id', role: 'id', type: 'categorical' },
    { name: 'age', role: 'feature', type: 'numeric', impute: { strategy: 'median', indicator: true }, scale: 'standard' },
    { name: 'job', role: 'feature', type: 'categorical', minCategoryCount: 2, impute: { strategy: 'missing-category' } },
    { name: 'member', role: 'feature', type: 'boolean', scale: 'none' },
    { name: 'y', role: 'target', type: 'categorical' },
  ],
};

async function fitted() {
  return fitSpec(parseFeatureSpec(specInput), { header, records: training }, { source: 'train.csv', now: new Date('2026-01-01') });
}

describe('fitSpec', () => {
  it('learns median, mean, population std, vocabulary and classes from the rows', async () => {
    // Prepare: ages 20, 30, 40, 50 (one missing) → median 35, mean 35, population std sqrt(125).
    const spec = await fitted();

    // Assess
    expect(spec.trainingRows).toBe(5);
    expect(spec.columns['age']).toEqual({ kind: 'numeric', fill: 35, clipLower: null, clipUpper: null, shift: 35, scale: Math.sqrt(125), missingRate: 0.2 });
    // `rare` occurs once (< minCategoryCount 2) so it goes to other.
    expect(spec.columns['job']).toEqual({
      kind: 'categorical',
      vocabulary: ['admin', 'tech', '__other__', '__missing__'],
      otherIndex: 2,
      fillIndex: 3,
      missingRate: 0,
    });
    expect(spec.classes).toEqual(['no', 'yes']);
    expect(spec.featureNames).toEqual(['age', 'age__missing', 'job=admin', 'job=tech', 'job=__other__', 'job=__missing__', 'member']);
  });

  it('clips to fitted quantiles before scaling', async () => {
    const spec = parseFeatureSpec({
      columns: [{ name: 'x', role: 'feature', clip: { lowerQuantile: 0.25, upperQuantile: 0.75 }, scale: 'minmax' }],
    });
    const rows = ['1', '2', '3', '4', '100'].map((v) => [v]);
    const fit = await fitSpec(spec, { header: ['x'], records: rows });
    // numpy-style quantiles of [1,2,3,4,100]: q25 = 2, q75 = 4.
    expect(fit.columns['x']).toMatchObject({ clipLower: 2, clipUpper: 4, shift: 2, scale: 2 });
    const encoder = compileEncoder(fit, ['x'], 'score.csv');
    const out = new Float32Array(1);
    encoder.encode(['100'], out, 0);
    expect(out[0]).toBe(1);
    encoder.encode(['-7'], out, 0);
    expect(out[0]).toBe(0);
  });

  it('refuses a target with a single class', async () => {
    const spec = parseFeatureSpec(specInput);
    const rows = training.map((r) => [...r.slice(0, 4), 'no']);
    await expect(fitSpec(spec, { header, records: rows }, { source: 'train.csv' })).rejects.toMatchObject({
      code: 'FIT_FAILED',
      message: expect.stringContaining('train.csv') as unknown,
    });
  });

  it('interpolates quantiles like numpy', () => {
    expect(quantileSorted(Float64Array.from([1, 2, 3, 4]), 0.5)).toBe(2.5);
    expect(quantileSorted(Float64Array.from([1, 2, 3, 4]), 0.1)).toBeCloseTo(1.3, 12);
  });
});

describe('compileEncoder', () => {
  it('writes the expected vector for known rows, columns in any order, extra columns ignored', async () => {
    const spec = await fitted();
    // Prepare: the scoring extract has its columns shuffled and an extra one.
    const scoringHeader = ['job', 'extra', 'member', 'age', 'customer_id'];
    const encoder = compileEncoder(spec, scoringHeader, 'score.csv');
    const out = new Float32Array(encoder.width * 3).fill(-9);

    // Act
    const issues = [
      encoder.encode(['tech', 'x', 'yes', '45', 'k1'], out, 0),
      encoder.encode(['', 'x', 'no', '', 'k2'], out, encoder.width),
      encoder.encode(['unheard', 'x', 'NO', '35', 'k3'], out, encoder.width * 2),
    ];

    // Assess
    const s = Math.sqrt(125);
    expect(issues).toEqual([null, null, null]);
    expect(encoder.width).toBe(7);
    expect(Array.from(out.subarray(0, 7))).toEqual([10 / s, 0, 0, 1, 0, 0, 1].map(Math.fround));
    expect(Array.from(out.subarray(7, 14))).toEqual([0, 1, 0, 0, 0, 1, 0]);
    expect(Array.from(out.subarray(14, 21))).toEqual([0, 0, 0, 0, 1, 0, 0]);
    expect(encoder.unseenCounts()).toEqual({ job: 1 });
    expect(encoder.idIndex).toBe(4);
    expect(encoder.targetIndex).toBeNull();
  });

  it('reports unparseable cells and empty ids as row issues, not exceptions', async () => {
    const spec = await fitted();
    const encoder = compileEncoder(spec, header, 'score.csv');
    const out = new Float32Array(encoder.width);
    expect(encoder.encode(['c9', 'forty', 'admin', 'yes', ''], out, 0)).toEqual({
      column: 'age',
      reason: 'NOT_A_NUMBER',
      detail: '"forty" in "age"',
    });
    expect(encoder.encode(['c9', '40', 'admin', 'maybe', ''], out, 0)).toMatchObject({ column: 'member', reason: 'NOT_A_BOOLEAN' });
    expect(encoder.encode(['', '40', 'admin', 'yes', ''], out, 0)).toMatchObject({ column: 'customer_id', reason: 'MISSING_REQUIRED' });
    expect(encoder.encode(['c9', '40'], out, 0)).toMatchObject({ reason: 'FIELD_COUNT', detail: 'expected 5 fields, found 2' });
    expect(encoder.encode(['c9', '0x10', 'admin', 'yes', ''], out, 0)).toMatchObject({ reason: 'NOT_A_NUMBER' });
  });

  it('names the missing column and the file', async () => {
    const spec = await fitted();
    let error: unknown;
    try {
      compileEncoder(spec, ['customer_id', 'job', 'member'], 'extract-2026-11-23.csv');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({
      code: 'EXTRACT_MISSING_COLUMN',
      location: { file: 'extract-2026-11-23.csv', line: 1, column: 'age' },
    });
    expect((error as Error).message).toMatch(/^extract-2026-11-23\.csv:1 \(column "age"\): required column "age" missing/);
  });

  it('replays raw values of good rows to an observer', async () => {
    const spec = await fitted();
    const seen: string[] = [];
    const observer: EncodeObserver = {
      numeric: (c, v) => seen.push(`n${c}:${v}`),
      category: (c, slot, unseen) => seen.push(`c${c}:${slot}:${unseen}`),
    };
    const encoder = compileEncoder(spec, header, 'score.csv', { observer });
    const out = new Float32Array(encoder.width);
    encoder.encode(['c1', '', 'zzz', 'yes', ''], out, 0);
    encoder.encode(['c2', 'bad', 'admin', 'yes', ''], out, 0); // rejected: not observed
    expect(seen).toEqual(['n0:NaN', 'c1:2:true', 'n2:1']);
  });
});

describe('parseFeatureSpec', () => {
  it('names the invalid path', () => {
    expect(() => parseFeatureSpec({ columns: [{ name: 'a', role: 'feature', type: 'text' }] }, 'spec.json')).toThrow(SpecError);
    expect(() => parseFeatureSpec({ columns: [{ name: 'a', role: 'feature', type: 'text' }] }, 'spec.json')).toThrow(/spec\.json at columns\.0\.type/);
  });
});
