import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DRIFT_METRIC_DIMENSION, DRIFT_METRIC_NAMES as ALARMED_METRICS, DRIFT_METRIC_NAMESPACE as ALARMED_NAMESPACE } from '../../../infra/constructs/driftAlarms.js';
import { checkDrift, parseDriftOptions, type DriftReport } from '../../../functions/core/drift/checkDrift.js';
import { DRIFT_METRIC_DIMENSIONS, DRIFT_METRIC_NAMES, DRIFT_METRIC_NAMESPACE } from '../../../functions/core/drift/driftMetrics.js';
import { emitDriftMetrics } from '../../../functions/adapters/metrics/emitDriftMetrics.js';
import { DriftError } from '../../../functions/core/errors.js';
import { buildBankBaseline, loadBankFixture, profileRows, shiftRows } from './bankMarketingFixture.js';

interface EmfLine {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

/** Runs `act` and returns the EMF JSON lines it wrote to stdout. */
function captureEmf(act: () => void): EmfLine[] {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  try {
    act();
  } finally {
    spy.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

describe('emitDriftMetrics', () => {
  let shifted: DriftReport;
  let small: DriftReport;

  beforeAll(async () => {
    const fixture = await loadBankFixture();
    const baseline = buildBankBaseline(fixture);
    const rows = shiftRows(fixture.header, fixture.holdout);
    const profile = profileRows(fixture, baseline, rows, 'shifted', (p) => p >= 0.5);
    shifted = checkDrift(baseline, profile, parseDriftOptions(), { checkedAt: '2026-11-24T06:00:00.000Z' });
    small = checkDrift(baseline, profileRows(fixture, baseline, rows.slice(0, 100), 'small'), parseDriftOptions());
  });

  afterEach(() => vi.restoreAllMocks());

  it('writes the model-level metrics with exactly the dimension [model]', () => {
    const lines = captureEmf(() => expect(emitDriftMetrics(shifted)).toBe(17));

    const [modelLine] = lines;
    expect(modelLine!._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Propensity',
        Dimensions: [['model']],
        Metrics: [
          { Name: 'FeaturePsiMax', Unit: 'None' },
          { Name: 'DriftedFeatureShare', Unit: 'None' },
          { Name: 'ScorePsi', Unit: 'None' },
          { Name: 'EstimatedPrecision', Unit: 'None' },
        ],
      },
    ]);
    expect(modelLine).toMatchObject({
      model: 'bank-marketing',
      FeaturePsiMax: shifted.featurePsiMax,
      DriftedFeatureShare: 3 / 16,
      ScorePsi: shifted.score!.psi,
      EstimatedPrecision: shifted.performance.selection!.expectedPrecision,
    });
    expect(modelLine).not.toHaveProperty('service');
    expect(modelLine!.FeaturePsiMax).toBeGreaterThanOrEqual(0.25);
    expect(modelLine!.ScorePsi).toBeGreaterThanOrEqual(0.25);
  });

  it('writes one FeaturePsi line per feature with the dimensions [model, feature]', () => {
    const lines = captureEmf(() => emitDriftMetrics(shifted)).slice(1);

    expect(lines).toHaveLength(16);
    for (const line of lines) {
      expect(line._aws.CloudWatchMetrics).toEqual([{ Namespace: 'Propensity', Dimensions: [['model', 'feature']], Metrics: [{ Name: 'FeaturePsi', Unit: 'None' }] }]);
    }
    const published = Object.fromEntries(lines.map((line) => [line.feature as string, line.FeaturePsi]));
    expect(published).toEqual(Object.fromEntries(shifted.features.map((f) => [f.name, f.psi])));
    const flagged = lines.filter((line) => (line.FeaturePsi as number) >= 0.25).map((line) => line.feature);
    expect(flagged).toEqual(['age', 'job', 'balance']);
  });

  it('publishes nothing for a check without a verdict', () => {
    expect(small.status).toBe('insufficient-data');
    expect(captureEmf(() => expect(emitDriftMetrics(small)).toBe(0))).toEqual([]);
  });

  it('needs a model name', () => {
    expect(() => emitDriftMetrics({ ...shifted, model: null })).toThrow(DriftError);
    expect(() => emitDriftMetrics({ ...shifted, model: null })).toThrow('cannot publish drift metrics: the report names no model');
  });

  it('uses the names and namespace the CloudWatch alarms watch', () => {
    expect(DRIFT_METRIC_NAMESPACE).toBe(ALARMED_NAMESPACE);
    expect(DRIFT_METRIC_DIMENSIONS.model).toBe(DRIFT_METRIC_DIMENSION);
    expect(DRIFT_METRIC_NAMES).toMatchObject(ALARMED_METRICS);
  });
});
