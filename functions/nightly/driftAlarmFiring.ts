import type { DriftReport } from '../core/drift/checkDrift.js';

/**
 * Whether a drift report's metrics breach a drift alarm: a feature or the score at alert level, or
 * dataset drift. The drift function says so in its result; the retrain function reads it back from
 * the report to apply the `onlyOnAlarm` policy.
 */
export function driftAlarmFiring(report: Pick<DriftReport, 'status' | 'driftedFeatures' | 'score'>): boolean {
  return report.status === 'alert' || report.driftedFeatures.length > 0 || report.score?.level === 'alert';
}
