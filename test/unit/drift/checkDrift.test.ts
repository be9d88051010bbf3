import { beforeAll, describe, expect, it } from 'vitest';
import { checkDrift, driftExitCode, parseDriftOptions } from '../../../functions/core/drift/checkDrift.js';
import type { DriftBaseline } from '../../../functions/core/drift/driftBaseline.js';
import type { RunProfile } from '../../../functions/core/drift/runProfile.js';
import { ConfigError, DriftError } from '../../../functions/core/errors.js';
import { buildBankBaseline, loadBankFixture, profileRows, shiftRows, type BankFixture } from './bankMarketingFixture.js';

const checkedAt = '2026-11-24T06:00:00.000Z';

describe('checkDrift on bank-marketing', () => {
  let fixture: BankFixture;
  let baseline: DriftBaseline;
  let holdout: RunProfile;
  let shifted: RunProfile;

  beforeAll(async () => {
    fixture = await loadBankFixture();
    baseline = buildBankBaseline(fixture);
    holdout = profileRows(fixture, baseline, fixture.holdout, 'holdout');
    shifted = profileRows(fixture, baseline, shiftRows(fixture.header, fixture.holdout), 'shifted');
  });

  it('finds no drift in an unshifted holdout of the same data', () => {
    const report = checkDrift(baseline, holdout, parseDriftOptions(), { checkedAt });

    expect(report.status).toBe('ok');
    expect(report.datasetDrift).toBe(false);
    expect(report.driftedFeatures).toEqual([]);
    expect(report.features.filter((f) => f.level !== 'ok')).toEqual([]);
    expect(report.featurePsiMax).toBeLessThan(0.1);
    expect(report.score?.level).toBe('ok');
    expect(driftExitCode(report)).toBe(0);
  });

  it('flags exactly age, job and balance in the shifted copy, and the score drift', () => {
    const report = checkDrift(baseline, shifted, parseDriftOptions(), { checkedAt });

    expect(report.driftedFeatures).toEqual(['age', 'job', 'balance']);
    expect(report.features.filter((f) => f.level !== 'ok').map((f) => f.name)).toEqual(['age', 'job', 'balance']);
    const byName = Object.fromEntries(report.features.map((f) => [f.name, f]));
    expect(byName.age!.causes).toEqual(['psi']);
    expect(byName.balance!.causes).toEqual(['psi']);
    expect(byName.job!.causes).toEqual(['psi', 'unseen']);
    // Every 10th row got the new job: 904 of 9,043 holdout rows.
    expect(byName.job!.unseenShare).toBeCloseTo(Math.ceil(fixture.holdout.length / 10) / fixture.holdout.length, 12);
    expect(report.driftedFeatureShare).toBeCloseTo(3 / 16, 12);
    expect(report.featurePsiMax).toBe(byName.age!.psi);
    expect(report.score?.level).toBe('alert');
    expect(report.score!.currentMean).toBeGreaterThan(report.score!.baselineMean);
    // Share 3/16 < 0.5 and none of duration, poutcome, month moved: no dataset drift, but prediction drift alerts.
    expect(report.datasetDrift).toBe(false);
    expect(report.status).toBe('alert');
    expect(report.reasons).toEqual([expect.stringMatching(/^prediction drift: score PSI \d\.\d{3} ≥ 0\.25$/)]);
    expect(driftExitCode(report)).toBe(3);
  });

  it('calls dataset drift when one of the three most important features drifted', () => {
    const ageFirst = buildBankBaseline(fixture, { age: 1, duration: 0.5, poutcome: 0.3 });
    const profile = profileRows(fixture, ageFirst, shiftRows(fixture.header, fixture.holdout), 'shifted');

    const report = checkDrift(ageFirst, profile, parseDriftOptions(), { checkedAt });

    expect(report.datasetDrift).toBe(true);
    expect(report.reasons[0]).toBe('"age", the no. 1 most important feature, drifted (psi)');
  });

  it('calls dataset drift when the share of drifted features reaches the configured share', () => {
    const report = checkDrift(baseline, shifted, parseDriftOptions({ driftedShare: 0.15 }), { checkedAt });
    expect(report.datasetDrift).toBe(true);
    expect(report.reasons[0]).toBe('3 of 16 features drifted (share 0.188 ≥ 0.15)');
  });

  it('honours per-feature thresholds and ignored features', () => {
    const options = parseDriftOptions({ features: { balance: { psiWarn: 5, psiAlert: 10 }, age: { ignore: true } } });

    const report = checkDrift(baseline, shifted, options, { checkedAt });

    expect(report.driftedFeatures).toEqual(['job']);
    expect(report.driftedFeatureShare).toBeCloseTo(1 / 15, 12);
    const balance = report.features.find((f) => f.name === 'balance')!;
    expect([balance.level, balance.psiWarn, balance.psiAlert]).toEqual(['ok', 5, 10]);
    expect(report.features.find((f) => f.name === 'age')).toMatchObject({ ignored: true, level: 'alert' });
  });

  it('gives no verdict below the minimum row count, only a warning', () => {
    const few = profileRows(fixture, baseline, shiftRows(fixture.header, fixture.holdout.slice(0, 400)), 'small');

    const report = checkDrift(baseline, few, parseDriftOptions(), { checkedAt });

    expect(report.status).toBe('insufficient-data');
    expect(report.datasetDrift).toBeNull();
    expect(report.warnings[0]).toBe('only 400 rows (minimum 500): figures are shown, but no verdict');
    expect(report.features.find((f) => f.name === 'age')!.level).toBe('alert');
    expect(driftExitCode(report)).toBe(0);
  });

  it('refuses a profile counted on another baseline', () => {
    const other = { ...holdout, baselineId: 'feedface' };
    expect(() => checkDrift(baseline, other)).toThrow(DriftError);
    expect(() => checkDrift(baseline, other)).toThrow(`the run profile was counted on baseline feedface, not on this bundle's baseline ${baseline.id}`);
  });
});

