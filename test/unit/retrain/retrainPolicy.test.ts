import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/core/errors.js';
import { championStack, ROLLBACK_PREFIX } from '../../../functions/core/retrain/championControl.js';
import { holdoutProfit } from '../../../functions/core/retrain/evaluateOnHoldout.js';
import { compareChallenger, parseRetrainPolicy, shouldRetrain, type ModelEvaluation } from '../../../functions/core/retrain/retrainPolicy.js';

const evaluation = (auc: number, ece: number, expectedProfit = 1000): ModelEvaluation => ({ auc, ece, expectedProfit, rows: 5000 });

describe('parseRetrainPolicy', () => {
  it('fills the documented defaults', () => {
    expect(parseRetrainPolicy()).toEqual({
      minNewLabels: 1000,
      onlyOnAlarm: false,
      metric: 'auc',
      minAucGain: 0.005,
      minProfitGain: 0.02,
      maxEceIncrease: 0.005,
    });
  });

  it('names the offending key', () => {
    let error: ConfigError | undefined;
    try {
      parseRetrainPolicy({ metric: 'f1' }, 'RETRAIN_POLICY');
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', key: 'metric', source: 'RETRAIN_POLICY' });
    expect(error?.message).toMatch(/^RETRAIN_POLICY: metric: /);
  });
});

describe('shouldRetrain', () => {
  it('waits for enough new labels', () => {
    expect(shouldRetrain({ newLabels: 999, alarmFiring: true }, parseRetrainPolicy())).toEqual({ retrain: false, reason: '999 new labels < 1000 needed' });
    expect(shouldRetrain({ newLabels: 1000, alarmFiring: false }, parseRetrainPolicy())).toEqual({ retrain: true, reason: '1000 new labels ≥ 1000' });
  });

  it('can also wait for an alarm', () => {
    const policy = parseRetrainPolicy({ onlyOnAlarm: true });
    expect(shouldRetrain({ newLabels: 5000, alarmFiring: false }, policy).retrain).toBe(false);
    expect(shouldRetrain({ newLabels: 5000, alarmFiring: true }, policy)).toEqual({ retrain: true, reason: '5000 new labels ≥ 1000 and an alarm is firing' });
  });
});

describe('compareChallenger', () => {
  const policy = parseRetrainPolicy();

  it('promotes a challenger better by the margin and not worse on calibration', () => {
    const decision = compareChallenger(evaluation(0.78, 0.02), evaluation(0.79, 0.022), policy);
    expect(decision).toMatchObject({ promote: true, metric: 'auc', champion: 0.78, challenger: 0.79, requiredGain: 0.005 });
    expect(decision.gain).toBeCloseTo(0.01, 12);
    expect(decision.reason).toBe('better: AUC 0.7900 vs 0.7800 (gain 0.0100, needed 0.0050); ECE 0.0220 vs 0.0200');
  });

  it('refuses a challenger that is better by less than the margin', () => {
    const decision = compareChallenger(evaluation(0.78, 0.02), evaluation(0.783, 0.01), policy);
    expect(decision.promote).toBe(false);
    expect(decision.reason).toBe('refused: AUC 0.7830 vs 0.7800 (gain 0.0030, needed 0.0050)');
  });

  it('refuses a better challenger that is worse calibrated', () => {
    const decision = compareChallenger(evaluation(0.78, 0.02), evaluation(0.8, 0.04), policy);
    expect(decision.promote).toBe(false);
    expect(decision.reason).toBe('refused: worse calibration, ECE 0.0400 vs 0.0200 (tolerance 0.005); AUC 0.8000 vs 0.7800 (gain 0.0200, needed 0.0050)');
  });

  it('judges expected profit by a share of the champion\'s profit', () => {
    const byProfit = parseRetrainPolicy({ metric: 'expectedProfit', minProfitGain: 0.05 });
    expect(compareChallenger(evaluation(0.8, 0.02, 1000), evaluation(0.7, 0.02, 1040), byProfit)).toMatchObject({ promote: false, requiredGain: 50 });
    expect(compareChallenger(evaluation(0.8, 0.02, 1000), evaluation(0.7, 0.02, 1060), byProfit)).toMatchObject({ promote: true, gain: 60 });
  });

  it('promotes the first model of a name', () => {
    expect(compareChallenger(null, evaluation(0.7, 0.05), policy)).toMatchObject({ promote: true, reason: 'no champion yet; challenger AUC 0.7000' });
  });
});

describe('holdoutProfit', () => {
  it('contacts the profitable customers, best first, and counts who responded', () => {
    // cost 10: expected values 0.9·100−10=80, 0.5·100−10=40, 0.05·100−10=−5 (not contacted)
    const profit = holdoutProfit([0.5, 0.9, 0.05], [0, 1, 1], [100, 100, 100], { maxContacts: null, minProbability: null, profitableOnly: true, costPerContact: 10 }, 5);
    expect(profit).toBe(100 - 10 - 10 - 5);
    const capped = holdoutProfit([0.5, 0.9, 0.05], [0, 1, 1], [100, 100, 100], { maxContacts: 1, minProbability: null, profitableOnly: true, costPerContact: 10 }, 5);
    expect(capped).toBe(100 - 10 - 5);
  });
});

describe('championStack', () => {
  it('replays promotions and rollbacks', () => {
    const history = [
      { version: 'a', reason: 'first' },
      { version: 'b', reason: 'retrained' },
      { version: 'c', reason: 'retrained' },
      { version: 'b', reason: `${ROLLBACK_PREFIX}bad week (from c)` },
    ];
    expect(championStack(history)).toEqual(['a', 'b']);
  });
});
