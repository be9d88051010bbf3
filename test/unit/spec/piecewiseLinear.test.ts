import { describe, expect, it } from 'vitest';
import { fittedSpecProblem } from '../../../functions/core/bundle/fittedSpecContract.js';
import { parseFeatureSpec, parseFittedSpec, type FeatureSpecInput } from '../../../functions/core/spec/featureSpec.js';
import { fitSpec, quantileEdges } from '../../../functions/core/spec/fitSpec.js';
import { compileEncoder, writePiecewiseLinear } from '../../../functions/core/spec/rowEncoder.js';
import { featureSlotGroups } from '../../../functions/core/training/featureSlotGroups.js';

/** Slots of one value over edges, through the encoder's own kernel. */
function ple(value: number, edges: number[]): number[] {
  const lower = Float64Array.from(edges.slice(0, -1));
  const inverseWidth = Float64Array.from(edges.slice(1), (edge, t) => 1 / (edge - edges[t]!));
  const out = new Float32Array(edges.length - 1);
  writePiecewiseLinear(value, lower, inverseWidth, out, 0);
  return [...out];
}

const header = ['id', 'age', 'joined', 'member', 'y'];
const records = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((age, i) => [`c${i}`, String(age), `2025-12-${String(10 + i).padStart(2, '0')}`, i % 2 ? 'yes' : 'no', i % 3 ? 'no' : 'yes']);
const specInput = (extra: Partial<FeatureSpecInput> = {}, age: object = {}): FeatureSpecInput => ({
  referenceDate: '2026-01-01',
  columns: [
    { name: 'id', role: 'id' },
    { name: 'age', role: 'feature', type: 'numeric', impute: { strategy: 'median', indicator: true }, ...age },
    { name: 'joined', role: 'feature', type: 'date' },
    { name: 'member', role: 'feature', type: 'boolean', scale: 'none' },
    { name: 'y', role: 'target', type: 'categorical' },
  ],
  ...extra,
});
const fit = (input: FeatureSpecInput) => fitSpec(parseFeatureSpec(input), { header, records }, { source: 'train.csv', now: new Date('2026-01-01') });

