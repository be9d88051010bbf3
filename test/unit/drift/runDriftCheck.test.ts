import { beforeAll, describe, expect, it } from 'vitest';
import { checkDrift, parseDriftOptions } from '../../../functions/core/drift/checkDrift.js';
import type { DriftBaseline } from '../../../functions/core/drift/driftBaseline.js';
import { formatDriftReport } from '../../../functions/core/drift/formatDriftReport.js';
import { driftReportKeys, runDriftCheck, selectRecentProfiles, type ProfileSource } from '../../../functions/core/drift/runDriftCheck.js';
import { ConfigError, DriftError } from '../../../functions/core/errors.js';
import { buildBankBaseline, loadBankFixture, profileRows, shiftRows, type BankFixture, type Row } from './bankMarketingFixture.js';

const now = new Date('2026-11-24T06:00:00.000Z');

function errorOf(act: () => unknown): Error | undefined {
  try {
    act();
  } catch (e) {
    return e as Error;
  }
  return undefined;
}

describe('runDriftCheck and formatDriftReport on bank-marketing', () => {
  let fixture: BankFixture;
  let baseline: DriftBaseline;
  let shiftedRows: Row[];
  let parts: ProfileSource[];

  beforeAll(async () => {
    fixture = await loadBankFixture();
    baseline = JSON.parse(JSON.stringify(buildBankBaseline(fixture))) as DriftBaseline;
    shiftedRows = shiftRows(fixture.header, fixture.holdout);
    parts = [shiftedRows.slice(0, 4000), shiftedRows.slice(4000)].map((rows, i) => ({
      source: `outputs/bank-marketing/run-${i}/profile.json`,
      profile: JSON.parse(JSON.stringify(profileRows(fixture, baseline, rows, `run-${i}`, (p) => p >= 0.4))) as unknown,
    }));
  });

  it('merges the runs and reports what a check of all their rows at once reports', () => {
    const result = runDriftCheck({ baseline, profiles: parts, model: 'bank-marketing', modelVersion: 'v1', now });

    const oneShot = checkDrift(baseline, profileRows(fixture, baseline, shiftedRows, 'all', (p) => p >= 0.4), parseDriftOptions(), {
      checkedAt: now.toISOString(),
    });
    expect(result.report.features).toEqual(oneShot.features);
    expect(result.report.score).toEqual(oneShot.score);
    expect(result.report).toMatchObject({ status: 'alert', runs: ['run-0', 'run-1'], rows: fixture.holdout.length, checkedAt: now.toISOString() });
    expect(result.exitCode).toBe(3);
    expect(result.skipped).toEqual([]);
  });

  it('prints a headline, the reasons, and a table with the drifted features first', () => {
    const { report, summary } = runDriftCheck({ baseline, profiles: parts, model: 'bank-marketing', modelVersion: 'v1', now });
    const lines = summary.split('\n');

    expect(lines.slice(0, 4)).toEqual([
      `Drift check: bank-marketing v1, baseline ${baseline.id}, 2026-11-24T06:00:00.000Z`,
      `Runs: 2 (run-0, run-1), ${fixture.holdout.length.toLocaleString('en-US')} rows`,
      'Status: ALERT',
      `  - prediction drift: score PSI ${report.score!.psi.toFixed(3)} ≥ 0.25`,
    ]);
    const header = lines.findIndex((l) => l.startsWith('feature'));
    const rows = lines.slice(header + 1, header + 18).map((l) => l.split(/\s{2,}/));
    expect(rows.slice(0, 3).map((r) => [r[0], r.at(-1)])).toEqual([
      ['age', 'ALERT (psi)'],
      ['job', 'ALERT (psi, unseen)'],
      ['balance', 'ALERT (psi)'],
    ]);
    const age = report.features.find((f) => f.name === 'age')!;
    expect(rows[0]![3]).toBe(age.psi!.toFixed(3));
    expect(rows[16]![0]).toBe('(score)');
    expect(rows.slice(3, 16).every((r) => r.at(-1) === 'ok')).toBe(true);
    expect(summary).toContain('Drifted features: age, job, balance (share 0.188)');
    expect(summary).toMatch(/selection of [\d,]+: precision \d+\.\d %, recall \d+\.\d %/);
  });

  it('says there is no verdict below the minimum row count', () => {
    const profiles = [{ source: 'small/profile.json', profile: profileRows(fixture, baseline, shiftedRows.slice(0, 300), 'small') }];

    const { report, summary, exitCode } = runDriftCheck({ baseline, profiles, model: 'bank-marketing', now });

    expect(report.status).toBe('insufficient-data');
    expect(exitCode).toBe(0);
    expect(summary.split('\n')[2]).toBe('Status: NO VERDICT');
    expect(summary).toContain('Warnings:\n  - only 300 rows (minimum 500): figures are shown, but no verdict');
    expect(formatDriftReport(report)).toBe(summary);
  });

  it('leaves out profiles of another baseline, with a warning', () => {
    const stale = { source: 'outputs/bank-marketing/old/profile.json', profile: { ...(parts[0]!.profile as object), baselineId: 'older' } };

    const result = runDriftCheck({ baseline, profiles: [...parts, stale], model: 'bank-marketing', now });

    expect(result.skipped).toEqual(['outputs/bank-marketing/old/profile.json']);
    expect(result.report.rows).toBe(fixture.holdout.length);
    expect(result.report.warnings.at(-1)).toBe('1 profile(s) of another baseline left out: outputs/bank-marketing/old/profile.json');
  });

  it('names the file of an invalid profile', () => {
    const broken = { source: 'run-9/profile.json', profile: { ...(parts[0]!.profile as object), rows: -1 } };
    const error = errorOf(() => runDriftCheck({ baseline, profiles: [broken] }));
    expect(error).toBeInstanceOf(DriftError);
    expect(error).toMatchObject({ code: 'DRIFT_INPUT_INVALID' });
    expect(error?.message).toMatch(/^run-9\/profile\.json: rows: /);
  });

  it('refuses a bundle without baseline, no profiles, and profiles none of which fit', () => {
    expect(errorOf(() => runDriftCheck({ baseline: undefined, profiles: parts, model: 'bank-marketing' }))?.message).toBe(
      'the model bundle bank-marketing has no drift baseline',
    );
    expect(errorOf(() => runDriftCheck({ baseline, profiles: [] }))?.message).toBe('no run profiles to check: score some extracts first');
    const other = parts.map((p) => ({ ...p, profile: { ...(p.profile as object), baselineId: 'older' } }));
    expect(errorOf(() => runDriftCheck({ baseline, profiles: other }))?.message).toBe(
      `none of the 2 run profiles was counted on the bundle's baseline ${baseline.id} (they belong to another model version)`,
    );
  });

  it('validates the options', () => {
    const error = errorOf(() => runDriftCheck({ baseline, profiles: parts, options: { minRows: -5 } }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', key: 'minRows' });
  });
});

describe('driftReportKeys', () => {
  it('writes drift/<model>/<date>', () => {
    expect(driftReportKeys('bank-marketing', now)).toEqual({
      report: 'drift/bank-marketing/2026-11-24.json',
      summary: 'drift/bank-marketing/2026-11-24.txt',
      html: 'drift/bank-marketing/2026-11-24.html',
      retrain: 'drift/bank-marketing/2026-11-24.retrain.json',
      realized: 'drift/bank-marketing/2026-11-24.realized.json',
    });
  });
});

describe('selectRecentProfiles', () => {
  it('keeps the model\'s run profiles written since the cut-off, newest first', () => {
    const at = (day: number) => new Date(Date.UTC(2026, 10, day));
    const objects = [
      { key: 'outputs/bank-marketing/r1/profile.json', lastModified: at(10) },
      { key: 'outputs/bank-marketing/r2/profile.json', lastModified: at(20) },
      { key: 'outputs/bank-marketing/r3/profile.json', lastModified: at(22) },
      { key: 'outputs/bank-marketing/r3/scores.csv', lastModified: at(22) },
      { key: 'outputs/bank-marketing-eu/r4/profile.json', lastModified: at(22) },
      { key: 'outputs/bank-marketing/r5/part/profile.json', lastModified: at(22) },
    ];
    expect(selectRecentProfiles(objects, { model: 'bank-marketing', since: at(17) })).toEqual([
      'outputs/bank-marketing/r3/profile.json',
      'outputs/bank-marketing/r2/profile.json',
    ]);
    expect(selectRecentProfiles(objects, { model: 'bank-marketing', since: at(1), limit: 1 })).toEqual(['outputs/bank-marketing/r3/profile.json']);
  });
});
