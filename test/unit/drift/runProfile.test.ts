import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DriftBaseline } from '../../../functions/core/drift/driftBaseline.js';
import {
  assertBaselineFitsSpec,
  mergeAllProfiles,
  mergeProfiles,
  parseRunProfile,
  ProfileAccumulator,
  type RunProfile,
} from '../../../functions/core/drift/runProfile.js';
import { DriftError } from '../../../functions/core/errors.js';
import { buildBankBaseline, loadBankFixture, profileRows, shiftRows, type BankFixture } from './bankMarketingFixture.js';

/** A two-feature baseline written by hand: spend in 3 bins, channel with 3 slots (web, shop, other). */
const handBaseline: DriftBaseline = {
  schemaVersion: 1,
  id: 'hand-made',
  createdAt: '2026-11-23T00:00:00.000Z',
  rows: 100,
  features: [
    { name: 'spend', kind: 'numeric', edges: [10, 20], proportions: [0.3, 0.4, 0.3], mean: 15, std: 6, min: 0, max: 40, missingRate: 0 },
    { name: 'channel', kind: 'categorical', categories: ['web', 'shop', '__other__'], otherIndex: 2, proportions: [0.6, 0.4, 0], missingRate: 0 },
  ],
  score: { edges: [0.5], proportions: [0.5, 0.5], mean: 0.5, rows: 100 },
  featureImportance: {},
};

const withoutRuns = ({ runs: _runs, ...rest }: RunProfile) => rest;

describe('ProfileAccumulator', () => {
  it('counts values on the baseline bins, missing values, unseen categories, scores and the selection', () => {
    const accumulator = new ProfileAccumulator(handBaseline, { model: 'shop', runId: 'run-1' });
    const rows: Array<[number, number, boolean, number]> = [
      [5, 0, false, 0.1],
      [10, 1, false, 0.5],
      [15, 2, true, 0.55],
      [Number.NaN, -1, false, 0.999],
      [99, 0, false, 0.42],
    ];
    for (const [spend, slot, unseen, p] of rows) {
      accumulator.numeric(0, spend);
      accumulator.category(1, slot, unseen);
      accumulator.score([p]);
    }
    accumulator.selected(0.999);
    accumulator.selected(0.55);

    const profile = accumulator.toProfile();

    expect(profile).toMatchObject({
      baselineId: 'hand-made',
      model: 'shop',
      runs: ['run-1'],
      rows: 5,
      features: [
        { name: 'spend', kind: 'numeric', counts: [2, 1, 1], missing: 1 },
        { name: 'channel', kind: 'categorical', counts: [2, 1, 1], missing: 1, unseen: 1 },
      ],
      selection: { contacts: 2, sumMicros: 999_000 + 550_000 },
    });
    expect(profile.score.counts).toEqual([3, 2]);
    const { counts, sumMicros } = profile.score.histogram;
    expect([counts[10], counts[50], counts[55], counts[99], counts[42]]).toEqual([1, 1, 1, 1, 1]);
    expect([sumMicros[10], sumMicros[99]]).toEqual([100_000, 999_000]);
    expect(parseRunProfile(JSON.parse(JSON.stringify(profile)))).toEqual(profile);
  });

  it('profiles batches of model outputs: P(positive), or the top class of a multiclass row', () => {
    const binary = new ProfileAccumulator(handBaseline);
    binary.score(Float32Array.of(0.25, 0.75, 0.5, 0.9), 3, 1);
    expect(binary.toProfile().score.counts).toEqual([2, 1]);

    const multiclass = new ProfileAccumulator(handBaseline);
    multiclass.score(Float32Array.of(0.125, 0.75, 0.125, 0.375, 0.25, 0.375), 2, 3);
    const { counts, histogram } = multiclass.toProfile().score;
    expect(counts).toEqual([1, 1]);
    expect(histogram.counts.flatMap((n, bin) => (n > 0 ? [[bin, n]] : []))).toEqual([[37, 1], [75, 1]]);
    expect([histogram.sumMicros[37], histogram.sumMicros[75]]).toEqual([375_000, 750_000]);
  });

  it('takes the selection as totals when the target list is chosen after scoring', () => {
    const accumulator = new ProfileAccumulator(handBaseline);
    accumulator.addSelection({ contacts: 120, expectedResponses: 31.4159265 });
    accumulator.selected(0.25);
    expect(accumulator.toProfile().selection).toEqual({ contacts: 121, sumMicros: 31_415_927 + 250_000 });
  });

  it('refuses observations the baseline cannot hold', () => {
    const accumulator = new ProfileAccumulator(handBaseline);
    expect(() => accumulator.numeric(1, 3)).toThrow('observer column 1 is not a numeric feature of the baseline');
    expect(() => accumulator.category(1, 7, false)).toThrow('slot 7 of "channel" is outside the baseline\'s 3 categories');
  });
});