describe('piecewise-linear encoding (Gorishniy et al. 2022)', () => {
  it('writes 1 above a bin, 0 below it, the position inside it; the outer bins extrapolate', () => {
    const edges = [0, 10, 20, 40];
    expect(ple(5, edges)).toEqual([0.5, 0, 0]);
    expect(ple(10, edges)).toEqual([1, 0, 0]);
    expect(ple(15, edges)).toEqual([1, 0.5, 0]);
    expect(ple(30, edges)).toEqual([1, 1, 0.5]);
    expect(ple(40, edges)).toEqual([1, 1, 1]);
    // Beyond the fitted range: the first bin is not floored, the last not capped (the paper's definition).
    expect(ple(-5, edges)).toEqual([-0.5, 0, 0]);
    expect(ple(50, edges)).toEqual([1, 1, 1.5]);
  });

  it('fits quantile edges, dropping repeated ones (fewer bins for few distinct values)', () => {
    // numpy: np.unique(np.quantile([1..9], [0, .25, .5, .75, 1])) = [1, 3, 5, 7, 9].
    expect(quantileEdges(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 4)).toEqual([1, 3, 5, 7, 9]);
    // np.unique(np.quantile([0, 0, 0, 0, 1, 2], [0, .25, .5, .75, 1])) = [0, 0.75, 2].
    expect(quantileEdges(Float64Array.from([0, 0, 0, 0, 1, 2]), 4)).toEqual([0, 0.75, 2]);
    expect(quantileEdges(Float64Array.from([3, 3, 3]), 4)).toBeUndefined();
  });

  it('a spec-wide numericEncoding bins numeric and date columns, not booleans; missing cells take the fill and the indicator', async () => {
    const fitted = await fit(specInput({ numericEncoding: { encoding: 'ple', bins: 4 } }));
    expect(fitted.columns['age']).toMatchObject({ kind: 'numeric', fill: 5, edges: [1, 3, 5, 7, 9] });
    // joined: 22 … 14 days before the reference date.
    expect(fitted.columns['joined']).toMatchObject({ edges: [14, 16, 18, 20, 22] });
    expect(fitted.columns['member']).not.toHaveProperty('edges');
    expect(fitted.featureNames).toEqual([
      'age__ple1', 'age__ple2', 'age__ple3', 'age__ple4', 'age__missing',
      'joined__ple1', 'joined__ple2', 'joined__ple3', 'joined__ple4',
      'member',
    ]);

    const encoder = compileEncoder(parseFittedSpec(JSON.parse(JSON.stringify(fitted))), header, 'score.csv');
    expect(encoder.width).toBe(10);
    const out = new Float32Array(10);
    expect(encoder.encode(['a', '4', '2025-12-20', 'yes', ''], out, 0)).toBeNull();
    // age 4: bins [1,3] full, [3,5] half; joined 12 days before → below the first edge 14: −1 in bin 1.
    expect([...out]).toEqual([1, 0.5, 0, 0, 0, -1, 0, 0, 0, 1]);
    expect(encoder.encode(['b', '', '2025-12-10', 'no', ''], out, 0)).toBeNull();
    // age missing → median 5 → [1, 1, 0, 0], indicator 1; joined 22 days → top of the last bin.
    expect([...out]).toEqual([1, 1, 0, 0, 1, 1, 1, 1, 1, 0]);
  });

  it('a column’s own encoding and bins win over the spec-wide default', async () => {
    const scaled = await fit(specInput({ numericEncoding: { encoding: 'ple', bins: 4 } }, { encoding: 'scale' }));
    expect(scaled.columns['age']).not.toHaveProperty('edges');
    expect(scaled.featureNames.slice(0, 2)).toEqual(['age', 'age__missing']);
    const two = await fit(specInput({}, { encoding: 'ple', bins: 2 }));
    expect(two.columns['age']).toMatchObject({ edges: [1, 5, 9] });
    expect(two.columns['joined']).not.toHaveProperty('edges');
  });

  it('clips before binning: edges stay inside the clip bounds', async () => {
    const fitted = await fit(specInput({}, { encoding: 'ple', bins: 2, clip: { lowerQuantile: 0.25, upperQuantile: 0.75 } }));
    expect(fitted.columns['age']).toMatchObject({ clipLower: 3, clipUpper: 7, edges: [3, 5, 7] });
    const out = new Float32Array(20);
    compileEncoder(fitted, header, 'score.csv').encode(['a', '100', '2025-12-20', 'yes', ''], out, 0);
    expect([...out.subarray(0, 2)]).toEqual([1, 1]);
  });

  it('refuses PLE on a categorical, boolean or sequence column, naming the column', () => {
    expect(() => parseFeatureSpec({ columns: [{ name: 'plan', role: 'feature', type: 'categorical', encoding: 'ple' }] }, 'spec.json')).toThrow(
      /columns\.0\.encoding.*piecewise-linear encoding applies to numeric and date columns/s,
    );
    expect(() => parseFeatureSpec({ columns: [{ name: 'm', role: 'feature', type: 'boolean', bins: 4 }] })).toThrow(/piecewise-linear/);
  });

  it('permutation importance groups every PLE slot of a column with its indicator', async () => {
    const fitted = await fit(specInput({ numericEncoding: { encoding: 'ple', bins: 4 } }));
    expect(featureSlotGroups(fitted).groups).toEqual([
      { name: 'age', slots: [0, 1, 2, 3, 4] },
      { name: 'joined', slots: [5, 6, 7, 8] },
      { name: 'member', slots: [9] },
    ]);
  });

  it('the bundle contract refuses edges that do not rise, and counts PLE slots in the width', async () => {
    const fitted = await fit(specInput({ numericEncoding: { encoding: 'ple', bins: 4 } }));
    expect(fittedSpecProblem(fitted)).toBeUndefined();
    const flat = structuredClone(fitted);
    (flat.columns['age'] as { edges: number[] }).edges = [1, 3, 3, 7, 9];
    expect(fittedSpecProblem(flat)).toEqual({ field: 'featureSpec.columns.age.edges[2]', message: '3 is not above the edge before it (PLE edges rise strictly)' });
    const short = structuredClone(fitted);
    (short.columns['age'] as { edges: number[] }).edges = [1, 5, 9];
    expect(fittedSpecProblem(short)?.field).toBe('featureSpec.featureNames[2]');
  });
});
