import { beforeAll, describe, expect, it } from 'vitest';
import { BaselineBuilder, quantileEdges } from '../../../functions/core/drift/baselineBuilder.js';
import { binIndex, parseDriftBaseline, type DriftBaseline, type NumericFeatureBaseline } from '../../../functions/core/drift/driftBaseline.js';
import { DriftError } from '../../../functions/core/errors.js';
import { parseFeatureSpec } from '../../../functions/core/spec/featureSpec.js';
import { fitSpec } from '../../../functions/core/spec/fitSpec.js';
import { encodeAndScore, loadBankFixture, type BankFixture } from './bankMarketingFixture.js';

const sorted = (values: number[]) => Float64Array.from(values).sort();

describe('quantileEdges', () => {
  it('puts the deciles of 1…10 at 1…9', () => {
    expect(quantileEdges(sorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('merges tied deciles of a discrete column', () => {
    expect(quantileEdges(sorted([-1, -1, -1, -1, -1, -1, -1, -1, 5, 9]), 10)).toEqual([-1, 5]);
  });

  it('drops an edge at the maximum, so the last bin is never empty', () => {
    // 85 % zeros, 15 % ones: the 90th percentile is 1, the maximum.
    expect(quantileEdges(sorted([...new Array<number>(85).fill(0), ...new Array<number>(15).fill(1)]), 10)).toEqual([0]);
    expect(quantileEdges(sorted([4, 4, 4]), 10)).toEqual([]);
  });
});

describe('binIndex', () => {
  it('uses right-closed bins', () => {
    expect([-5, 10, 10.5, 20, 21].map((v) => binIndex([10, 20], v))).toEqual([0, 0, 1, 1, 2]);
  });
});

describe('BaselineBuilder on hand-made observations', () => {
  const spec = parseFeatureSpec({
    columns: [
      { name: 'spend', role: 'feature', type: 'numeric' },
      { name: 'channel', role: 'feature', type: 'categorical' },
    ],
  });

  it('records bins, mean, std, missing rate and category shares (unseen values in other)', async () => {
    const fitted = await fitSpec(spec, { header: ['spend', 'channel'], records: [['1', 'web'], ['2', 'shop'], ['3', 'web'], ['4', 'web']] });
    const builder = new BaselineBuilder(fitted, { bins: 2 });
    const channel = fitted.columns.channel!;
    if (channel.kind !== 'categorical') throw new Error('channel should be categorical');
    const web = channel.vocabulary.indexOf('web');
    const observations: Array<[number, number, boolean]> = [
      [1, web, false],
      [2, channel.vocabulary.indexOf('shop'), false],
      [3, web, false],
      [Number.NaN, -1, false],
      [4, channel.otherIndex, true],
    ];
    for (const [spend, slot, unseen] of observations) {
      builder.numeric(0, spend);
      builder.category(1, slot, unseen);
    }
    builder.score([0.2, 0.8]);

    const baseline = builder.build({ featureImportance: { spend: 2 }, createdAt: '2026-11-23T00:00:00.000Z' });

    const numeric = baseline.features[0] as NumericFeatureBaseline;
    expect(numeric).toMatchObject({ name: 'spend', kind: 'numeric', edges: [2], proportions: [0.5, 0.5], mean: 2.5, min: 1, max: 4, missingRate: 0.2 });
    expect(numeric.std).toBeCloseTo(Math.sqrt(1.25), 12);
    const shares = Object.fromEntries(channel.vocabulary.map((c, i) => [c, (baseline.features[1] as { proportions: number[] }).proportions[i]]));
    expect(shares).toEqual({ shop: 0.25, web: 0.5, __other__: 0.25 });
    expect(baseline.features[1]).toMatchObject({ missingRate: 0.2 });
    expect(baseline.score).toEqual({ edges: [0.2], proportions: [0.5, 0.5], mean: 0.5, rows: 2 });
    expect(baseline).toMatchObject({ schemaVersion: 1, rows: 5, featureImportance: { spend: 2 }, createdAt: '2026-11-23T00:00:00.000Z' });
  });

  it('refuses an observation of the wrong kind, and a build with no rows', async () => {
    const fitted = await fitSpec(spec, { header: ['spend', 'channel'], records: [['1', 'web']] });
    const builder = new BaselineBuilder(fitted);
    expect(() => builder.category(0, 0, false)).toThrow(DriftError);
    expect(() => builder.numeric(1, 3)).toThrow('observer column 1 is not a numeric feature');
    const error = (() => {
      try {
        builder.build();
      } catch (e) {
        return e as DriftError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DriftError);
    expect(error?.code).toBe('DRIFT_INPUT_INVALID');
    expect(error?.message).toMatch(/no training rows were observed/);
  });
});

describe('BaselineBuilder on bank-marketing', () => {
  let fixture: BankFixture;
  let baseline: DriftBaseline;

  beforeAll(async () => {
    fixture = await loadBankFixture();
    const builder = new BaselineBuilder(fixture.fitted);
    encodeAndScore(fixture, fixture.train, builder);
    builder.score(encodeAndScore(fixture, fixture.validation));
    baseline = builder.build({ featureImportance: { duration: 0.5 } });
  });

  it('gives a continuous column ten bins of about a tenth each', () => {
    const age = baseline.features.find((f) => f.name === 'age') as NumericFeatureBaseline;
    expect(age.edges).toHaveLength(9);
    for (const share of age.proportions) expect(share).toBeGreaterThan(0.05);
    expect(age.proportions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const ages = fixture.train.map((r) => Number(r[fixture.header.indexOf('age')]));
    expect(age.mean).toBeCloseTo(ages.reduce((a, b) => a + b, 0) / ages.length, 9);
    expect([age.min, age.max]).toEqual([Math.min(...ages), Math.max(...ages)]);
  });

  it('gives pdays (mostly −1, "not contacted") a first bin holding exactly the −1 share', () => {
    const pdays = baseline.features.find((f) => f.name === 'pdays') as NumericFeatureBaseline;
    const column = fixture.header.indexOf('pdays');
    const notContacted = fixture.train.filter((r) => r[column] === '-1').length / fixture.train.length;
    expect(pdays.edges[0]).toBe(-1);
    expect(pdays.proportions[0]).toBeCloseTo(notContacted, 12);
  });

  it('records category shares as counted in the training rows', () => {
    const job = baseline.features.find((f) => f.name === 'job');
    if (job?.kind !== 'categorical') throw new Error('job should be categorical');
    const column = fixture.header.indexOf('job');
    const admins = fixture.train.filter((r) => r[column] === 'admin.').length / fixture.train.length;
    expect(job.proportions[job.categories.indexOf('admin.')]).toBeCloseTo(admins, 12);
    expect(job.proportions[job.otherIndex]).toBe(0);
    expect(job.missingRate).toBe(0);
  });

  it('records the validation score deciles and survives a JSON round trip in a few kilobytes', () => {
    expect(baseline.score?.rows).toBe(fixture.validation.length);
    expect(baseline.score?.edges).toHaveLength(9);
    const json = JSON.stringify(baseline);
    expect(json.length).toBeLessThan(10_000);
    expect(parseDriftBaseline(JSON.parse(json))).toEqual(baseline);
  });

  it('rejects a baseline whose proportions do not match its edges', () => {
    const broken = structuredClone(baseline) as { features: Array<{ proportions: number[] }> };
    broken.features[0]!.proportions.pop();
    expect(() => parseDriftBaseline(broken, 'manifest.json baseline')).toThrow(
      /^manifest\.json baseline: features\.0: proportions needs one entry more than edges$/,
    );
  });
});