describe('mergeProfiles', () => {
  it('is exact: profiles of any split of the rows merge to the profile of all rows', () => {
    const row = fc.tuple(
      fc.oneof(fc.double({ min: -50, max: 80, noNaN: true }), fc.constant(Number.NaN)),
      fc.integer({ min: -1, max: 2 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(row, { maxLength: 60 }), fc.array(fc.nat(60), { maxLength: 4 }), (rows, cuts) => {
        const profileOf = (part: typeof rows, runId: string) => {
          const accumulator = new ProfileAccumulator(handBaseline, { runId });
          for (const [spend, slot, p] of part) {
            accumulator.numeric(0, spend);
            accumulator.category(1, slot, slot === 2);
            accumulator.score([p]);
            if (p > 0.5) accumulator.selected(p);
          }
          return accumulator.toProfile();
        };
        const bounds = [0, ...[...cuts].sort((a, b) => a - b).map((c) => Math.min(c, rows.length)), rows.length];
        const parts = bounds.slice(1).map((end, i) => profileOf(rows.slice(bounds[i], end), `part-${i}`));
        expect(withoutRuns(mergeAllProfiles(parts))).toEqual(withoutRuns(profileOf(rows, 'whole')));
        expect(withoutRuns(mergeAllProfiles([...parts].reverse()))).toEqual(withoutRuns(profileOf(rows, 'whole')));
      }),
    );
  });

  it('refuses profiles of different baselines', () => {
    const a = new ProfileAccumulator(handBaseline).toProfile();
    const b = { ...a, baselineId: 'other' };
    expect(() => mergeProfiles(a, b)).toThrow(DriftError);
    expect(() => mergeProfiles(a, b)).toThrow('cannot merge profiles of different baselines (hand-made and other)');
    expect(() => mergeAllProfiles([])).toThrow('no run profiles to merge');
  });
});

describe('run profiles of bank-marketing', () => {
  let fixture: BankFixture;
  let baseline: DriftBaseline;

  beforeAll(async () => {
    fixture = await loadBankFixture();
    baseline = buildBankBaseline(fixture);
  });

  it('merged part profiles equal the one-shot profile of the holdout', () => {
    const rows = shiftRows(fixture.header, fixture.holdout);
    const third = Math.floor(rows.length / 3);
    const parts = [rows.slice(0, third), rows.slice(third, 2 * third), rows.slice(2 * third)].map((part, i) =>
      profileRows(fixture, baseline, part, `2026-11-2${i}`),
    );
    const whole = profileRows(fixture, baseline, rows, 'whole');

    const merged = mergeAllProfiles(parts);

    expect(withoutRuns(merged)).toEqual(withoutRuns(whole));
    expect(merged.runs).toEqual(['2026-11-20', '2026-11-21', '2026-11-22']);
    expect(merged.rows).toBe(fixture.holdout.length);
  });

  it('is a few kilobytes', () => {
    const profile = profileRows(fixture, baseline, fixture.holdout, 'holdout');
    expect(JSON.stringify(profile).length).toBeLessThan(8_000);
  });

  it('checks that the baseline was built for the fitted spec', () => {
    expect(() => assertBaselineFitsSpec(baseline, fixture.fitted)).not.toThrow();
    const reordered = { ...baseline, features: [...baseline.features].reverse() };
    expect(() => assertBaselineFitsSpec(reordered, fixture.fitted)).toThrow('baseline feature 0 is "poutcome" (categorical), the feature spec has "age"');
  });
});