describe('checkDrift on missing values', () => {
  const baseline: DriftBaseline = {
    schemaVersion: 1,
    id: 'b',
    createdAt: checkedAt,
    rows: 1000,
    features: [{ name: 'tenure', kind: 'numeric', edges: [12], proportions: [0.5, 0.5], mean: 12, std: 6, min: 0, max: 60, missingRate: 0.02 }],
    featureImportance: {},
  };
  const profile = (counts: number[], missing: number): RunProfile => ({
    schemaVersion: 1,
    baselineId: 'b',
    runs: ['r'],
    rows: counts[0]! + counts[1]! + missing,
    features: [{ name: 'tenure', kind: 'numeric', counts, missing }],
    score: { counts: [0], histogram: { counts: new Array<number>(100).fill(0), sumMicros: new Array<number>(100).fill(0) } },
    selection: { contacts: 0, sumMicros: 0 },
  });

  it('flags a jump in the missing rate even when the non-missing values did not move', () => {
    const report = checkDrift(baseline, profile([400, 400], 200), parseDriftOptions(), { checkedAt });

    const tenure = report.features[0]!;
    expect(tenure.psi).toBeCloseTo(0, 12);
    expect(tenure.missingRate.current).toBeCloseTo(0.2, 12);
    expect(tenure.missingRate.change).toBeCloseTo(0.18, 12);
    expect([tenure.level, tenure.causes]).toEqual(['alert', ['missing-rate']]);
    // One feature of one drifted: the share rule fires.
    expect(report.datasetDrift).toBe(true);
    expect(report.warnings).toContain('the baseline has no score distribution: no prediction drift check');
  });
});

describe('parseDriftOptions', () => {
  it('fills the documented defaults', () => {
    expect(parseDriftOptions()).toMatchObject({ psiWarn: 0.1, psiAlert: 0.25, minRows: 500, driftedShare: 0.5, topFeatures: 3 });
  });

  it('names the key of an alert threshold below its warn threshold', () => {
    const error = (() => {
      try {
        parseDriftOptions({ features: { age: { psiAlert: 0.05 } } }, 'drift.json');
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', key: 'features.age.psiAlert', source: 'drift.json' });
    expect(error?.message).toBe('drift.json: features.age.psiAlert: alert threshold 0.05 is below the warn threshold 0.1');
  });

  it('names an unknown key', () => {
    expect(() => parseDriftOptions({ psiAlarm: 0.3 })).toThrow(ConfigError);
  });
});
